"""Crypto-shredding against real key stores: PostgreSQL and SQLite alike, then each one's own
guarantees (races between replicas on PostgreSQL, nothing left in the files on SQLite)."""

from __future__ import annotations

import asyncio
import base64
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from uuid import UUID

import aiosqlite
import asyncpg
import pytest

from eventspine.crypto import (
    KeyDestroyedError,
    KeyStore,
    PersonalDataVault,
    PostgresKeyStore,
    SqliteKeyStore,
)
from eventspine.events import DomainEvent, EventRegistry
from eventspine.hashing import verify_chain
from eventspine.store.base import NO_STREAM, CommandContext, EventStore
from eventspine.store.postgres import PostgresEventStore
from eventspine.store.sqlite import SqliteEventStore

pytestmark = pytest.mark.integration

PERSON: dict[str, str | None] = {
    "name": "张东峰",
    "phone": "13800000000",
    "wechat_id": "zdf_1985",
    "external_number": "YJ-0042",
}
CTX = CommandContext(actor="staff:test")


class MemberContactRecorded(DomainEvent):
    """A test event carrying personal data the way services must: sealed."""

    event_type = "TestMemberContactRecorded"
    event_version = 1
    member_id: UUID
    personal: str


@pytest.fixture
async def pg_pool(pg_dsn: str) -> AsyncIterator[asyncpg.Pool]:
    """A pool big enough for 20 concurrent key look-ups to race."""
    pool = await asyncpg.create_pool(pg_dsn, min_size=1, max_size=25)
    yield pool
    await pool.close()


@pytest.fixture
async def pg_keys(pg_pool: asyncpg.Pool, pg_schema: str) -> AsyncIterator[PostgresKeyStore]:
    """A PostgreSQL key store in a fresh schema."""
    keys = PostgresKeyStore(pg_pool, pg_schema)
    await keys.open()
    yield keys
    await keys.close()


@pytest.fixture
async def sqlite_keys(tmp_path: Path) -> AsyncIterator[SqliteKeyStore]:
    """An SQLite key store in a fresh file."""
    keys = SqliteKeyStore(str(tmp_path / "keys.sqlite"))
    await keys.open()
    yield keys
    await keys.close()


@pytest.fixture(params=["pg", "sqlite"])
def keys(request: pytest.FixtureRequest) -> KeyStore:
    """The same contract, run against each backend."""
    fixture: KeyStore = request.getfixturevalue(f"{request.param}_keys")
    return fixture


@pytest.fixture
def vault(keys: KeyStore) -> PersonalDataVault:
    return PersonalDataVault(keys)


def _raw(sealed: str) -> bytes:
    body = sealed.removeprefix("v1.")
    return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))


def _with_byte_flipped(sealed: str, index: int) -> str:
    raw = bytearray(_raw(sealed))
    raw[index] ^= 0x01
    return "v1." + base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()


# The KeyStore contract and the vault, on both backends.


async def test_personal_data_round_trips_with_chinese_text_and_none(
    vault: PersonalDataVault,
) -> None:
    member = uuid.uuid4()
    data = {**PERSON, "wechat_id": None}
    sealed = await vault.seal(member, data)
    assert await vault.unseal(member, sealed) == data
    assert await vault.unseal(member, await vault.seal(member, PERSON)) == PERSON


async def test_sealed_value_shows_none_of_the_clear_values(vault: PersonalDataVault) -> None:
    sealed = await vault.seal(uuid.uuid4(), PERSON)
    raw = _raw(sealed)
    for name, value in PERSON.items():
        assert value is not None
        assert value not in sealed
        assert value.encode("utf-8") not in raw
        assert name.encode() not in raw


async def test_each_seal_uses_a_fresh_nonce(vault: PersonalDataVault) -> None:
    member = uuid.uuid4()
    first, second = await vault.seal(member, PERSON), await vault.seal(member, PERSON)
    assert first != second
    assert _raw(first)[:12] != _raw(second)[:12]
    assert await vault.unseal(member, first) == await vault.unseal(member, second) == PERSON


async def test_key_for_creates_once_and_reads_without_creating(keys: KeyStore) -> None:
    subject = uuid.uuid4()
    assert await keys.key_for(subject, create=False) is None
    assert await keys.key_for(subject, create=False) is None  # asking did not create one
    key = await keys.key_for(subject, create=True)
    assert isinstance(key, bytes)
    assert len(key) == 32
    assert await keys.key_for(subject, create=True) == key
    assert await keys.key_for(subject, create=False) == key
    assert await keys.key_for(uuid.uuid4(), create=True) != key


async def test_open_is_idempotent(keys: KeyStore) -> None:
    subject = uuid.uuid4()
    key = await keys.key_for(subject, create=True)
    await keys.open()
    assert await keys.key_for(subject, create=False) == key


