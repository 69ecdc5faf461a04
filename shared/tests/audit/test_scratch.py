"""The replay's scratch transaction writes what running each statement row by row writes:
runs of inserts spread over one statement and written behind, everything else in order."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest

from audit.scratch import ScratchTx, as_json_rows, spread_insert

TABLE = "CREATE TABLE t (k TEXT PRIMARY KEY, n INTEGER, note TEXT, kind TEXT NOT NULL)"
INSERT = "INSERT INTO t VALUES ($1, $2, $3, 'plain') ON CONFLICT (k) DO NOTHING"
UPSERT = (
    "INSERT INTO t AS x (k, n, note, kind) VALUES ($1, $2, $3, 'upsert') ON CONFLICT (k) "
    "DO UPDATE SET n = excluded.n + x.n WHERE excluded.n > 0"
)
ROWS: list[tuple[Any, ...]] = [
    ("a", 1, None),
    ("b", 2, "second"),
    ("a", 3, "a again: the first one stays, or adds up"),
    ("c", -4, 'quotes \' " and \\ and a "$1"'),
    ("d", 2**62, "汉字 and 🙂"),
    ("b", 5, "\n\t\x01"),
]


@pytest.fixture
def db() -> Iterator[sqlite3.Connection]:
    connection = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
    connection.execute(TABLE)
    yield connection
    connection.close()


def _table(db: sqlite3.Connection) -> list[tuple[Any, ...]]:
    return db.execute("SELECT rowid, k, n, note, kind, typeof(n) FROM t ORDER BY rowid").fetchall()


def _row_by_row(command: str, rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    reference = sqlite3.connect(":memory:", isolation_level=None)
    reference.execute(TABLE)
    for row in rows:
        reference.execute(command.replace("$", "?"), row)
    return _table(reference)


@pytest.mark.parametrize("command", [INSERT, UPSERT])
async def test_a_spread_run_of_inserts_writes_what_one_insert_per_row_writes(
    db: sqlite3.Connection, command: str
) -> None:
    assert spread_insert(command) is not None  # the rows go through json_each
    tx = ScratchTx(db)
    await tx.executemany(command, ROWS)
    tx.close()
    assert _table(db) == _row_by_row(command, ROWS)


@pytest.mark.parametrize(
    "rows",
    [
        [("a", 1.5, None), ("b", 2, None)],  # a float
        [("a", True, None), ("b", 2, None)],  # a boolean is bound as 1, and typed so
        [("a\x00b", 1, None), ("b", 2, None)],  # a NUL in the text
        [("a", 1, b"bytes"), ("b", 2, None)],
    ],
)
async def test_values_a_json_array_would_change_are_bound_row_by_row(
    db: sqlite3.Connection, rows: list[tuple[Any, ...]]
) -> None:
    assert as_json_rows(rows) is None
    tx = ScratchTx(db)
    await tx.executemany(INSERT, rows)
    tx.close()
    assert _table(db) == _row_by_row(INSERT, rows)


async def test_an_integer_sqlite_has_not_fails_as_row_by_row(db: sqlite3.Connection) -> None:
    rows: list[tuple[Any, ...]] = [("a", 1, None), ("b", 2**63, None)]
    assert as_json_rows(rows) is None  # JSON would carry it, SQLite would read a float
    tx = ScratchTx(db)
    with pytest.raises(OverflowError):
        await tx.executemany(INSERT, rows)
    tx.close()


def test_only_inserts_of_values_are_spread() -> None:
    assert spread_insert("UPDATE t SET n = $2 WHERE k = $1") is None
    assert spread_insert("INSERT INTO t SELECT k, n, note, kind FROM u WHERE n > $1") is None
    assert spread_insert("INSERT INTO t VALUES ($1, 1, '$2', 'x')") is None  # "$" in a literal


async def test_statements_and_reads_see_the_inserts_written_behind_in_order(
    db: sqlite3.Connection,
) -> None:
    tx = ScratchTx(db)
    await tx.executemany(INSERT, [("a", 1, None), ("b", 2, None)])
    await tx.execute("UPDATE t SET n = n * 10 WHERE k = $1", "a")
    await tx.executemany(INSERT, [("c", 3, None), ("d", 4, None)])
    await tx.executemany("UPDATE t SET n = n + 1 WHERE k = $1", [("c",), ("d",)])
    assert await tx.fetch("SELECT k, n FROM t ORDER BY k") == [
        ("a", 10),
        ("b", 2),
        ("c", 4),
        ("d", 5),
    ]
    assert await tx.fetchval("SELECT count(*) FROM t") == 4
    tx.close()


async def test_a_failed_run_raises_at_the_next_statement(db: sqlite3.Connection) -> None:
    tx = ScratchTx(db)
    await tx.executemany(
        "INSERT INTO t VALUES ($1, $2, $3, NULL)", [("a", 1, None), ("b", 2, None)]
    )  # kind is NOT NULL
    with pytest.raises(sqlite3.IntegrityError):
        await tx.fetch("SELECT * FROM t")
    tx.close()
