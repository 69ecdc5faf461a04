"""Acceptance: ``kill -9`` of the notify process, 10 rounds at random moments, under a steady
flow of suggestions (each one a notice to its holder by email): every notification reaches the
SMTP server process, and none twice.

The notify service runs as its own process (uvicorn, the full topology's settings), its
scheduler ticking every 0.2 s on the wall clock; roster and feedback run in this process and
their stores are relayed to Kafka after every batch. A kill may fall anywhere: between an
event's consumption and its notice, between the intent to send and the send, between the
SMTP server's acceptance and its recording. The last one is the only window in which a send
can be repeated (a message accepted but not yet recorded): the repeat carries the same
Message-ID and is allowed only for an attempt the store shows handed over (its data gone to
the server) without an outcome, so the test counts exactly how many such windows the kills
hit.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncpg
import httpx
import pytest
from smtp_support import smtp_server

from eventspine.clock import FederationClock
from eventspine.config import Settings
from feedback_driver import MovableClock
from notify_driver import link, member, unit
from reports_driver import city
from support.auth import STAFF, as_member
from support.pg import topology_settings
from support.topology import Topology

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

ROUNDS = 10
PER_ROUND = 3
HOLDERS = 4


class WallClock(MovableClock):
    """The wall clock, for apps that run beside a process reading it too."""

    def __call__(self) -> datetime:
        return datetime.now(UTC)


async def test_kill_9_in_a_loop_delivers_every_notice_exactly_once(
    pg_dsn: str, kafka_bootstrap: str, tmp_path: Path
) -> None:
    chance = random.Random(19)
    async with topology_settings(pg_dsn, kafka_bootstrap, "k") as settings:
        await _loop(settings, tmp_path, chance)


async def _loop(settings: Settings, tmp_path: Path, chance: random.Random) -> None:
    with smtp_server(tmp_path) as smtp:
        extra = {
            "SANLIAN_NOTIFY_SMTP_HOST": "127.0.0.1",
            "SANLIAN_NOTIFY_SMTP_PORT": str(smtp.port),
            "SANLIAN_NOTIFY_SMTP_TIMEOUT_SECONDS": "1",
            "SANLIAN_NOTIFY_RETRY_BASE_SECONDS": "0.5",
            "SANLIAN_NOTIFY_SCHEDULER_INTERVAL_SECONDS": "0.2",
            # The loop runs whenever CI does: a single minute of quiet hours, not the night.
            "SANLIAN_NOTIFY_QUIET_START": "03:00",
            "SANLIAN_NOTIFY_QUIET_END": "03:01",
            "SANLIAN_CONSUMER_BATCH_SIZE": "2",
        }
        processes = Topology(settings, tmp_path, extra)
        clock = WallClock()
        async with city(settings, clock) as c:
            federation = await unit(c, "阳泉市总工会", "city_federation", None)
            committee = await member(c, federation, "committee", "李卫国")
            reps, workers = [], []
            # Linked today: nothing is overdue, so the only emails are the suggestions' notices.
            today = FederationClock(clock, ZoneInfo(settings.timezone)).today()
            for i in range(HOLDERS):
                reps.append(await member(c, federation, "representative", f"代表{i}"))
                workers.append(await member(c, federation, "worker", f"职工{i}"))
                await link(c, committee, reps[-1], today)
                await link(c, reps[-1], workers[-1], today)
            await c.sync()
            processes.start("notify")
            await processes.ready("notify")
            url = processes.url("notify")
            async with httpx.AsyncClient(base_url=url, timeout=10) as http:
                for rep in reps:
                    # Holders read email; the worker (who raises nothing here) and the
                    # committee member (who owes digests) do not, so only notices are mailed.
                    answer = await http.post(
                        "/me/preferences",
                        json={"email": f"rep{reps.index(rep)}@example.org", "digests": False},
                        headers=as_member(str(rep)),
                    )
                    assert answer.status_code == 200, answer.text
                raised = 0
                for _ in range(ROUNDS):
                    for _ in range(PER_ROUND):
                        k = raised % HOLDERS
                        # The worker raises it: held by their representative.
                        await c.feedback.raise_(str(workers[k]), f"意见{raised}")
                        raised += 1
                    await c.publish()
                    await asyncio.sleep(chance.uniform(0.05, 1.5))
                    processes.kill("notify")
                    processes.start("notify")
                    await processes.ready("notify")
                delivered = await _all_delivered(http, raised, processes)
        processes.stop_all()
        messages = smtp.messages()
        ids = Counter(m["Message-ID"] for m in messages)
        expected = {f"<{nid}@notify.sanlian>" for nid in delivered}
        assert len(delivered) == raised
        assert set(ids) == expected  # every notice reached the server, nothing else did
        repeats = sum(n - 1 for n in ids.values())
        cut_off, in_doubt = await _attempts_without_outcome(settings)
        # Only an attempt cut off after its data was handed over may have been repeated.
        assert repeats <= in_doubt <= cut_off, (repeats, in_doubt, cut_off)
        print(
            f"kill -9 x{processes.kills}: {raised} notices, {len(messages)} messages, "
            f"{repeats} repeated (sends cut off: {cut_off}, of them in doubt: {in_doubt})"
        )
        assert processes.kills == ROUNDS


async def _all_delivered(http: httpx.AsyncClient, raised: int, processes: Topology) -> set[str]:
    """Wait until the outbox holds one delivered email per suggestion; their ids."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with_status = await http.get("/deliveries", params={"status": "delivered"}, headers=STAFF)
        if with_status.status_code == 200 and with_status.json()["count"] == raised:
            rows = with_status.json()["data"]
            return {row["notification_id"] for row in rows}
        await asyncio.sleep(0.5)
    raise AssertionError(f"not every notice was delivered:\n{processes.tail('notify')}")


async def _attempts_without_outcome(settings: Settings) -> tuple[int, int]:
    """Attempts the store shows with no outcome recorded after them (a kill hit the send),
    and how many of those had handed their data over (in doubt)."""
    conn = await asyncpg.connect(settings.pg_dsn)
    try:
        rows = await conn.fetch(
            f"SELECT stream_id, event_type FROM {settings.store_schema('notify')}.events "
            "ORDER BY position"
        )
    finally:
        await conn.close()
    open_attempts: Counter[str] = Counter()
    hit = doubt = 0
    for row in rows:
        stream = row["stream_id"]
        if row["event_type"] == "DeliveryAttempted":
            if open_attempts[stream]:
                hit += 1  # the previous attempt never got its outcome
                doubt += open_attempts[stream] == 2
            open_attempts[stream] = 1
        elif row["event_type"] == "DeliveryHandedOver":
            open_attempts[stream] = 2
        elif row["event_type"] in ("NotificationDelivered", "DeliveryFailed"):
            open_attempts[stream] = 0
    return hit, doubt
