"""Exactly once at the SMTP server, on both backends: a send cut off (the process killed)
before its data was handed to the server is sent again, once, whatever the policy; one cut off
after the server took the data is in doubt: ``in_doubt=resend`` sends it again under the same
Message-ID, ``in_doubt=hold`` never sends it twice and records it as failed for good, for
staff. The cut-offs are made at the exact step, with the sender's own calls."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import pytest
from smtp_support import smtp_server
from test_notify_email import mail_settings

from eventspine.config import Settings
from eventspine.store.base import CommandContext
from feedback_driver import MovableClock
from notify.handlers import SCHEDULER_ACTOR
from notify.mail import compose, message_id
from notify_driver import at, link, member, notify_app, unit
from reports_driver import city
from support.auth import as_member


@pytest.mark.integration
@pytest.mark.parametrize("policy", ["hold", "resend"])
async def test_a_send_cut_off_is_resent_only_when_it_may_not_have_arrived_or_policy_says(
    backend: Settings, tmp_path: Path, policy: str
) -> None:
    clock = MovableClock(at(2026, 1, 20))
    with smtp_server(tmp_path) as smtp:
        config = mail_settings(smtp.port, in_doubt=policy)
        async with city(backend, clock) as c, notify_app(backend, clock, config) as n:
            federation = await unit(c, "阳泉市总工会", "city_federation", None)
            before = await member(c, federation, "committee", "李卫国")
            after = await member(c, federation, "committee", "吴芳洋")
            for upper in (before, after):
                lower = await member(c, federation, "representative", f"代表{upper.hex[:4]}")
                await link(c, upper, lower, date(2025, 6, 1))
                chosen = await n.http.post(
                    "/me/preferences",
                    json={"email": f"{upper.hex[:8]}@example.org", "digests": True},
                    headers=as_member(str(upper)),
                )
                assert chosen.status_code == 200, chosen.text
            t = at(2026, 2, 2, 9)
            c.clock.now = t
            await c.sync()
            assert await n.wired.feed.catch_up(60.0)
            wired = n.wired
            ctx = CommandContext(actor=SCHEDULER_ACTOR, correlation_id=uuid.uuid4())
            assert await wired.scheduler.contacts(t, ctx) == 2  # issued, not sent
            await wired.catch_up()
            nid = {
                m: uuid.UUID((await n.of(m))["data"][0]["notification_id"]) for m in (before, after)
            }
            sender, handlers = wired.scheduler.sender, wired.handlers

            # Cut off after the intent, before the envelope: nothing can be at the server.
            assert await handlers.begin_attempt(nid[before], "email", t, sender.lease, ctx)
            # Cut off after the server took the data, before the outcome was recorded.
            begun = await handlers.begin_attempt(nid[after], "email", t, sender.lease, ctx)
            assert begun is not None
            state, attempt = begun
            address = f"{after.hex[:8]}@example.org"

            async def handed_over() -> None:
                await handlers.handed_over(
                    nid[after], "email", attempt, t, state.version, message_id(nid[after]), ctx
                )

            mail = compose(nid[after], config.mail_from, address, "联系提醒", "还需联系", t)
            await sender.mailer.send(mail, handed_over)
            await wired.catch_up()
            assert len(smtp.messages()) == 1

            # Within the lease another sender may still be at it: nothing is sent.
            assert await n.tick(c, t + timedelta(seconds=1)) == (0, 0)
            await n.tick(c, t + sender.lease + timedelta(seconds=1))
            await n.tick(c, t + sender.lease + timedelta(seconds=2))
            ids = Counter(m["Message-ID"] for m in smtp.messages())
            assert ids[message_id(nid[before])] == 1  # resent once: it had not arrived
            failed = (await n.http.get("/deliveries", params={"status": "failed"})).json()
            if policy == "hold":
                assert ids[message_id(nid[after])] == 1  # never twice
                [held] = failed["data"]
                assert held["notification_id"] == str(nid[after])
                assert held["reason"].startswith("in doubt")
            else:
                assert ids[message_id(nid[after])] == 2  # again, under the same Message-ID
                assert failed["count"] == 0
                delivered = (await n.http.get("/deliveries", params={"status": "delivered"})).json()
                assert delivered["count"] == 2
            events = [e.event_type for e in await wired.store.read_all(0, 200)]
            assert events.count("DeliveryHandedOver") == (2 if policy == "hold" else 3)
