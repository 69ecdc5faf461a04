"""Hostile records on a topic go to its dead-letter topic with the reason; the consumer goes on."""

from __future__ import annotations

import asyncio
import json

import asyncpg
import pytest

from eventspine.config import Settings
from eventspine.consumer import ProjectionRunner
from eventspine.deadletter import KafkaDeadLetters, dead_letter_topic
from eventspine.events import EventRegistry
from eventspine.kafka import ensure_topics, make_consumer, make_producer
from eventspine.relay import Relay
from eventspine.store.base import CommandContext
from eventspine.store.postgres import PostgresEventStore
from support.kafka_read import read_topic
from support.processes import wait_until
from support.sample import AssignmentLog, assigned

pytestmark = pytest.mark.integration


async def test_bad_records_are_set_aside_with_their_reason_and_the_rest_applied(
    pg_store: PostgresEventStore,
    kafka_settings: Settings,
    pg_dsn: str,
    pg_schema: str,
    registry: EventRegistry,
) -> None:
    topic = kafka_settings.topic("roster")
    await ensure_topics(kafka_settings, [topic, dead_letter_topic(topic)])
    ctx = CommandContext(actor="staff:test")
    await pg_store.append("member-1", 0, [assigned(), assigned()], ctx)
    valid = (await pg_store.read_all(0, 10))[0]
    producer = make_producer(kafka_settings)
    await producer.start()
    try:
        await Relay(pg_store, producer, topic).drain()
        no_headers = [("content-type", b"application/json")]
        unknown = [
            (k, b"sanlian.roster.Nope.v1" if k == "ce_type" else v)
            for k, v in valid.kafka_headers()
        ]
        broken = {**valid.data}
        del broken["upper_member_id"]
        for headers, value in (
            (no_headers, b"{}"),
            (unknown, valid.kafka_value()),
            (valid.kafka_headers(), b"not json"),
            (valid.kafka_headers(), json.dumps(broken).encode()),
        ):
            await producer.send_and_wait(topic, value, key=b"member-9", headers=headers)
        await pg_store.append("member-2", 0, [assigned()], ctx)
        await Relay(pg_store, producer, topic).drain()

        pool = await asyncpg.create_pool(pg_dsn, min_size=1, max_size=2)
        runner = ProjectionRunner(
            AssignmentLog("dlq", f"{pg_schema}.dlq"),
            pool,
            lambda group, names: make_consumer(kafka_settings, group, *names),
            [topic],
            schema=pg_schema,
            group_prefix=kafka_settings.topic_prefix,
            registry=registry,
            dead_letters=KafkaDeadLetters(producer),
        )
        stop = asyncio.Event()
        task = asyncio.create_task(runner.run(stop))

        async def consumed() -> bool:
            try:
                offsets = await runner.stored_offsets()
            except asyncpg.UndefinedTableError:
                return False
            return sum(next_offset for next_offset, _ in offsets.values()) == 7

        try:
            await wait_until(consumed, 60, "the consumer to pass every record")
        finally:
            stop.set()
            await task
        applied = await pool.fetchval(f"SELECT count(*) FROM {pg_schema}.dlq_log")
        await pool.close()
    finally:
        await producer.stop()
    assert applied == 3  # the valid ones, before and after the bad records
    letters = [
        r
        for rs in (
            await read_topic(kafka_settings.kafka_bootstrap, dead_letter_topic(topic))
        ).values()
        for r in rs
    ]
    reasons = sorted(dict(r.headers)["dlq_reason"].decode() for r in letters)
    assert len(reasons) == 4
    assert any("missing CloudEvents header" in r for r in reasons)
    assert any("Nope" in r for r in reasons)
    assert any("not a Sanlian CloudEvent" in r for r in reasons)
    assert any("upper_member_id" in r for r in reasons)
    assert all(dict(r.headers)["dlq_topic"] == topic.encode() for r in letters)
