"""Auditor replay benchmarks: the replay against a raw read of the same rows, and as the
history grows (1x and 10x), with histories seeded at COPY speed."""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg

from bench.reports import _drop, _settings, _synthetic_year
from bench.table import Row
from eventspine.config import Settings
from eventspine.envelope import GENESIS_HASH, format_time, hashed_content
from eventspine.hashing import chain_hash, content_digest
from eventspine.store.postgres import connect_pool

BATCH = 5000
_COLUMNS = (
    "position",
    "stream_id",
    "stream_version",
    "event_id",
    "event_type",
    "schema_version",
    "time",
    "actor",
    "correlation_id",
    "causation_id",
    "command_id",
    "data",
    "prev_hash",
    "hash",
)


def _contact_rows(
    links: list[tuple[str, str, str]], start: int, count: int, moment: datetime
) -> list[tuple[Any, ...]]:
    """``count`` ContactMade rows from position ``start + 1`` on, each its own stream, hashed
    and chained as the store hashes them (so the history verifies like an appended one)."""
    rows = []
    for i in range(count):
        link, upper, lower = links[i % len(links)]
        contact = uuid.uuid4()
        event_id = uuid.uuid4()
        correlation = uuid.uuid4()
        stream = f"contact-{contact}"
        data: dict[str, Any] = {
            "contact_id": str(contact),
            "link_id": link,
            "upper_member_id": upper,
            "lower_member_id": lower,
            "contacted_on": date(2026, 1 + i % 11, 1 + i % 28).isoformat(),
            "method": "visit",
            "initiated_by": "upper",
            "topics": [],
            "note": None,
            "meeting_id": None,
        }
        stamp = moment + timedelta(microseconds=i)
        content = hashed_content(
            event_id,
            "contacts",
            "ContactMade",
            1,
            format_time(stamp),
            stream,
            1,
            "bench",
            correlation,
            None,
            data,
        )
        rows.append(
            (
                start + i + 1,
                stream,
                1,
                event_id,
                "ContactMade",
                1,
                stamp,
                "bench",
                correlation,
                None,
                None,
                json.dumps(data, ensure_ascii=False, separators=(",", ":")),
                GENESIS_HASH,
                chain_hash(GENESIS_HASH, content_digest(content)),
            )
        )
    return rows


async def seed_history(settings: Settings, events: int) -> int:
    """A roster and a contacts store holding about ``events`` events: a city's roster and
    its first contacts appended through the stores, the rest of the contacts written with
    COPY in the rows the store writes. Return how many events the stores hold."""
    links = max(10, min(2500, events // 40))
    total = await _synthetic_year(settings, links, 2, publish=False)
    conn = await asyncpg.connect(settings.pg_dsn)
    try:
        roster = settings.store_schema("roster")
        contacts = settings.store_schema("contacts")
        pairs = [
            (str(r[0]), r[1], r[2])
            for r in await conn.fetch(
                f"SELECT event_id, data->>'upper_member_id', data->>'member_id' "
                f"FROM {roster}.events WHERE event_type = 'MemberAssigned'"
            )
        ]
        head = await conn.fetchval(f"SELECT coalesce(max(position), 0) FROM {contacts}.events")
        moment = datetime(2026, 11, 1, tzinfo=UTC)
        for start in range(0, max(0, events - total), 50_000):
            count = min(50_000, events - total - start)
            await conn.copy_records_to_table(
                "events",
                schema_name=contacts,
                columns=_COLUMNS,
                records=_contact_rows(pairs, head + start, count, moment),
            )
        return total + max(0, events - total)
    finally:
        await conn.close()


async def _raw_read(settings: Settings, services: tuple[str, ...]) -> int:
    """The same rows read through a cursor in the same batches, nothing done with them."""
    conn = await asyncpg.connect(settings.pg_dsn)
    read = 0
    try:
        async with conn.transaction(readonly=True, isolation="repeatable_read"):
            for service in services:
                cursor = await conn.cursor(
                    f"SELECT * FROM {settings.store_schema(service)}.events ORDER BY position"
                )
                while rows := await cursor.fetch(BATCH):
                    read += len(rows)
    finally:
        await conn.close()
    return read


async def _measure(settings: Settings, total: int) -> tuple[float, float]:
    """``(replay rate, raw read rate)`` in events/s, measured one after the other."""
    from audit.replay import replay_batches
    from audit.sources import stream_postgres
    from eventspine.schemas import installed_registry
    from reports.bootstrap import contact_rule

    services = ("roster", "contacts")
    started = time.perf_counter()
    read = await _raw_read(settings, services)
    raw = read / (time.perf_counter() - started)
    assert read == total, (read, total)
    started = time.perf_counter()
    result = await replay_batches(
        lambda: stream_postgres(settings, services, BATCH),
        installed_registry(),
        contact_rule(settings),
        "2026",
    )
    ours = total / (time.perf_counter() - started)
    assert sum(result.applied.values()) == total, (result.applied, total)
    return ours, raw


async def replay_growth(dsn: str, events: int, scales: tuple[int, ...]) -> list[Row]:
    """Row 7's replay at ``events`` (1x) and ``scale`` times as many: the cost per event
    should stay flat (the replay holds one batch at a time)."""
    measured: dict[int, tuple[int, float, float]] = {}
    for scale in (1, *scales):
        settings = _settings(dsn, "unused:9092")
        try:
            total = await seed_history(settings, events * scale)
            measured[scale] = (total, *await _measure(settings, total))
        finally:
            pool = await connect_pool(dsn, max_size=1)
            await _drop(pool, settings)
            await pool.close()
    base_total, base_ours, _ = measured[1]
    return [
        Row(
            f"growth_replay_{scale}x",
            f"9. growth: auditor replay at {scale}x, {total:,} events",
            "events/s",
            ours,
            base_ours,
            f"same at 1x ({base_total:,} events)",
            0.8,
            {"raw_read": raw, "ratio_to_raw_read": ours / raw},
        )
        for scale, (total, ours, raw) in measured.items()
        if scale != 1
    ]
