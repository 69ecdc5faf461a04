"""A small city and a steady command load on it, over HTTP, with a ledger of every answer.

Every command carries an ``Idempotency-Key`` and is retried with the same key until it is
acknowledged (a 503, a refused connection, a reset, a replica that is behind), so "what the
services acknowledged" is known exactly and a retry can never apply a command twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import httpx

from support.auth import STAFF, as_member
from support.topology import Topology

REPRESENTATIVES = 4
WORKERS_EACH = 10
LINKED_ON = "2026-01-01"


@dataclass(frozen=True)
class City:
    """The roster the load works on: a leader, two committee members, four representatives
    with ten workers each, all linked from 1 January 2026."""

    unit_id: str
    links: int
    pairs: list[tuple[str, str]]
    """(representative, worker) pairs: the links contacts are logged on."""


async def seed_city(client: httpx.AsyncClient) -> City:
    """Register and link the city through the roster's API."""
    numbers = iter(range(1, 1000))

    async def post(path: str, body: dict[str, Any]) -> None:
        answer = await client.post(path, json=body, headers=STAFF)
        assert answer.status_code == 201, f"{path}: {answer.status_code} {answer.text}"

    async def new_member(unit: str, tier: str) -> str:
        member_id = str(uuid.uuid4())
        number = next(numbers)
        await post(
            "/members",
            {
                "member_id": member_id,
                "unit_id": unit,
                "tier": tier,
                "name": f"成员{number}",
                "external_number": f"F{number:05d}",
                "registered_on": "2025-12-01",
            },
        )
        return member_id

    async def link(upper: str, lower: str) -> None:
        await post(
            "/links", {"upper_member_id": upper, "lower_member_id": lower, "assigned_on": LINKED_ON}
        )

    unit = str(uuid.uuid4())
    await post("/units", {"unit_id": unit, "name": "阳泉市总工会", "kind": "city_federation"})
    leader = await new_member(unit, "leader")
    committee = [await new_member(unit, "committee") for _ in range(2)]
    for one in committee:
        await link(leader, one)
    pairs = []
    for index in range(REPRESENTATIVES):
        representative = await new_member(unit, "representative")
        await link(committee[index % 2], representative)
        for _ in range(WORKERS_EACH):
            worker = await new_member(unit, "worker")
            await link(representative, worker)
            pairs.append((representative, worker))
    return City(unit, len(committee) + REPRESENTATIVES + len(pairs), pairs)


@dataclass
class Acknowledged:
    """A command the services acknowledged, with the events they said they stored."""

    kind: str
    service: str
    subject: str
    event_ids: list[str]
    at: float
    due: float = 0.0
    """When the schedule meant to send it (``time.monotonic()``): an open-loop load measures
    latency from here, so a command held up behind a stalled one counts its wait."""


@dataclass
class Ledger:
    """Everything the load sent and every answer it got."""

    sent: int = 0
    acknowledged: dict[str, Acknowledged] = field(default_factory=dict)
    answers: Counter[str] = field(default_factory=Counter)
    faults: list[str] = field(default_factory=list)
    """Answers no client should ever get: a 5xx other than 503, a 503 without Retry-After,
    a request that hung past its timeout, a refusal of a valid command."""
    unfinished: list[str] = field(default_factory=list)
    """Commands never acknowledged before their deadline."""
    offered: float = 0.0
    """Commands a second the load offered (its schedule's rate)."""

    def acknowledged_between(self, start: float, end: float) -> int:
        """How many commands were acknowledged in ``[start, end]`` (``time.monotonic()``)."""
        return sum(1 for a in self.acknowledged.values() if start <= a.at <= end)

    def of_kind(self, kind: str) -> list[Acknowledged]:
        """The acknowledged commands of one kind."""
        return [a for a in self.acknowledged.values() if a.kind == kind]


FAULT_RATE = float(os.environ.get("SANLIAN_FAULT_RATE", "50"))
"""Commands a second the fault tier's scenarios offer (``SANLIAN_FAULT_RATE``): the rate the
cluster scenarios hold on a two-core machine with every process of the cluster running, so
the single-broker scenarios run at the same load."""


def p99(ledger: Ledger, start: float, end: float) -> float | None:
    """The 99th percentile latency, in seconds, of the commands due in ``[start, end]``:
    from the moment the schedule meant to send each (not when it was sent) until its
    acknowledgement, retries included. ``None`` if none was due then."""
    latencies = sorted(a.at - a.due for a in ledger.acknowledged.values() if start <= a.due <= end)
    if not latencies:
        return None
    return latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]


def held_rate(ledger: Ledger, start: float, end: float) -> float:
    """Commands acknowledged per second among those due in ``[start, end]``."""
    due = [a for a in ledger.acknowledged.values() if start <= a.due <= end]
    return len(due) / max(1e-9, end - start)


