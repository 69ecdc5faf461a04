"""Tampering with a PostgreSQL store, as an attacker would, is caught; topics replay alike."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest

from audit.crosscheck import verify
from audit.replay import replay
from audit.sources import History, read_postgres, read_topics
from eventspine.config import Settings
from eventspine.schemas import installed_registry
from reports.bootstrap import contact_rule

pytestmark = pytest.mark.integration
AS_OF = datetime(2026, 6, 30, 23, 59, 59, tzinfo=UTC)


@pytest.fixture
def city(relayed_city: Any) -> tuple[Settings, Any]:
    """The scripted year in PostgreSQL stores, relayed to fresh topics."""
    return relayed_city.settings, relayed_city.year


async def _tamper(settings: Settings, *statements: str) -> None:
    """Run statements on the roster store with its immutability triggers bypassed."""
    conn = await asyncpg.connect(settings.pg_dsn)
    try:
        async with conn.transaction():
            schema = settings.store_schema("roster")
            await conn.execute(f"ALTER TABLE {schema}.events DISABLE TRIGGER USER")
            for sql in statements:
                await conn.execute(sql.format(s=schema))
            await conn.execute(f"ALTER TABLE {schema}.events ENABLE TRIGGER USER")
    finally:
        await conn.close()


async def _both(settings: Settings) -> list[History]:
    return [await read_postgres(settings), await read_topics(settings)]


async def _position(settings: Settings, stream: str, version: int) -> int:
    conn = await asyncpg.connect(settings.pg_dsn)
    try:
        value = await conn.fetchval(
            f"SELECT position FROM {settings.store_schema('roster')}.events "
            "WHERE stream_id = $1 AND stream_version = $2",
            stream,
            version,
        )
        return int(value)
    finally:
        await conn.close()


async def test_untouched_history_verifies_and_topics_replay_like_stores(
    city: tuple[Settings, Any],
) -> None:
    settings, _ = city
    histories = await _both(settings)
    report = verify(histories, installed_registry())
    assert report.ok, [str(f) for f in report.findings]
    registry, rule = installed_registry(), contact_rule(settings)
    views = [(await replay(h, registry, rule, "2026", AS_OF)).as_dict() for h in histories]
    assert views[0] == views[1]
    assert views[0]["compliance"]["city"]["met"] == 1


async def test_one_changed_byte_is_caught(city: tuple[Settings, Any]) -> None:
    settings, year = city
    stream = f"member-{year.c1}"
    await _tamper(
        settings,
        "UPDATE {s}.events SET data = replace(data::text, 'committee', 'committeE')::jsonb "
        f"WHERE stream_id = '{stream}' AND stream_version = 1",
    )
    findings = [str(f) for f in verify(await _both(settings), installed_registry()).findings]
    assert any(
        f"stream {stream} v1" in f and "content does not match its hash" in f for f in findings
    ), findings
    assert any("differs between the event store and the topic" in f for f in findings)


async def test_an_event_deleted_in_the_middle_is_caught(city: tuple[Settings, Any]) -> None:
    settings, year = city
    stream = f"member-{year.c2}"
    await _tamper(
        settings, f"DELETE FROM {{s}}.events WHERE stream_id = '{stream}' AND stream_version = 2"
    )
    report = verify([await read_postgres(settings)], installed_registry())
    findings = [str(f) for f in report.findings]
    assert any(f"stream {stream} v3" in f and "v2 missing" in f for f in findings), findings


async def test_two_events_reordered_are_caught(city: tuple[Settings, Any]) -> None:
    settings, year = city
    stream = f"member-{year.c2}"
    first, second = await _position(settings, stream, 1), await _position(settings, stream, 2)
    await _tamper(
        settings,
        f"UPDATE {{s}}.events SET position = -1 WHERE position = {first}",
        f"UPDATE {{s}}.events SET position = {first} WHERE position = {second}",
        f"UPDATE {{s}}.events SET position = {second} WHERE position = -1",
    )
    report = verify([await read_postgres(settings)], installed_registry())
    findings = [str(f) for f in report.findings]
    assert any(f"stream {stream} v2" in f for f in findings), findings
    assert any(f"stream {stream} v1" in f and "out of order" in f for f in findings), findings


async def test_the_last_event_of_a_stream_deleted_is_caught(city: tuple[Settings, Any]) -> None:
    settings, year = city
    stream = f"member-{year.c2}"
    await _tamper(
        settings, f"DELETE FROM {{s}}.events WHERE stream_id = '{stream}' AND stream_version = 3"
    )
    store = await read_postgres(settings)
    # The chain alone sees nothing wrong with what is left.
    from audit.verify import check_chains

    assert check_chains(store.events["roster"]) == []
    findings = [
        str(f) for f in verify([store, await read_topics(settings)], installed_registry()).findings
    ]
    assert any(
        f"stream {stream} v3" in f and "on the topic but missing from the event store" in f
        for f in findings
    ), findings
    assert any("the relay published up to position" in f for f in findings), findings


async def test_an_unknown_topic_is_refused(city: tuple[Settings, Any]) -> None:
    settings, _ = city
    from audit.sources import AuditInputError

    with pytest.raises(AuditInputError, match="unknown topic"):
        await read_topics(settings.model_copy(update={"topic_prefix": "test.nosuchprefix"}))
