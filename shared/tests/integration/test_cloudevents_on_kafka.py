"""A subscriber that knows only the CloudEvents Kafka binding can read our topics.

The reading side here uses aiokafka and jsonschema only, not the project's code: it is what a
city system subscribing to ``sanlian.roster.events`` would write from the specifications.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path

import jsonschema
import pytest
from aiokafka import AIOKafkaConsumer

from eventspine.config import Settings
from eventspine.kafka import ensure_topics, make_producer
from eventspine.relay import Relay
from eventspine.store.base import NO_STREAM, CommandContext
from eventspine.store.postgres import PostgresEventStore
from support.sample import assigned

pytestmark = pytest.mark.integration

SCHEMAS = Path(__file__).resolve().parents[3] / "schemas" / "events"
REQUIRED = {"ce_id", "ce_source", "ce_specversion", "ce_type"}


async def test_a_plain_subscriber_finds_cloudevents_headers_and_a_schema_valid_body(
    pg_store: PostgresEventStore, kafka_settings: Settings
) -> None:
    topic = kafka_settings.topic("roster")
    await ensure_topics(kafka_settings, [topic])
    event = assigned()
    await pg_store.append("member-7", NO_STREAM, [event], CommandContext(actor="staff:9"))
    producer = make_producer(kafka_settings)
    await producer.start()
    try:
        assert await Relay(pg_store, producer, topic).drain() == 1
    finally:
        await producer.stop()

    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=kafka_settings.kafka_bootstrap,
        group_id="city-system",
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        record = await consumer.getone()
    finally:
        await consumer.stop()

    headers = {key: value.decode("utf-8") for key, value in record.headers}
    assert headers.keys() >= REQUIRED
    assert headers["ce_specversion"] == "1.0"
    assert headers["content-type"] == "application/json"
    assert headers["ce_subject"] == "member-7"
    assert headers["ce_source"] == "/sanlian/roster"
    datetime.fromisoformat(headers["ce_time"])  # RFC 3339
    assert record.key == b"member-7"
    match = re.fullmatch(r"sanlian\.(\w+)\.(\w+)\.v(\d+)", headers["ce_type"])
    assert match is not None
    service, name, version = match.groups()
    schema = json.loads((SCHEMAS / service / f"{name}.v{version}.json").read_text("utf-8"))
    assert schema["$id"] == headers["ce_dataschema"]
    body = json.loads(record.value)
    jsonschema.validate(body, schema, format_checker=jsonschema.FormatChecker())
    assert body["member_id"] == str(event.member_id)
