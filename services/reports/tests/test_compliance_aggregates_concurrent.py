"""Two instances of the reports service apply batches at once (each consumes its own
partitions), and one link's contacts are spread over partitions: the link's standing counts
both contacts, whichever batch committed first.

The second batch is held just before it rewrites the link's standing, until the first has
committed: without the batches taking turns it would read the detail rows before the first
contact was committed and write a standing that lacks it (stored 2, shown 1).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aggregates_city import registered

from compliance import ContactRule
from contracts.contacts import ContactMade
from contracts.roster import MemberAssigned, UnitRegistered
from eventspine.events import DomainEvent
from eventspine.projection import Delivered, deliver
from eventspine.schemas import installed_registry
from eventspine.store.base import AppendRequest, CommandContext
from eventspine.store.sqlite import SqliteEventStore
from reports.projections.aggregates import AggregatedCompliance
from support.pg import throwaway_prefix
from support.processes import wait_until

pytestmark = pytest.mark.integration

CTX = CommandContext(actor="staff:test")


class HeldConnection(asyncpg.Connection):
    """A connection whose rewrite of the standings waits for ``gate`` (set by the test)."""

    gate: asyncio.Event
    held: asyncio.Event

    async def execute(self, query: str, *args: Any, **options: Any) -> str:
        if query.startswith("DELETE FROM") and "agg_standings" in query:
            self.held.set()
            await self.gate.wait()
        result: str = await super().execute(query, *args, **options)
        return result


async def _recorded(tmp_path: Path) -> tuple[list[Delivered], list[Delivered], str]:
    """A unit, a representative and a worker linked, and two contacts on the link: the
    roster's events and the two contacts, delivered; and the link's id."""
    registry = installed_registry()
    roster = SqliteEventStore(str(tmp_path / "roster.sqlite"), "roster", registry)
    contacts = SqliteEventStore(str(tmp_path / "contacts.sqlite"), "contacts", registry)
    await roster.open()
    await contacts.open()
    try:
        unit, upper, lower = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()

        async def append(store: SqliteEventStore, stream: str, event: DomainEvent) -> Delivered:
            recorded = await store.append_many([AppendRequest(stream, 0, [event])], CTX)
            return deliver(recorded[0], registry)

        kinds = [
            await append(
                roster,
                f"unit-{unit}",
                UnitRegistered(unit_id=unit, name="企业", kind="enterprise_union"),
            ),
            await append(roster, f"member-{upper}", registered(upper, unit, "representative")),
            await append(roster, f"member-{lower}", registered(lower, unit, "worker")),
        ]
        link = await append(
            roster,
            f"link-{lower}",
            MemberAssigned(
                member_id=lower,
                upper_member_id=upper,
                tier="worker",
                assigned_on=date(2026, 1, 1),
            ),
        )
        made = []
        for day in (date(2026, 3, 2), date(2026, 4, 6)):
            contact = uuid.uuid4()
            made.append(
                await append(
                    contacts,
                    f"contact-{contact}",
                    ContactMade(
                        contact_id=contact,
                        link_id=link.record.id,
                        upper_member_id=upper,
                        lower_member_id=lower,
                        contacted_on=day,
                        method="visit",
                        initiated_by="upper",
                    ),
                )
            )
        return [*kinds, link], made, str(link.record.id)
    finally:
        await roster.close()
        await contacts.close()


@pytest.fixture
async def prefix(pg_dsn: str) -> AsyncIterator[str]:
    """A throwaway reports schema's table prefix."""
    async with throwaway_prefix(pg_dsn, "h") as throwaway:
        conn = await asyncpg.connect(pg_dsn)
        try:
            await conn.execute(f"CREATE SCHEMA {throwaway}reports")
        finally:
            await conn.close()
        yield f"{throwaway}reports."


async def test_two_instances_contacts_on_one_link_are_both_counted(
    pg_dsn: str, prefix: str, tmp_path: Path
) -> None:
    roster, (first, second), link_id = await _recorded(tmp_path)
    projection = AggregatedCompliance(ContactRule(minimum=2, period_months=12), prefix)
    one = await asyncpg.connect(pg_dsn)
    other: HeldConnection = await asyncpg.connect(pg_dsn, connection_class=HeldConnection)
    other.gate, other.held = asyncio.Event(), asyncio.Event()
    try:
        async with one.transaction():
            await projection.setup(one)
            await projection.caught_up(one)  # a running service's: nothing put off
            await projection.apply_many(one, roster)

        waiting = "SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = $1"

        async def other_stopped() -> bool:
            return other.held.is_set() or bool(await one.fetchval(waiting, other.get_server_pid()))

        async def apply_second() -> None:
            async with other.transaction():
                await projection.apply_many(other, [second])

        async with one.transaction():
            await projection.apply_many(one, [first])
            task = asyncio.create_task(apply_second())
            # The second batch is either waiting its turn or (were they not taking turns)
            # about to rewrite the standing from rows read before the first committed.
            await wait_until(other_stopped, 30, "the second batch to stop")
        other.gate.set()
        await asyncio.wait_for(task, 30)

        rows = await one.fetch(
            f"SELECT counted FROM {prefix}agg_standings WHERE link_id::text = $1", link_id
        )
        stored = await one.fetchval(
            f"SELECT count(*) FROM {prefix}r_contacts WHERE link_id::text = $1", link_id
        )
        assert stored == 2
        assert [r["counted"] for r in rows] == [2]
    finally:
        await one.close()
        await other.close()
