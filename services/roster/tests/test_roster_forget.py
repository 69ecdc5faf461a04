"""A forgotten member's personal data is nowhere in clear: store, topic, read model, keys."""

from __future__ import annotations

import uuid

import asyncpg
import pytest

from eventspine.config import Settings
from eventspine.hashing import verify_chain
from eventspine.kafka import ensure_topics, make_producer
from eventspine.relay import Relay
from eventspine.schemas import installed_registry
from eventspine.store.postgres import PostgresEventStore
from roster_driver import Roster
from support.kafka_read import read_topic

pytestmark = pytest.mark.integration

SECRETS = ("王秘密", "13912345678", "wang_secret_88", "YJ-SECRET-7")


async def everything_stored(dsn: str, schema: str) -> str:
    """Every row of every table in the roster's schema, as text."""
    conn = await asyncpg.connect(dsn)
    try:
        tables = await conn.fetch(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = $1", schema
        )
        dumps = [
            str(await conn.fetch(f"SELECT t::text FROM {schema}.{row[0]} t")) for row in tables
        ]
        return "\n".join(dumps)
    finally:
        await conn.close()


async def test_a_forgotten_members_personal_data_appears_nowhere(
    pg_roster: Roster, pg_settings: Settings, kafka_bootstrap: str
) -> None:
    roster = pg_roster
    city = await roster.unit("阳泉市总工会", "city_federation")
    rep = await roster.member(city, "representative")
    name, phone, wechat, number = SECRETS
    worker = str(uuid.uuid4())
    await roster.ok(
        "POST",
        "/members",
        json={
            "member_id": worker,
            "unit_id": city,
            "tier": "worker",
            "name": name,
            "phone": phone,
            "wechat_id": wechat,
            "external_number": number,
        },
    )
    await roster.link(rep, worker)
    schema = pg_settings.store_schema("roster")
    before = await everything_stored(pg_settings.pg_dsn, schema)
    assert name in before  # the read model holds it while the member is known

    await roster.ok("POST", f"/members/{worker}/forget")

    shown = await roster.ok("GET", f"/members/{worker}")
    assert shown["status"] == "forgotten"
    assert [shown[k] for k in ("name", "phone", "wechat_id", "external_number")] == [None] * 4
    after = await everything_stored(pg_settings.pg_dsn, schema)
    for secret in SECRETS:
        assert secret not in after

    store = PostgresEventStore(pg_settings.pg_dsn, "roster", installed_registry(), schema=schema)
    await store.open()
    settings = Settings(kafka_bootstrap=kafka_bootstrap, topic_prefix=f"t{uuid.uuid4().hex[:8]}")
    topic = settings.topic("roster")
    await ensure_topics(settings, [topic])
    producer = make_producer(settings)
    await producer.start()
    try:
        published = await Relay(store, producer, topic).drain()
        events = await store.read_all(0, 10_000)
    finally:
        await producer.stop()
        await store.close()
    assert published == len(events)
    assert verify_chain(events) == len(events)  # the chain covers ciphertext: still intact
    records = await read_topic(kafka_bootstrap, topic)
    raw = b"".join(
        r.value + b"".join(v for _, v in r.headers) for rs in records.values() for r in rs
    )
    assert sum(len(rs) for rs in records.values()) == len(events)
    for secret in SECRETS:
        assert secret.encode() not in raw


async def test_a_forgotten_member_cannot_be_changed_or_linked(roster: Roster) -> None:
    city = await roster.unit("阳泉市总工会", "city_federation")
    rep = await roster.member(city, "representative")
    worker = await roster.member(city, "worker")
    await roster.ok("POST", f"/members/{worker}/forget")
    again = await roster.client.post(f"/members/{worker}/forget")
    assert again.status_code == 409
    link = await roster.client.post(
        "/links", json={"upper_member_id": rep, "lower_member_id": worker}
    )
    assert link.status_code == 409
    assert "forgotten" in link.json()["detail"]
    details = await roster.client.put(f"/members/{worker}/details", json={"name": "新名字"})
    assert details.status_code == 409
