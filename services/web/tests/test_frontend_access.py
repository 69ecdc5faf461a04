"""The frontend's sign-in against the services' access control, in process (no browser): a
token the services stop accepting sends the user back to the sign-in form with a message,
and each role sees its own pages."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from eventspine.config import Settings
from support.auth import STAFF
from support.city import embedded_city
from web.embedded import create_app

PASSWORD = "Sanlian-15510-access"


class Clock:
    """A clock the test moves (the services check token expiry against it)."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, html[:500]
    return found.group(1)


async def sign_in(client: httpx.AsyncClient, username: str) -> None:
    client.cookies.clear()  # a fresh session, as in a new browser
    form = await client.get("/login")
    answer = await client.post(
        "/login",
        data={"username": username, "password": PASSWORD, "csrf_token": csrf(form.text)},
    )
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == "/"


async def system_client_gets_a_token(admin: httpx.AsyncClient, form_token: str) -> None:
    """The admin opens a system client's account through the form and issues its token,
    which reads what its scope names and nothing else."""
    opened = await admin.post(
        "/accounts",
        data={"username": "city-data", "role": "system", "scopes": "roster:read"}
        | {"csrf_token": form_token},
    )
    assert opened.status_code == 303, opened.text
    listed = (await admin.get("/roster/accounts", headers=STAFF)).json()["data"]
    system = next(a for a in listed if a["username"] == "city-data")
    assert system["scopes"] == ["roster:read"]
    issued = await admin.post(
        f"/accounts/{system['account_id']}/token", data={"csrf_token": form_token, "days": "30"}
    )
    assert issued.status_code == 200
    found = re.search(r'<textarea id="issued-token"[^>]*>([^<]+)</textarea>', issued.text)
    assert found, issued.text
    headers = {"Authorization": f"Bearer {found[1].strip()}"}
    assert (await admin.get("/roster/units", headers=headers)).status_code == 200
    assert (await admin.get("/feedback/departments", headers=headers)).status_code == 403


async def test_roles_see_their_own_pages_and_an_expired_token_asks_to_sign_in_again(
    tmp_path: Path,
) -> None:
    clock = Clock()
    app = create_app(Settings(sqlite_dir=str(tmp_path)), clock)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://sanlian") as setup:
            for username, role in (("chair", "admin"), ("reader", "auditor")):
                made = await setup.post(
                    "/roster/accounts",
                    headers=STAFF,
                    json={"username": username, "password": PASSWORD, "role": role},
                )
                assert made.status_code == 201, made.text

        async with httpx.AsyncClient(transport=transport, base_url="http://sanlian") as admin:
            await sign_in(admin, "chair")
            page = await admin.get("/accounts")
            assert page.status_code == 200
            assert 'href="/accounts"' in page.text
            assert 'href="/history"' in page.text
            assert "reader" in page.text  # the list of accounts
            assert 'href="/my-contacts"' not in page.text  # an admin has no links of their own
            await system_client_gets_a_token(admin, csrf(page.text))

            # Tokens live 8 hours by default: past that, every service answers 401.
            clock.now += timedelta(hours=9)
            expired = await admin.get("/dashboard")
            assert expired.status_code == 303
            assert expired.headers["location"] == "/login?next=/dashboard&again=1"
            again = await admin.get(expired.headers["location"])
            assert "登录已失效，请重新登录。" in again.text
            assert (await admin.get("/dashboard")).headers["location"] == "/login?next=/dashboard"
            clock.now -= timedelta(hours=9)

        async with httpx.AsyncClient(transport=transport, base_url="http://sanlian") as auditor:
            await sign_in(auditor, "reader")
            dashboard = await auditor.get("/dashboard")
            assert dashboard.status_code == 200
            assert 'href="/history"' in dashboard.text
            assert 'href="/accounts"' not in dashboard.text
            for path in ("/accounts", "/directory/import", "/my-contacts"):
                refused = await auditor.get(path)
                assert refused.status_code == 403, path
                assert "您无权打开此页面。" in refused.text, path


async def test_a_refusal_by_the_services_is_said_in_words(tmp_path: Path) -> None:
    async with embedded_city(tmp_path) as (client, a, b):
        member = {
            "username": "rep-a",
            "password": PASSWORD,
            "role": "member",
            "member_id": a.members["representative"],
        }
        auditor = {"username": "reader", "password": PASSWORD, "role": "auditor"}
        for account in (member, auditor):
            made = await client.post("/roster/accounts", headers=STAFF, json=account)
            assert made.status_code == 201, made.text

        # A member opening a suggestion of another branch: the feedback service refuses.
        await sign_in(client, "rep-a")
        own = await client.get(f"/suggestions/{a.suggestions[0]}")
        assert own.status_code == 200
        assert "希望培训职工代表" in own.text
        other = await client.get(f"/suggestions/{b.suggestions[0]}")
        assert other.status_code == 403
        assert other.text.count("这不在您负责的联系范围内。") == 1  # said once, in words

        # An auditor sees the suggestion but is offered no step; one sent anyway is refused
        # on the page, in words.
        await sign_in(client, "reader")
        page = await client.get(f"/suggestions/{a.suggestions[0]}")
        assert page.status_code == 200
        assert 'method="post" action="/suggestions/' not in page.text
        refused = await client.post(
            f"/suggestions/{a.suggestions[0]}/acknowledge",
            data={"csrf_token": csrf(page.text), "key": str(uuid.uuid4())},
        )
        assert refused.status_code == 200  # the page again, with the refusal on top
        assert '<div class="alert" role="alert">' in refused.text
        assert "您的账号只能查看，不能修改。" in refused.text  # the code, said in words
