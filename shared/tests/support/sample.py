"""Sample events and a small projection used to exercise the platform end to end."""

from __future__ import annotations

import asyncio
import os
import uuid
from datetime import date

from eventspine.projection import Delivered, Tx
from roster.events import MemberAssigned, UnitRegistered


def assigned(upper: uuid.UUID | None = None, member: uuid.UUID | None = None) -> MemberAssigned:
    """A valid ``MemberAssigned``."""
    return MemberAssigned(
        member_id=member or uuid.uuid4(),
        upper_member_id=upper or uuid.uuid4(),
        tier="worker",
        assigned_on=date(2026, 3, 1),
    )


def unit(name: str = "阳泉市总工会") -> UnitRegistered:
    """A valid ``UnitRegistered``."""
    return UnitRegistered(unit_id=uuid.uuid4(), name=name, kind="city_federation")


class AssignmentLog:
    """Counts assignments per upper member and logs every applied event (to catch doubles).

    ``table`` is a prefix: ``schema.name`` on PostgreSQL, ``name`` on SQLite.
    ``delay`` slows each event down so a test can kill the process in the middle of a batch.
    """

    services = ("roster",)

    def __init__(self, name: str, table: str, delay: float = 0.0) -> None:
        self.name = name
        self.table = table
        self.delay = delay

    async def setup(self, tx: Tx) -> None:
        await tx.execute(
            f"CREATE TABLE IF NOT EXISTS {self.table}_counts "
            "(upper_member_id TEXT PRIMARY KEY, assigned INTEGER NOT NULL)"
        )
        await tx.execute(
            f"CREATE TABLE IF NOT EXISTS {self.table}_log "
            "(event_id TEXT NOT NULL, stream_id TEXT NOT NULL, stream_version INTEGER NOT NULL, "
            "position BIGINT NOT NULL)"
        )

    async def reset(self, tx: Tx) -> None:
        await tx.execute(f"DELETE FROM {self.table}_counts")
        await tx.execute(f"DELETE FROM {self.table}_log")

    async def apply(self, tx: Tx, delivered: Delivered) -> None:
        if self.delay:
            await asyncio.sleep(self.delay)
        await tx.execute(
            f"INSERT INTO {self.table}_log (event_id, stream_id, stream_version, position) "
            "VALUES ($1, $2, $3, $4)",
            str(delivered.id),
            delivered.stream_id,
            delivered.stream_version,
            delivered.position,
        )
        if isinstance(delivered.event, MemberAssigned):
            await tx.execute(
                f"INSERT INTO {self.table}_counts (upper_member_id, assigned) VALUES ($1, 1) "
                f"ON CONFLICT (upper_member_id) DO UPDATE "
                f"SET assigned = {self.table}_counts.assigned + 1",
                str(delivered.event.upper_member_id),
            )


def from_environment() -> AssignmentLog:
    """Factory for ``sanlian-spine project``: configured by the crash tests."""
    return AssignmentLog(
        os.environ["SAMPLE_PROJECTION_NAME"],
        os.environ["SAMPLE_PROJECTION_TABLE"],
        float(os.environ.get("SAMPLE_PROJECTION_DELAY", "0")),
    )
