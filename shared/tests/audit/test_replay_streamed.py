"""The auditor's fast readers decode a real history exactly as the store and the topics do,
and a replay streamed batch by batch from the stores equals the replay of the whole history."""

from __future__ import annotations

from contextlib import aclosing
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest

from audit import sources
from audit.replay import replay, replay_batches
from audit.sources import SERVICES, read_postgres, read_topics, stream_postgres
from eventspine.config import Settings
from eventspine.envelope import RecordedEvent
from eventspine.schemas import installed_registry
from reports.bootstrap import contact_rule

pytestmark = pytest.mark.integration
AS_OF = datetime(2026, 6, 30, 23, 59, 59, tzinfo=UTC)


@pytest.fixture
async def city(relayed_city: Any) -> tuple[Settings, dict[str, list[RecordedEvent]]]:
    """The scripted year in PostgreSQL stores, relayed to fresh topics; with each store's
    events as the store itself reads them."""
    own = {s: await store.read_all(0, 100_000) for s, store in relayed_city.stores.items()}
    return relayed_city.settings, own


async def _streamed(settings: Settings, batch: int) -> dict[str, list[RecordedEvent]]:
    events: dict[str, list[RecordedEvent]] = {}
    async for service, records in stream_postgres(settings, SERVICES, batch):
        assert len(records) <= batch
        events.setdefault(service, []).extend(records)
    return events


async def test_the_auditors_readers_decode_every_event_as_the_store_and_the_topics_do(
    city: tuple[Settings, dict[str, list[RecordedEvent]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings, own = city
    assert sum(len(events) for events in own.values()) > 10
    read = (await read_postgres(settings)).events
    monkeypatch.setattr(sources, "READ_BATCH", 7)  # read ahead, batches that end mid-stream
    assert (await read_postgres(settings)).events == read
    streamed = await _streamed(settings, batch=7)  # batches that end mid-stream
    topics = (await read_topics(settings)).events
    for service, events in own.items():
        assert read[service] == events, service
        assert streamed[service] == events, service
        assert topics[service] == events, service
        # plain UUIDs, as the topics give them (asyncpg's own subclass is refused by sqlite3)
        assert all(
            type(e.id) is UUID and type(e.correlation_id) is UUID
            for e in read[service] + streamed[service]
        )
        # and each decodes to the same typed event
        registry = installed_registry()
        assert [registry.decode(e.event_type, e.schema_version, e.data) for e in events] == [
            registry.decode(e.event_type, e.schema_version, e.data) for e in streamed[service]
        ]


@pytest.mark.parametrize("as_of", [AS_OF, None])
async def test_a_replay_streamed_from_the_stores_equals_the_replay_of_the_whole_history(
    city: tuple[Settings, dict[str, list[RecordedEvent]]], as_of: datetime | None
) -> None:
    settings, own = city
    registry = installed_registry()
    rule = contact_rule(settings)
    whole = await replay(await read_postgres(settings), registry, rule, "2026", as_of)
    streamed = await replay_batches(
        lambda: stream_postgres(settings, SERVICES, 5), registry, rule, "2026", as_of
    )
    assert streamed.as_dict() == whole.as_dict()
    assert whole.compliance.data  # the view is not empty: the comparison says something
    if as_of is not None:
        assert whole.now == as_of
        assert sum(whole.applied.values()) < sum(len(e) for e in own.values())


async def test_a_stream_stopped_early_leaves_nothing_running(
    city: tuple[Settings, dict[str, list[RecordedEvent]]],
) -> None:
    settings, own = city
    async with aclosing(stream_postgres(settings, SERVICES, 3)) as batches:
        async for _service, records in batches:
            assert len(records) == 3  # the next batch is in flight as this one arrives
            break
    # the snapshot ended and the connection closed cleanly: a new read sees the same history
    read = (await read_postgres(settings)).events
    for service, events in own.items():
        assert read[service] == events, service
