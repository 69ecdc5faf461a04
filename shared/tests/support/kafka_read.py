"""Reading a whole topic back, for assertions (a plain aiokafka consumer, no group)."""

from __future__ import annotations

from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import ConsumerRecord


async def read_topic(bootstrap: str, topic: str) -> dict[int, list[ConsumerRecord[Any, Any]]]:
    """Every record of ``topic`` from offset 0 to the current end, per partition."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        partitions = consumer.partitions_for_topic(topic)
        if partitions is None:
            await consumer._client.force_metadata_update()  # first look at a new topic
            partitions = consumer.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        records: dict[int, list[ConsumerRecord[Any, Any]]] = {tp.partition: [] for tp in tps}

        async def behind() -> bool:
            return any([await consumer.position(tp) < ends[tp] for tp in tps])

        while await behind():
            batch = await consumer.getmany(timeout_ms=500)
            for tp, items in batch.items():
                records[tp.partition].extend(items)
        return records
    finally:
        await consumer.stop()
