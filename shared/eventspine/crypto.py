"""Crypto-shredding of personal data: encrypt per subject, forget by destroying the key.

Events are kept forever (on Kafka, and by the city systems that subscribe to them), so
personal data (names, phone numbers, WeChat ids, employee numbers) never appears in one in
clear. A service seals a subject's personal data with a key of its own (AES-256-GCM) and puts
only the sealed string in its events. Forgetting the subject destroys the key: the ciphertext
in old events becomes unreadable while the events' hash chain, which covers the ciphertext,
still verifies.

Keys live in a :class:`KeyStore` next to the service's state, never in an event. They are not
cached: another replica may forget a subject at any moment, and a cached key would keep its
data readable. :meth:`PersonalDataVault.unseal_many` batches the key look-ups of a list page.

Equality search and uniqueness checks over personal values (an employee number within a unit)
use :func:`blind_index`, a keyed hash, instead of the value in clear.

Destroying a key removes it from the store's live rows (PostgreSQL: ``key`` set to NULL;
SQLite: overwritten with ``secure_delete`` and the WAL truncated). Copies outside the live
rows are an operational matter: on PostgreSQL the old row version stays in the table's pages
until VACUUM reclaims it, and WAL archives and backups keep keys until they are rotated out.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
from collections.abc import Mapping, Sequence
from typing import Any, Protocol
from uuid import UUID

import aiosqlite
import asyncpg
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from eventspine.errors import SpineError
from eventspine.store.migration import ddl_step, run_migration
from eventspine.store.postgres import checked_schema

KEY_BYTES = 32
"""AES-256."""
NONCE_BYTES = 12
"""The 96-bit nonce GCM is specified for; random, so a key must seal far fewer than 2**32
values (one subject's personal data is sealed a handful of times)."""
TAG_BYTES = 16
SEALED_PREFIX = "v1."
"""Format version of a sealed value: ``v1.`` + base64url(nonce || ciphertext || tag)."""
MIN_INDEX_SECRET_BYTES = 16

PersonalData = dict[str, str | None]


class KeyDestroyedError(SpineError):
    """The subject was forgotten: its key is destroyed and is never created again.

    Raised when personal data would be sealed for a forgotten subject; a service would answer
    it as, for example, HTTP 410 Gone.
    """

    def __init__(self, subject_id: UUID) -> None:
        self.subject_id = subject_id
        super().__init__(f"subject {subject_id} was forgotten: its key is destroyed")


class KeyStore(Protocol):
    """Where the per-subject keys live; a destroyed key leaves a tombstone behind."""

    async def open(self) -> None:
        """Create the key table if missing (idempotent)."""
        ...

    async def close(self) -> None:
        """Release what :meth:`open` acquired."""
        ...

    async def key_for(self, subject_id: UUID, *, create: bool) -> bytes | None:
        """The subject's 32-byte key; created (idempotently, race-safe) when create=True and none
        exists; None when it was destroyed (never re-created after destruction, even with
        create=True: raise KeyDestroyedError in that case) or (create=False) never existed."""
        ...

    async def destroy(self, subject_id: UUID) -> bool:
        """Overwrite/delete the key irrecoverably, remember that it was destroyed (a tombstone
        row with destroyed_at, key NULL); return True if a key was destroyed now, False if
        already gone."""
        ...


def _new_key() -> bytes:
    return os.urandom(KEY_BYTES)


def _resolve(subject_id: UUID, key: bytes | None, destroyed: bool, create: bool) -> bytes | None:
    """What :meth:`KeyStore.key_for` answers for a stored row."""
    if key is not None:
        return bytes(key)
    if destroyed and create:
        raise KeyDestroyedError(subject_id)
    return None


def _pg_ddl(schema: str) -> str:
    s = schema
    return f"""
CREATE SCHEMA IF NOT EXISTS {s};

CREATE TABLE IF NOT EXISTS {s}.subject_keys (
    subject_id    uuid PRIMARY KEY,
    key           bytea,
    created_at    timestamptz NOT NULL DEFAULT now(),
    destroyed_at  timestamptz,
    CONSTRAINT subject_keys_key_or_tombstone CHECK ((key IS NULL) = (destroyed_at IS NOT NULL)),
    CONSTRAINT subject_keys_key_length CHECK (key IS NULL OR octet_length(key) = {KEY_BYTES})
);
"""


class PostgresKeyStore:
    """:class:`KeyStore` in table ``<schema>.subject_keys`` of a PostgreSQL database.

    The pool belongs to the caller (typically the service's event store pool): :meth:`close`
    leaves it open. Each statement runs on its own (autocommit), so a freshly created key is
    durable before anything is sealed with it.
    """

    def __init__(self, pool: asyncpg.Pool, schema: str) -> None:
        self.pool = pool
        self.schema = checked_schema(schema)
        self._table = f"{self.schema}.subject_keys"

    async def open(self) -> None:
        """Create the schema and the table, under the lock replicas starting together share."""
        await run_migration(self.pool, ddl_step(_pg_ddl(self.schema)))

    async def close(self) -> None:
        """Nothing to release: the pool is the caller's."""

    async def _row(self, subject_id: UUID) -> tuple[bytes | None, bool] | None:
        row = await self.pool.fetchrow(
            f"SELECT key, destroyed_at IS NOT NULL AS destroyed FROM {self._table} "
            "WHERE subject_id = $1",
            subject_id,
        )
        return None if row is None else (row["key"], row["destroyed"])

    async def key_for(self, subject_id: UUID, *, create: bool) -> bytes | None:
        """The subject's key; see :meth:`KeyStore.key_for`."""
        row = await self._row(subject_id)
        if row is None and create:
            # Concurrent creators race here: exactly one insert wins (a loser's insert waits
            # for the winner's commit), and everyone's next statement reads the winner's key.
            await self.pool.execute(
                f"INSERT INTO {self._table} (subject_id, key) VALUES ($1, $2) "
                "ON CONFLICT (subject_id) DO NOTHING",
                subject_id,
                _new_key(),
            )
            row = await self._row(subject_id)
            if row is None:
                raise RuntimeError(f"the key of subject {subject_id} was neither created nor found")
        if row is None:
            return None
        return _resolve(subject_id, row[0], row[1], create)

    async def destroy(self, subject_id: UUID) -> bool:
        """Destroy the key and keep a tombstone; see :meth:`KeyStore.destroy`."""
        # A subject that never had a key still gets a tombstone, so no key is created later.
        tombstoned = await self.pool.fetchval(
            f"INSERT INTO {self._table} (subject_id, key, destroyed_at) VALUES ($1, NULL, now()) "
            "ON CONFLICT (subject_id) DO NOTHING RETURNING true",
            subject_id,
        )
        if tombstoned:
            return False
        # Concurrent destroyers wait on the row lock and then find destroyed_at set: one wins.
        destroyed = await self.pool.fetchval(
            f"UPDATE {self._table} SET key = NULL, destroyed_at = now() "
            "WHERE subject_id = $1 AND destroyed_at IS NULL RETURNING true",
            subject_id,
        )
        return bool(destroyed)


_SQLITE_DDL = f"""
CREATE TABLE IF NOT EXISTS subject_keys (
    subject_id    TEXT PRIMARY KEY,
    key           BLOB,
    created_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    destroyed_at  TEXT,
    CHECK ((key IS NULL) = (destroyed_at IS NOT NULL)),
    CHECK (key IS NULL OR length(key) = {KEY_BYTES})
);
"""
_SQLITE_NOW = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"


class SqliteKeyStore:
    """:class:`KeyStore` in table ``subject_keys`` of an SQLite file, on its own connection.

    Every statement commits on its own, so coroutines sharing the connection never end up in
    each other's transaction, and other processes using the file are serialised by SQLite.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._db: aiosqlite.Connection | None = None

    @property
    def db(self) -> aiosqlite.Connection:
        """The open connection."""
        if self._db is None:
            raise RuntimeError("the key store is not open")
        return self._db

    async def open(self) -> None:
        """Open the file (WAL) and create the table."""
        if self._db is not None:
            return
        self._db = await aiosqlite.connect(self.path, isolation_level=None)
        await self._rows("PRAGMA journal_mode=WAL")
        # A created key must survive a crash: data sealed with it would be lost otherwise.
        await self._rows("PRAGMA synchronous=FULL")
        await self._rows("PRAGMA busy_timeout=10000")
        # Freed content (a destroyed key) is overwritten with zeros, not merely unlinked.
        await self._rows("PRAGMA secure_delete=ON")
        await self._db.executescript(_SQLITE_DDL)

    async def close(self) -> None:
        """Close the connection."""
        if self._db is not None:
            await self._db.close()
            self._db = None

    async def _row(self, subject_id: UUID) -> tuple[bytes | None, bool] | None:
        rows = await self._rows(
            "SELECT key, destroyed_at IS NOT NULL FROM subject_keys WHERE subject_id = ?",
            str(subject_id),
        )
        return (rows[0][0], bool(rows[0][1])) if rows else None

    async def _rows(self, sql: str, *args: Any) -> list[Any]:
        # Fetched to the end and closed: a statement left half-read keeps a read transaction.
        async with self.db.execute(sql, args) as cursor:
            return list(await cursor.fetchall())

    async def _changes(self, sql: str, *args: Any) -> int:
        async with self.db.execute(sql, args) as cursor:
            return cursor.rowcount

    async def key_for(self, subject_id: UUID, *, create: bool) -> bytes | None:
        """The subject's key; see :meth:`KeyStore.key_for`."""
        row = await self._row(subject_id)
        if row is None and create:
            await self._changes(
                "INSERT INTO subject_keys (subject_id, key) VALUES (?, ?) "
                "ON CONFLICT (subject_id) DO NOTHING",
                str(subject_id),
                _new_key(),
            )
            row = await self._row(subject_id)  # ours, or the key a concurrent caller stored
            if row is None:
                raise RuntimeError(f"the key of subject {subject_id} was neither created nor found")
        if row is None:
            return None
        return _resolve(subject_id, row[0], row[1], create)

    async def destroy(self, subject_id: UUID) -> bool:
        """Destroy the key and keep a tombstone; see :meth:`KeyStore.destroy`."""
        if await self._changes(
            "INSERT INTO subject_keys (subject_id, key, destroyed_at) "
            f"VALUES (?, NULL, {_SQLITE_NOW}) ON CONFLICT (subject_id) DO NOTHING",
            str(subject_id),
        ):
            return False  # never had a key; the tombstone keeps one from being created later
        destroyed = await self._changes(
            f"UPDATE subject_keys SET key = NULL, destroyed_at = {_SQLITE_NOW} "
            "WHERE subject_id = ? AND destroyed_at IS NULL",
            str(subject_id),
        )
        if destroyed:
            # The WAL still holds the page as it was before: copy the new page into the file
            # and empty the WAL. Best effort: a long-running reader elsewhere may delay it.
            await self._rows("PRAGMA wal_checkpoint(TRUNCATE)")
        return destroyed > 0


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _decode(sealed: str) -> bytes:
    """``nonce || ciphertext || tag`` of a sealed value, or ValueError if it is not one."""
    if not isinstance(sealed, str) or not sealed.startswith(SEALED_PREFIX):
        raise ValueError(f"not a sealed value: it must start with {SEALED_PREFIX!r}")
    body = sealed[len(SEALED_PREFIX) :]
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError):
        raise ValueError("not a sealed value: bad base64") from None
    # The decoder skips stray characters; only the exact encoding of the bytes is accepted.
    if _encode(raw) != body:
        raise ValueError("not a sealed value: bad base64")
    if len(raw) < NONCE_BYTES + TAG_BYTES:
        raise ValueError("not a sealed value: too short")
    return raw