RETRIED_STATUSES = {409, 502, 503}
"""409: the replica has not seen the link yet (or a race was lost); 502: a balancer's instance
died with the request and no other took it over; 503: the database is away."""

CONNECTION_ERRORS = (httpx.ConnectError, httpx.ReadError, httpx.RemoteProtocolError)
"""The process is down or died mid-request (the kill loop): retried with the same key."""


class Load:
    """Commands at a steady rate: 70 % contacts, 20 % suggestions, 10 % new members."""

    def __init__(
        self,
        topology: Topology,
        city: City,
        ledger: Ledger,
        *,
        rate: float = 8.0,
        seed: int = 15510,
        request_timeout: float = 20.0,
        command_deadline: float = 240.0,
    ) -> None:
        self.topology = topology
        self.city = city
        self.ledger = ledger
        self.rate = rate
        self.random = random.Random(seed)
        self.request_timeout = request_timeout
        self.command_deadline = command_deadline

    def _command(self) -> tuple[str, str, str, str, dict[str, Any], dict[str, str]]:
        """(kind, app, path, subject, body, headers) of one random command."""
        representative, worker = self.random.choice(self.city.pairs)
        roll = self.random.random()
        if roll < 0.7:
            contact_id = str(uuid.uuid4())
            day = date(2026, 1, 15) + timedelta(days=self.random.randrange(300))
            body = {
                "contact_id": contact_id,
                "upper_member_id": representative,
                "lower_member_id": worker,
                "contacted_on": day.isoformat(),
                "method": self.random.choice(["meeting", "visit", "phone", "online"]),
            }
            return "contact", "contacts", "/contacts", contact_id, body, STAFF
        if roll < 0.9:
            suggestion_id = str(uuid.uuid4())
            body = {
                "suggestion_id": suggestion_id,
                "text": "食堂晚班能否延长供餐时间？",
                "category": "wages_and_welfare",
                "channel": "online",
            }
            return "suggestion", "feedback", "/suggestions", suggestion_id, body, as_member(worker)
        member_id = str(uuid.uuid4())
        body = {
            "member_id": member_id,
            "unit_id": self.city.unit_id,
            "tier": "worker",
            "name": "新会员",
            "external_number": f"L-{member_id[:13]}",
            "registered_on": "2026-02-01",
        }
        return "member", "roster", "/members", member_id, body, STAFF

    async def send_one(self, client: httpx.AsyncClient, due: float | None = None) -> None:
        """Send one command and retry it with the same key until it is acknowledged
        (``due``: when the schedule meant to send it; now if not given)."""
        due = time.monotonic() if due is None else due
        kind, app, path, subject, body, headers = self._command()
        key = str(uuid.uuid4())
        headers = {**headers, "Idempotency-Key": key}
        self.ledger.sent += 1
        deadline = time.monotonic() + self.command_deadline
        while time.monotonic() < deadline:
            try:
                answer = await client.post(
                    f"{self.topology.url(app)}{path}", json=body, headers=headers
                )
            except httpx.TimeoutException:
                self.ledger.answers["timeout"] += 1
                self.ledger.faults.append(f"{kind} {key}: no answer in {self.request_timeout} s")
                continue
            except CONNECTION_ERRORS as exc:
                self.ledger.answers[type(exc).__name__] += 1
                await asyncio.sleep(0.3)
                continue
            status = answer.status_code
            self.ledger.answers[str(status)] += 1
            if status in (200, 201):
                events = [e["event_id"] for e in answer.json()["events"]]
                self.ledger.acknowledged[key] = Acknowledged(
                    kind, app, subject, events, time.monotonic(), due
                )
                return
            if status == 503 and answer.headers.get("retry-after"):
                await asyncio.sleep(min(1.0, float(answer.headers["retry-after"])))
                continue
            if status in RETRIED_STATUSES and status != 503:
                await asyncio.sleep(0.3)
                continue
            self.ledger.faults.append(f"{kind} {key}: {status} {answer.text[:300]}")
            if status < 500:
                return  # a refusal will not change on a retry
            await asyncio.sleep(0.3)
        self.ledger.unfinished.append(f"{kind} {key}")

    async def run(self, stop: asyncio.Event) -> None:
        """Send ``rate`` commands a second until ``stop`` is set, then wait for the last ones."""
        self.ledger.offered = self.rate
        timeout = httpx.Timeout(self.request_timeout, connect=5.0)
        limits = httpx.Limits(max_connections=max(64, int(self.rate)))
        async with httpx.AsyncClient(timeout=timeout, limits=limits) as client:
            pending: set[asyncio.Task[None]] = set()
            started = time.monotonic()
            sent = 0
            while not stop.is_set():
                due = started + sent / self.rate
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), max(0.0, due - time.monotonic()))
                    break
                task = asyncio.create_task(self.send_one(client, due))
                pending.add(task)
                task.add_done_callback(pending.discard)
                sent += 1
            if pending:
                await asyncio.gather(*pending)
