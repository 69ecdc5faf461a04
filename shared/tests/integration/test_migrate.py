"""An embedded installation moves to the full topology: the auditor verifies the moved history
(stores and topics), personal data stays readable, the forgotten stay forgotten, a command's
Idempotency-Key stays bound to its request."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import aiosqlite
import asyncpg
import httpx
import pytest

from access.accounts import open_accounts
from access.passwords import hash_password
from eventspine.config import Settings
from eventspine.crypto import PersonalDataVault, PostgresKeyStore, SqliteKeyStore
from eventspine.store.base import CommandContext
from roster import bootstrap as roster_bootstrap
from roster import commands as rcmd
from roster.main import create_app as create_roster_app
from servicekit.migrate import SERVICES, MigrationError, migrate
from support.pg import topology_settings
from web.demo import generate

pytestmark = pytest.mark.integration
PASSWORD = "the-chairs-password"
KEY = uuid.uuid4()


def clock() -> datetime:
    return datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


@pytest.fixture
async def embedded(tmp_path: Path) -> tuple[Settings, uuid.UUID]:
    """A small demo city on SQLite, with one member forgotten."""
    settings = Settings(store_backend="sqlite", sqlite_dir=str(tmp_path))
    await generate(settings, seed=7, scale=0.02, clock=clock)
    roster = await roster_bootstrap.build(settings, clock)
    try:
        found = await roster.queries.search("YQ00002", 10, 0)
        forgotten = found.data[0].member_id
        forget = rcmd.ForgetMember(member_id=forgotten)
        await roster.commands.run(forget, CommandContext(actor="staff:test", command_id=KEY))
    finally:
        await roster.close()
    accounts, close = await open_accounts(settings)
    try:
        await accounts.create(
            username="chair",
            password_hash=hash_password(PASSWORD),
            role="admin",
            member_id=None,
            scopes=(),
            now=clock(),
            created_by="test",
        )
    finally:
        await close()
    return settings, forgotten


@pytest.fixture
async def target(pg_dsn: str, kafka_bootstrap: str) -> AsyncIterator[Settings]:
    async with topology_settings(pg_dsn, kafka_bootstrap, "m") as settings:
        yield settings


async def _sqlite_rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    async with aiosqlite.connect(path) as db, db.execute(sql) as cursor:
        return [tuple(row) for row in await cursor.fetchall()]


def _audit(settings: Settings, source: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "SANLIAN_STORE_BACKEND": "postgres",
        "SANLIAN_PG_DSN": settings.pg_dsn,
        "SANLIAN_PG_SCHEMA_PREFIX": settings.pg_schema_prefix,
        "SANLIAN_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "SANLIAN_TOPIC_PREFIX": settings.topic_prefix,
    }
    return subprocess.run(
        [str(Path(sys.executable).parent / "sanlian-audit"), "verify", "--source", source],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


async def test_the_moved_history_verifies_and_stays_readable(
    embedded: tuple[Settings, uuid.UUID], target: Settings
) -> None:
    source, forgotten = embedded
    folder = Path(source.sqlite_dir)
    moved = await migrate(target, folder)

    conn = await asyncpg.connect(target.pg_dsn)
    try:
        for result in moved:
            service = result.service
            if not (folder / f"{service}-events.sqlite").exists():
                # A service the demo never ran (notify, which only the running app feeds).
                assert (result.events, result.published) == (0, 0), service
                continue
            stored = await _sqlite_rows(
                folder / f"{service}-events.sqlite",
                "SELECT position, event_id, stream_id, stream_version, actor, hash "
                "FROM events ORDER BY position",
            )
            assert result.events == len(stored) > 0
            assert result.published == len(stored)
            rows = await conn.fetch(
                "SELECT position, event_id::text, stream_id, stream_version, actor, hash "
                f"FROM {target.store_schema(service)}.events ORDER BY position"
            )
            assert [tuple(row) for row in rows] == stored, service
        roster_keys = await _sqlite_rows(
            folder / "roster-keys.sqlite", "SELECT * FROM subject_keys"
        )
        assert moved[0].keys + moved[0].tombstones == len(roster_keys)
        assert moved[0].tombstones >= 1
        commands = await _sqlite_rows(
            folder / "roster-events.sqlite", "SELECT command_id, fingerprint FROM commands"
        )
        assert moved[0].commands == len(commands) >= 1
        rows = await conn.fetch(
            f"SELECT command_id::text, fingerprint FROM {target.store_schema('roster')}.commands"
        )
        assert sorted(tuple(row) for row in rows) == sorted(commands)
        fingerprints = {command_id: fingerprint for command_id, fingerprint in commands}
        assert fingerprints[str(KEY)]  # the forget's, recorded with its append
    finally:
        await conn.close()

    # The auditor: hash chains, versions, schemas, and the topics equal to the stores.
    audit = await asyncio.to_thread(_audit, target, "both")
    assert audit.returncode == 0, audit.stdout + audit.stderr

    # Personal data opens with the moved keys exactly as with the embedded ones; the
    # forgotten member's key stayed destroyed.
    pool = await asyncpg.create_pool(target.pg_dsn, min_size=1, max_size=2)
    sqlite_keys = SqliteKeyStore(str(folder / "roster-keys.sqlite"))
    await sqlite_keys.open()
    try:
        moved_vault = PersonalDataVault(PostgresKeyStore(pool, target.store_schema("roster")))
        embedded_vault = PersonalDataVault(sqlite_keys)
        sealed = await _sqlite_rows(
            folder / "roster-events.sqlite",
            "SELECT json_extract(data, '$.member_id'), json_extract(data, '$.personal_data') "
            "FROM events WHERE event_type = 'MemberRegistered'",
        )
        opened = 0
        for member_id, personal in sealed:
            member = uuid.UUID(str(member_id))
            expected = await embedded_vault.unseal(member, str(personal))
            assert await moved_vault.unseal(member, str(personal)) == expected
            if member == forgotten:
                assert expected is None
            else:
                assert expected is not None
                assert expected["name"]
                opened += 1
        assert opened == len(sealed) - 1
        assert not await moved_vault.forget(forgotten)  # a tombstone is there already
    finally:
        await sqlite_keys.close()
        await pool.close()

    # Staff sign in on the full topology with the passwords they had.
    assert moved[0].accounts == 1
    app = create_roster_app(target, clock)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://roster") as http:
            signed = await http.post(
                "/auth/token", data={"username": "chair", "password": PASSWORD}
            )
            assert signed.status_code == 200, signed.text
            assert signed.json()["role"] == "admin"

    # Run again (an interrupted move is resumed): nothing more to copy or publish.
    again = await migrate(target, folder)
    copied = [(m.events, m.commands, m.published, m.accounts) for m in again]
    assert copied == [(0, 0, 0, 0)] * len(SERVICES)
    assert [m.already for m in again] == [m.events for m in moved]


async def test_a_target_holding_other_history_is_refused(
    embedded: tuple[Settings, uuid.UUID], target: Settings, tmp_path: Path
) -> None:
    other = Settings(store_backend="sqlite", sqlite_dir=str(tmp_path / "other"))
    await generate(other, seed=8, scale=0.02, clock=clock)
    await migrate(target, Path(other.sqlite_dir), to_kafka=False)
    with pytest.raises(MigrationError, match="not this installation's"):
        await migrate(target, Path(embedded[0].sqlite_dir), to_kafka=False)
