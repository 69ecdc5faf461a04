"""Email over SMTP to a real SMTP server process (aiosmtpd), on both backends: Chinese subject
and body, plain text and HTML; the intent recorded before each send and the outcome after; an
SMTP server down for 30 s is retried with backoff and nothing is lost or sent twice."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from smtp_support import free_port, smtp_server

from eventspine.config import Settings
from feedback_driver import MovableClock
from notify.settings import NotifySettings
from notify_driver import at, link, member, notify_app, unit
from reports_driver import city
from support.auth import as_member

pytestmark = pytest.mark.integration


def mail_settings(port: int, **extra: object) -> NotifySettings:
    return NotifySettings.model_validate(
        {
            "scheduler_enabled": False,
            "smtp_host": "127.0.0.1",
            "smtp_port": port,
            "smtp_timeout_seconds": 2,
            "retry_base_seconds": 5,
            "retry_max_seconds": 60,
            "frontend_url": "https://15510.example.org",
            **extra,
        }
    )


async def test_a_digest_by_email_and_an_outage_of_30_seconds(
    backend: Settings, tmp_path: Path
) -> None:
    clock = MovableClock(at(2026, 1, 20))
    with smtp_server(tmp_path) as smtp:
        config = mail_settings(smtp.port)
        async with city(backend, clock) as c, notify_app(backend, clock, config) as n:
            federation = await unit(c, "阳泉市总工会", "city_federation", None)
            leader = await member(c, federation, "leader", "张永忠")
            committee = await member(c, federation, "committee", "吴芳洋")
            await link(c, leader, committee, date(2025, 6, 1))
            chosen = await n.http.post(
                "/me/preferences",
                json={"email": "zhang@example.org", "digests": True},
                headers=as_member(str(leader)),
            )
            assert chosen.status_code == 200, chosen.text

            assert await n.tick(c, at(2026, 2, 2, 9)) == (1, 1)
            [first] = smtp.messages()
            assert first["Subject"] == "联系提醒：还需联系 1 人"
            assert first["To"] == "zhang@example.org"
            [mine] = (await n.of(leader))["data"]
            assert first["Message-ID"] == f"<{mine['notification_id']}@notify.sanlian>"
            plain = first.get_body(("plain",))
            html = first.get_body(("html",))
            assert plain is not None
            assert html is not None
            assert plain.get_content().startswith("本年度还剩 332 天：还需联系 1 人共 2 次")
            assert "https://15510.example.org/contacts" in plain.get_content()
            assert "<h1>联系提醒：还需联系 1 人</h1>" in html.get_content()
            types = [e.event_type for e in await n.wired.store.read_all(0, 100)]
            assert types == [
                "PreferencesSet",
                "NotificationIssued",
                "DeliveryAttempted",
                "DeliveryHandedOver",  # the envelope taken, the data about to go
                "NotificationDelivered",
            ]
            assert await n.tick(c, at(2026, 2, 2, 10)) == (0, 0)  # sent once
            assert len(smtp.messages()) == 1

            # The SMTP server goes down for 30 s, just as the March digest is due.
            smtp.stop()
            start = at(2026, 3, 2, 9)
            for second in range(30):
                await n.tick(c, start + timedelta(seconds=second))
            outbox = (await n.http.get("/deliveries", params={"status": "pending"})).json()
            [waiting] = outbox["data"]
            assert waiting["attempts"] == 3  # at 0 s, after 5 s, after 10 more
            assert waiting["reason"].startswith("smtp unavailable")
            smtp.start()
            for second in range(30, 40):
                await n.tick(c, start + timedelta(seconds=second))
            messages = smtp.messages()
            assert len(messages) == 2  # none lost, none twice
            assert len({m["Message-ID"] for m in messages}) == 2
            delivered = (await n.http.get("/deliveries", params={"status": "delivered"})).json()
            assert delivered["count"] == 2
            assert (await n.http.get("/deliveries", params={"status": "pending"})).json()[
                "count"
            ] == 0


async def test_a_send_that_keeps_failing_becomes_a_permanent_failure_shown_to_staff(
    tmp_path: Path,
) -> None:
    backend = Settings(store_backend="sqlite", sqlite_dir=str(tmp_path))
    clock = MovableClock(at(2026, 1, 20))
    config = mail_settings(free_port(), max_attempts=2)  # nobody listens there
    async with city(backend, clock) as c, notify_app(backend, clock, config) as n:
        federation = await unit(c, "阳泉市总工会", "city_federation", None)
        leader = await member(c, federation, "leader", "张永忠")
        committee = await member(c, federation, "committee", "吴芳洋")
        await link(c, leader, committee, date(2025, 6, 1))
        await n.http.post(
            "/me/preferences",
            json={"email": "zhang@example.org"},
            headers=as_member(str(leader)),
        )
        start = at(2026, 2, 2, 9)
        for second in range(0, 20):
            await n.tick(c, start + timedelta(seconds=second))
        failed = (await n.http.get("/deliveries", params={"status": "failed"})).json()
        [gone] = failed["data"]
        assert gone["attempts"] == 2
        assert gone["member_id"] == str(leader)
        types = [e.event_type for e in await n.wired.store.read_all(0, 100)]
        assert types.count("DeliveryFailed") == 2
        assert types[-1] == "DeliveryFailed"
        refused = await n.http.post(
            "/me/preferences", json={"email": "not-an-address"}, headers=as_member(str(leader))
        )
        assert refused.status_code == 422
        assert [e["field"] for e in refused.json()["errors"]] == ["email"]