async def test_forgotten_member_stays_forgotten(keys: KeyStore, vault: PersonalDataVault) -> None:
    member, other = uuid.uuid4(), uuid.uuid4()
    sealed = await vault.seal(member, PERSON)
    kept = await vault.seal(other, PERSON)

    assert await vault.forget(member) is True

    assert await vault.unseal(member, sealed) is None
    assert await keys.key_for(member, create=False) is None
    with pytest.raises(KeyDestroyedError) as raised:
        await keys.key_for(member, create=True)
    assert raised.value.subject_id == member
    with pytest.raises(KeyDestroyedError):
        await vault.seal(member, PERSON)
    assert await vault.forget(member) is False
    assert await keys.destroy(member) is False
    assert await vault.unseal(other, kept) == PERSON  # only that member was forgotten


async def test_forgetting_a_member_without_a_key_keeps_one_from_being_created(
    keys: KeyStore, vault: PersonalDataVault
) -> None:
    member = uuid.uuid4()
    assert await vault.forget(member) is False
    with pytest.raises(KeyDestroyedError):
        await keys.key_for(member, create=True)
    assert await keys.key_for(member, create=False) is None


async def test_a_value_sealed_for_one_member_does_not_open_as_another(
    vault: PersonalDataVault,
) -> None:
    a, b = uuid.uuid4(), uuid.uuid4()
    sealed_for_a = await vault.seal(a, PERSON)
    await vault.seal(b, {"name": "李四"})  # b has a key of its own
    with pytest.raises(ValueError, match="another subject"):
        await vault.unseal(b, sealed_for_a)
    assert await vault.unseal(a, sealed_for_a) == PERSON


