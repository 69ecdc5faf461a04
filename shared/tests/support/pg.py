"""Throwaway PostgreSQL schemas: each test works under a prefix of its own, dropped after."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

from eventspine.config import Settings


def unique_prefix(letter: str) -> str:
    """A schema prefix unique to one test: a letter, 8 hex digits, an underscore."""
    return f"{letter}{uuid.uuid4().hex[:8]}_"


async def drop_schemas(dsn: str, prefix: str) -> None:
    """Drop every schema whose name starts with ``prefix``."""
    conn = await asyncpg.connect(dsn)
    try:
        for row in await conn.fetch(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE $1", prefix + "%"
        ):
            await conn.execute(f"DROP SCHEMA {row[0]} CASCADE")
    finally:
        await conn.close()


@asynccontextmanager
async def throwaway_prefix(dsn: str, letter: str) -> AsyncIterator[str]:
    """A unique prefix for the duration of a test; its schemas are dropped afterwards."""
    prefix = unique_prefix(letter)
    try:
        yield prefix
    finally:
        await drop_schemas(dsn, prefix)


@asynccontextmanager
async def topology_settings(dsn: str, bootstrap: str, letter: str) -> AsyncIterator[Settings]:
    """Settings of the full topology with schemas and topics unique to one test."""
    async with throwaway_prefix(dsn, letter) as prefix:
        yield Settings(
            store_backend="postgres",
            pg_dsn=dsn,
            pg_schema_prefix=prefix,
            kafka_bootstrap=bootstrap,
            topic_prefix=f"test.{prefix.rstrip('_')}",
        )