def _plaintext(data: Mapping[str, str | None]) -> bytes:
    for name, value in data.items():
        if not isinstance(name, str) or not (value is None or isinstance(value, str)):
            raise TypeError("personal data maps names (str) to values (str or None)")
    return json.dumps(dict(data), sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode(
        "utf-8"
    )


def _open(subject_id: UUID, key: bytes, raw: bytes) -> PersonalData:
    try:
        plaintext = AESGCM(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], subject_id.bytes)
    except InvalidTag:
        raise ValueError(
            f"sealed value does not open for subject {subject_id}: "
            "it was altered, or sealed for another subject"
        ) from None
    data = json.loads(plaintext.decode("utf-8"))
    if not isinstance(data, dict) or not all(
        isinstance(value, str | None) for value in data.values()
    ):
        raise ValueError("sealed value does not hold personal data")
    return data


class PersonalDataVault:
    """Seals and unseals subjects' personal data, and forgets subjects.

    A sealed value is ``v1.`` + base64url (no padding) of ``nonce || ciphertext || tag``:
    AES-256-GCM with the subject's key, a fresh random nonce, and the subject id as associated
    data, so a sealed value moved to another subject does not open. The plaintext is the data
    as JSON (sorted keys, UTF-8).
    """

    def __init__(self, keys: KeyStore) -> None:
        self.keys = keys

    async def seal(self, subject_id: UUID, data: Mapping[str, str | None]) -> str:
        """AES-256-GCM with the subject's key (created if needed); AAD = subject_id bytes so a
        ciphertext cannot be moved to another member; a fresh 96-bit nonce each time; JSON of
        data (sorted keys, UTF-8) as plaintext. Returns "v1." + urlsafe base64 (no padding) of
        nonce||ciphertext.

        Raises :class:`KeyDestroyedError` if the subject was forgotten.
        """
        plaintext = _plaintext(data)
        key = await self.keys.key_for(subject_id, create=True)
        if key is None:  # a KeyStore raises instead; guard against one that does not
            raise KeyDestroyedError(subject_id)
        nonce = os.urandom(NONCE_BYTES)
        return SEALED_PREFIX + _encode(
            nonce + AESGCM(key).encrypt(nonce, plaintext, subject_id.bytes)
        )

    async def unseal(self, subject_id: UUID, sealed: str) -> PersonalData | None:
        """The data, or None when the subject's key was destroyed (forgotten). Raises
        ValueError for a malformed or tampered value (wrong prefix, bad base64, GCM tag
        failure).

        A subject that never had a key also gives None: nothing sealed for it can be read.
        """
        raw = _decode(sealed)
        key = await self.keys.key_for(subject_id, create=False)
        return None if key is None else _open(subject_id, key, raw)

    async def forget(self, subject_id: UUID) -> bool:
        """Destroy the subject's key: everything sealed for it becomes unreadable, for good.

        True if a key was destroyed now, False if the subject was already forgotten (or never
        had a key; it cannot get one afterwards either way).
        """
        return await self.keys.destroy(subject_id)

    async def unseal_many(self, items: Sequence[tuple[UUID, str]]) -> list[PersonalData | None]:
        """:meth:`unseal` for each ``(subject_id, sealed)`` pair, in order, with one key query
        per distinct subject (for list pages). Raises ValueError if any value is malformed or
        tampered with."""
        decoded = [(subject_id, _decode(sealed)) for subject_id, sealed in items]
        keys: dict[UUID, bytes | None] = {}
        # One query after the other: a long page must not take every connection of the pool.
        for subject_id, _ in decoded:
            if subject_id not in keys:
                keys[subject_id] = await self.keys.key_for(subject_id, create=False)
        results: list[PersonalData | None] = []
        for subject_id, raw in decoded:
            key = keys[subject_id]
            results.append(None if key is None else _open(subject_id, key, raw))
        return results


def blind_index(secret: bytes, *parts: str) -> str:
    """HMAC-SHA256 (hex) of the parts joined unambiguously (length-prefixed), for uniqueness
    checks and equality search over personal values (e.g. an employee number within a unit)
    without storing them in clear. The secret comes from settings.

    Parts are used exactly as given: normalise values first (trim, NFKC, case) where two
    spellings should match, and name the purpose in a part of its own so that indexes of
    different fields never compare equal, e.g.
    ``blind_index(secret, "external_number", str(unit_id), number)``.

    The secret must be at least 16 bytes: personal values such as phone numbers are few
    enough to enumerate, and the secret is all that keeps the index from being reversed.
    """
    if len(secret) < MIN_INDEX_SECRET_BYTES:
        raise ValueError(f"the blind index secret must be at least {MIN_INDEX_SECRET_BYTES} bytes")
    message = bytearray()
    for part in parts:
        encoded = part.encode("utf-8")
        message += len(encoded).to_bytes(8, "big")
        message += encoded
    return hmac.new(secret, bytes(message), hashlib.sha256).hexdigest()
