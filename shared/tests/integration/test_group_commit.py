"""Group commit on PostgreSQL: appends sent together in one call keep their own outcomes."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import pytest

from eventspine.hashing import verify_chain
from eventspine.store.base import CommandContext
from eventspine.store.postgres import PostgresEventStore
from support.sample import assigned, unit

pytestmark = pytest.mark.integration

CTX = CommandContext(actor="staff:test")


async def test_an_append_the_server_refuses_fails_alone_and_leaves_no_gap(
    pg_store: PostgresEventStore,
) -> None:
    # PostgreSQL's jsonb refuses the NUL character, so the whole group call fails on it; the
    # other appends of that group are retried on their own and stored.
    appends = [pg_store.append(f"member-{n}", 0, [assigned()], CTX) for n in range(9)]
    appends.insert(4, pg_store.append("unit-bad", 0, [unit("bad\x00name")], CTX))
    results = await asyncio.gather(*appends, return_exceptions=True)
    refused = [r for r in results if isinstance(r, BaseException)]
    assert len(refused) == 1
    assert isinstance(refused[0], asyncpg.PostgresError)
    assert isinstance(results[4], asyncpg.PostgresError)
    stored = await pg_store.read_all(0, 100)
    assert [e.position for e in stored] == list(range(1, 10))
    assert "unit-bad" not in {e.stream_id for e in stored}
    assert verify_chain(stored) == 9


async def test_one_command_sent_twice_in_a_group_is_stored_once(
    pg_store: PostgresEventStore,
) -> None:
    ctx = CommandContext(actor="staff:test", command_id=uuid.uuid4())
    event = assigned()
    first, second = await asyncio.gather(
        pg_store.append("member-1", 0, [event], ctx),
        pg_store.append("member-1", 0, [event], ctx),
    )
    assert first == second
    assert await pg_store.head_position() == 1