async def test_a_flipped_byte_anywhere_is_detected(vault: PersonalDataVault) -> None:
    member = uuid.uuid4()
    sealed = await vault.seal(member, PERSON)
    size = len(_raw(sealed))
    for index in (0, 11, 12, size // 2, size - 17, size - 16, size - 1):  # nonce, text, tag
        with pytest.raises(ValueError, match="altered"):
            await vault.unseal(member, _with_byte_flipped(sealed, index))


async def test_malformed_values_are_refused(vault: PersonalDataVault) -> None:
    member = uuid.uuid4()
    sealed = await vault.seal(member, PERSON)
    for bad in ("v2." + sealed[3:], sealed[3:], sealed + "!", sealed[:20]):
        with pytest.raises(ValueError, match=r"not a sealed value|altered"):
            await vault.unseal(member, bad)


async def test_unseal_many_reads_a_list_page(vault: PersonalDataVault) -> None:
    members = [uuid.uuid4() for _ in range(5)]
    sealed = [
        await vault.seal(m, {"name": f"会员{i}", "phone": None}) for i, m in enumerate(members)
    ]
    await vault.forget(members[2])
    items = [*zip(members, sealed, strict=True), (members[0], sealed[0])]

    result = await vault.unseal_many(items)

    expected: list[dict[str, str | None] | None] = [
        {"name": f"会员{i}", "phone": None} for i in range(5)
    ]
    expected[2] = None
    assert result == [*expected, expected[0]]


async def test_the_hash_chain_still_verifies_after_the_member_is_forgotten(
    keys: KeyStore, vault: PersonalDataVault, tmp_path: Path, pg_dsn: str
) -> None:
    registry = EventRegistry([MemberContactRecorded])
    store: EventStore
    if isinstance(keys, PostgresKeyStore):  # the service's events next to its keys
        store = PostgresEventStore(pg_dsn, "roster", registry, schema=keys.schema)
    else:
        store = SqliteEventStore(str(tmp_path / "roster.sqlite"), "roster", registry)
    await store.open()
    try:
        member = uuid.uuid4()
        stream = f"member-{member}"
        events = [
            MemberContactRecorded(member_id=member, personal=await vault.seal(member, PERSON)),
            MemberContactRecorded(
                member_id=member, personal=await vault.seal(member, {**PERSON, "phone": None})
            ),
        ]
        await store.append(stream, NO_STREAM, events, CTX)
        assert await vault.unseal(member, (await store.read_stream(stream))[0].data["personal"])

        assert await vault.forget(member)

        stored = await store.read_stream(stream)
        assert verify_chain(stored) == 2
        assert [e.data["personal"] for e in stored] == [e.personal for e in events]
        sealed_values = [(member, str(e.data["personal"])) for e in stored]
        assert await vault.unseal_many(sealed_values) == [None, None]
    finally:
        await store.close()


async def test_concurrent_key_requests_for_a_new_subject_agree(keys: KeyStore) -> None:
    subject = uuid.uuid4()
    found = await asyncio.gather(*(keys.key_for(subject, create=True) for _ in range(20)))
    assert found[0] is not None
    assert all(key == found[0] for key in found)
    assert await keys.key_for(subject, create=False) == found[0]


# PostgreSQL: several replicas share the table.


async def test_twenty_concurrent_creators_on_postgres_store_one_key(
    pg_pool: asyncpg.Pool, pg_keys: PostgresKeyStore
) -> None:
    subject = uuid.uuid4()
    # Different store objects, as on different replicas; the pool gives each its own connection.
    stores = [PostgresKeyStore(pg_pool, pg_keys.schema) for _ in range(20)]
    found = await asyncio.gather(*(s.key_for(subject, create=True) for s in stores))
    assert len(set(found)) == 1
    assert found[0] is not None
    assert len(found[0]) == 32
    rows = await pg_pool.fetch(
        f"SELECT key FROM {pg_keys.schema}.subject_keys WHERE subject_id = $1", subject
    )
    assert [row["key"] for row in rows] == [found[0]]


async def test_concurrent_forgets_on_postgres_destroy_once(pg_keys: PostgresKeyStore) -> None:
    subject = uuid.uuid4()
    await pg_keys.key_for(subject, create=True)
    outcomes = await asyncio.gather(*(pg_keys.destroy(subject) for _ in range(10)))
    assert sorted(outcomes) == [False] * 9 + [True]


async def test_a_member_forgotten_by_one_replica_is_unreadable_on_another(
    pg_dsn: str, pg_keys: PostgresKeyStore
) -> None:
    member = uuid.uuid4()
    here = PersonalDataVault(pg_keys)
    sealed = await here.seal(member, PERSON)
    assert await here.unseal(member, sealed) == PERSON
    other_pool = await asyncpg.create_pool(pg_dsn, min_size=1, max_size=2)
    try:
        there = PersonalDataVault(PostgresKeyStore(other_pool, pg_keys.schema))
        assert await there.unseal(member, sealed) == PERSON
        assert await there.forget(member)
    finally:
        await other_pool.close()
    assert await here.unseal(member, sealed) is None  # nothing cached here


async def test_after_forget_the_key_is_gone_from_the_postgres_table(
    pg_pool: asyncpg.Pool, pg_keys: PostgresKeyStore
) -> None:
    member = uuid.uuid4()
    key = await pg_keys.key_for(member, create=True)
    assert key is not None
    table = f"{pg_keys.schema}.subject_keys"

    assert await PersonalDataVault(pg_keys).forget(member)

    row = await pg_pool.fetchrow(
        f"SELECT key IS NULL AS gone, destroyed_at IS NOT NULL AS tombstone, created_at "
        f"FROM {table} WHERE subject_id = $1",
        member,
    )
    assert row is not None
    assert row["gone"]
    assert row["tombstone"]
    assert row["created_at"] is not None
    assert await pg_pool.fetchval(f"SELECT count(*) FROM {table} WHERE key = $1", key) == 0
    # Nor anywhere else in any row, in whatever form the table prints it.
    assert (
        await pg_pool.fetchval(
            f"SELECT count(*) FROM {table} t WHERE strpos(t::text, encode($1, 'hex')) > 0", key
        )
        == 0
    )


async def test_postgres_table_refuses_keys_of_the_wrong_size(
    pg_pool: asyncpg.Pool, pg_keys: PostgresKeyStore
) -> None:
    with pytest.raises(asyncpg.CheckViolationError):
        await pg_pool.execute(
            f"INSERT INTO {pg_keys.schema}.subject_keys (subject_id, key) VALUES ($1, $2)",
            uuid.uuid4(),
            b"short",
        )


async def test_replicas_starting_together_create_the_table_once(
    pg_pool: asyncpg.Pool, pg_schema: str
) -> None:
    stores = [PostgresKeyStore(pg_pool, pg_schema) for _ in range(5)]
    await asyncio.gather(*(s.open() for s in stores))
    subject = uuid.uuid4()
    key = await stores[0].key_for(subject, create=True)
    assert await stores[4].key_for(subject, create=False) == key


async def test_postgres_schema_names_are_checked(pg_pool: asyncpg.Pool) -> None:
    with pytest.raises(ValueError, match="invalid PostgreSQL schema name"):
        PostgresKeyStore(pg_pool, "roster; DROP TABLE x")


# SQLite: the key must not survive in the database file or its WAL.


def _contents(folder: Path) -> dict[str, bytes]:
    """Every file in ``folder`` (the database, its WAL and shared memory), byte for byte."""
    return {path.name: path.read_bytes() for path in folder.iterdir()}


@pytest.mark.parametrize("checkpointed", [False, True], ids=["in-wal", "in-file"])
async def test_after_forget_the_key_is_in_none_of_the_sqlite_files(
    tmp_path: Path, checkpointed: bool
) -> None:
    path = tmp_path / "roster.sqlite"
    keys = SqliteKeyStore(str(path))
    await keys.open()
    try:
        vault = PersonalDataVault(keys)
        members = [uuid.uuid4() for _ in range(3)]
        for member in members:
            await vault.seal(member, PERSON)
        key = await keys.key_for(members[1], create=False)
        assert key is not None
        if checkpointed:  # as SQLite does by itself once the WAL grows: the key is in the file
            async with aiosqlite.connect(path) as other:
                await other.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            assert key in _contents(tmp_path)[path.name]
        assert any(key in content for content in _contents(tmp_path).values())  # it can be seen

        assert await vault.forget(members[1])

        assert [name for name, content in _contents(tmp_path).items() if key in content] == []
        assert await keys.key_for(members[0], create=False) is not None
    finally:
        await keys.close()
    reopened = SqliteKeyStore(str(path))
    await reopened.open()
    try:
        assert await reopened.key_for(members[1], create=False) is None
        with pytest.raises(KeyDestroyedError):
            await reopened.key_for(members[1], create=True)
    finally:
        await reopened.close()
