"""The raiser and the worker a suggestion was raised for, on both backends: when it is
answered both are told, each in their own words, on their 待办 and by email (a real SMTP
server process) where they chose one; a worker who raised one by an intake link and whose
phone the roster knows is told to look it up by their receipt code; a worker whose phone the
roster does not know has no channel but the receipt code, and no one else is told for them."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from smtp_support import smtp_server
from test_notify_email import mail_settings

from eventspine.config import Settings
from feedback_driver import MovableClock
from notify_driver import at, chain, member, notify_app
from reports_driver import city
from support.auth import as_member

pytestmark = pytest.mark.integration


def outcome(items: list[dict[str, Any]], sid: str) -> list[dict[str, Any]]:
    return [i for i in items if i["kind"] == "suggestion_answered" and i["subject"] == sid]


async def test_the_raiser_and_the_worker_are_told_of_the_answer(
    backend: Settings, tmp_path: Path
) -> None:
    t0 = at(2026, 3, 2, 10)
    clock = MovableClock(t0)
    with smtp_server(tmp_path) as smtp:
        async with (
            city(backend, clock) as c,
            notify_app(backend, clock, mail_settings(smtp.port), roster=c.roster_app) as n,
        ):
            federation, leader, committee, rep, worker = await chain(c)
            scanned = await member(c, federation, "worker", "赵师傅", "13900001111")
            for who, address in ((worker, "wang@example.org"), (rep, "zhang@example.org")):
                chosen = await n.http.post(
                    "/me/preferences", json={"email": address}, headers=as_member(str(who))
                )
                assert chosen.status_code == 200, chosen.text
            await c.sync()
            fb = c.feedback
            # The representative raises it for his worker and answers it at once.
            sid = await fb.raise_(
                str(rep),
                "井下班组希望增加安全培训",
                on_behalf_of=str(worker),
                then="answer",
                answer="市总工会将举办安全培训班。",
            )
            issued = await fb.ok("POST", "/intake-links", str(rep), json={})
            for phone, text in (("13900001111", "更衣室没有热水"), ("13700002222", "食堂太远")):
                sent = await fb.client.post(
                    f"/intake/{issued['link']['token']}/suggestions",
                    json={"text": text, "category": "safety", "phone": phone},
                    headers={"Authorization": ""},
                )
                assert sent.status_code == 201, sent.text
            inbox = await fb.ok("GET", f"/members/{rep}/inbox")
            by_text = {s["text"]: s["suggestion_id"] for s in inbox["data"]}
            matched, unknown = by_text["更衣室没有热水"], by_text["食堂太远"]

            await n.tick(c, t0 + timedelta(minutes=1))
            arrived = [
                i["subject"] for i in (await n.of(rep))["data"] if i["kind"] == "suggestion_arrived"
            ]
            assert sorted(arrived) == sorted([sid, matched, unknown])  # intake ones too

            for each in (matched, unknown):
                await fb.act(str(rep), each, "acknowledgement")
                await fb.act(str(rep), each, "answer", answer="市总工会将举办安全培训班。")
            await n.tick(c, t0 + timedelta(minutes=5))
            await n.tick(c, t0 + timedelta(minutes=6))  # once

            [raiser] = outcome((await n.of(rep))["data"], sid)
            assert raiser["title"] == "您的意见建议已答复"
            [for_worker] = outcome((await n.of(worker))["data"], sid)
            assert for_worker["title"] == "为您反映的意见建议已答复"
            assert f"/suggestions/{sid}" in for_worker["text"]
            [by_link] = (await n.of(scanned))["data"]
            assert by_link["subject"] == matched
            assert by_link["title"] == "您的意见建议已答复"
            assert "凭回执码" in by_link["text"]
            assert by_link["text"].endswith("/f")
            for someone in (leader, committee):
                assert not [
                    i for i in (await n.of(someone))["data"] if i["kind"] == "suggestion_answered"
                ]

            mails = {(m["To"], m["Subject"]) for m in smtp.messages()}
            assert ("wang@example.org", "为您反映的意见建议已答复") in mails
            assert ("zhang@example.org", "您的意见建议已答复") in mails
            assert len([m for m in mails if m[0] == "wang@example.org"]) == 1
