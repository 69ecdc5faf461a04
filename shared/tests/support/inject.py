"""Records put on the topics on purpose: copies of published ones, and hostile ones."""

from __future__ import annotations

import json
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.structs import ConsumerRecord

from support.kafka_read import read_topic

Headers = list[tuple[str, bytes]]


async def republish_out_of_order(bootstrap: str, topic: str) -> int:
    """Produce every record of ``topic`` again on its own partition, twice: newest first,
    then oldest first. Returns how many records were produced."""
    records = await read_topic(bootstrap, topic)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    produced = 0
    try:
        for partition, items in records.items():
            for record in [*reversed(items), *items]:
                await producer.send(
                    topic,
                    record.value,
                    key=record.key,
                    partition=partition,
                    headers=list(record.headers),
                )
                produced += 1
        await producer.flush()
    finally:
        await producer.stop()
    return produced


def hostile_variants(valid: ConsumerRecord[Any, Any]) -> dict[str, tuple[Headers, bytes]]:
    """Four records a consumer cannot apply, made from a valid ``MemberAssigned`` record,
    by what is wrong with them."""
    headers: Headers = list(valid.headers)
    data = json.loads(valid.value)
    del data["upper_member_id"]
    return {
        "missing ce_ headers": ([("content-type", b"application/json")], valid.value),
        "unknown type": (
            [
                (k, b"sanlian.roster.MemberTeleported.v1" if k == "ce_type" else v)
                for k, v in headers
            ],
            valid.value,
        ),
        "malformed body": (headers, b'{"member_id": "\xff\xfe'),
        "schema-invalid data": (headers, json.dumps(data).encode()),
    }


async def produce_hostile(
    bootstrap: str, topic: str, variants: dict[str, tuple[Headers, bytes]]
) -> None:
    """Produce each variant with the key ``hostile:<what is wrong>``."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for what, (headers, value) in variants.items():
            await producer.send_and_wait(
                topic, value, key=f"hostile:{what}".encode(), headers=headers
            )
    finally:
        await producer.stop()
