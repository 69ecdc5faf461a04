"""The staff's monthly digest per unit, on both backends: to each staff account that takes the
unit's digest, on its notifications page and by email (a real SMTP server process) when it
chose one, naming the members most behind; once a month; not to staff who did not choose the
unit; a unit without a group robot gets it all the same."""

from __future__ import annotations

import uuid
from datetime import date
from pathlib import Path

import pytest
from smtp_support import smtp_server
from test_notify_email import mail_settings

from eventspine.config import Settings
from feedback_driver import MovableClock
from notify_driver import at, link, member, notify_app, unit
from reports_driver import city
from support.auth import as_member, token

pytestmark = pytest.mark.integration


def staff(account_id: uuid.UUID) -> dict[str, str]:
    """Headers of a staff account (federation staff have no member)."""
    return {"Authorization": f"Bearer {token('admin', account_id=account_id)}"}


async def test_a_units_monthly_digest_reaches_the_staff_who_take_it(
    backend: Settings, tmp_path: Path
) -> None:
    clock = MovableClock(at(2026, 1, 20))
    with smtp_server(tmp_path) as smtp:
        async with (
            city(backend, clock) as c,
            notify_app(backend, clock, mail_settings(smtp.port), roster=c.roster_app) as n,
        ):
            federation = await unit(c, "阳泉市总工会", "city_federation", None)
            county = await unit(c, "盂县总工会", "county_union", federation)
            leader = await member(c, federation, "leader", "张永忠")
            committee = await member(c, county, "committee", "李卫国")
            rep = await member(c, county, "representative", "张东峰")
            await link(c, leader, committee, date(2025, 6, 1))
            await link(c, committee, rep, date(2025, 6, 1))
            by_email, on_page, elsewhere = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
            choices = {
                by_email: {"email": "staff@example.org", "units": [str(county)]},
                on_page: {"email": None, "units": [str(county)]},
                elsewhere: {"units": [str(federation)]},
            }
            for account, body in choices.items():
                answer = await n.http.post(
                    "/me/staff-preferences", json=body, headers=staff(account)
                )
                assert answer.status_code == 200, answer.text
            mine = await n.http.get("/me/staff-preferences", headers=staff(by_email))
            assert mine.json() == {"email": "staff@example.org", "units": [str(county)]}
            refused = await n.http.post(
                "/me/staff-preferences", json={"email": "not an address"}, headers=staff(on_page)
            )
            assert refused.status_code == 422
            assert "email" in refused.text
            members_may_not = await n.http.post(
                "/me/staff-preferences", json={"units": []}, headers=as_member(str(leader))
            )
            assert members_may_not.status_code == 403

            # 2 members' digests, the county's digest to two staff, the federation's to one;
            # one email (the other staff chose none).
            assert await n.tick(c, at(2026, 2, 2, 9)) == (5, 1)
            [mail] = smtp.messages()
            assert mail["To"] == "staff@example.org"
            assert mail["Subject"] == "盂县总工会联系月报"
            plain = mail.get_body(("plain",))
            html = mail.get_body(("html",))
            assert plain is not None
            assert html is not None
            line = "1. 李卫国（全委会委员）：还需联系 1 人共 2 次"
            assert line in plain.get_content()
            assert line in html.get_content()
            assert "本单位 1 名成员还需联系 1 人共 2 次" in plain.get_content()

            for account in (by_email, on_page):
                listed = (await n.http.get("/me/notifications", headers=staff(account))).json()
                [digest] = listed["data"]
                assert digest["kind"] == "unit_digest"
                assert digest["title"] == "盂县总工会联系月报"
                assert line in digest["text"]
                assert listed["unread"] == 1
            [other] = (await n.http.get("/me/notifications", headers=staff(elsewhere))).json()[
                "data"
            ]
            assert other["title"] == "阳泉市总工会联系月报"
            assert "1. 张永忠（班子成员）" in other["text"]

            # Read on the page; once a month.
            [digest] = (await n.http.get("/me/notifications", headers=staff(on_page))).json()[
                "data"
            ]
            nid = digest["notification_id"]
            read = await n.http.post(f"/me/notifications/{nid}/read", headers=staff(on_page))
            assert read.status_code == 200, read.text
            assert (await n.http.get("/me/unread", headers=staff(on_page))).json() == {"unread": 0}
            theirs = await n.http.post(f"/me/notifications/{nid}/read", headers=staff(by_email))
            assert theirs.status_code == 403
            assert await n.tick(c, at(2026, 2, 2, 10)) == (0, 0)
            assert len(smtp.messages()) == 1
            issued = [
                e.event_type
                for e in await n.wired.store.read_all(0, 500)
                if e.event_type.endswith("Issued")
            ]
            assert issued.count("StaffNotificationIssued") == 3
