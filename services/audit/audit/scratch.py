"""The replay's scratch SQLite file, as the projections' transaction (:class:`ScratchTx`).

The projections write it as they write every store: statement by statement, a run of one
statement as ``executemany``. Here a run of inserts becomes one statement over all its rows
(sent as one JSON array and spread by ``json_each``), which SQLite runs without holding the
interpreter: so it is written by a thread of its own while the replay decodes the next
batch. Every other statement, and every read, waits for the inserts given before it: the
file sees the statements in the order the projections gave them, as one connection would.
"""

from __future__ import annotations

import functools
import itertools
import re
import sqlite3
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import orjson

from eventspine.bus import sqlite_params
from eventspine.projection import FetchingTx

PENDING = 2
"""Runs of inserts handed to the writer and not yet written, at most (each holds its rows)."""

_INSERT = re.compile(
    r"^(?P<head>INSERT INTO [\w.]+(?: AS \w+)?(?: \([\w, ]+\))?) "
    r"VALUES \((?P<values>[^()]*)\)(?P<tail>(?: ON CONFLICT .*)?)$",
    re.DOTALL,
)
_PARAMETER = re.compile(r"\$(\d+)")
_SPREADABLE = frozenset((str, int, type(None)))
"""Values that a JSON array carries to SQLite unchanged: text, integers and ``NULL`` (a float,
bytes or a boolean is bound as it is, row by row)."""
_INT64 = (-(2**63), 2**63 - 1)


@functools.cache
def spread_insert(command: str) -> str | None:
    """``INSERT ... VALUES ($1, ...) [ON CONFLICT ...]`` as one ``INSERT ... SELECT`` over the
    elements of a JSON array of argument rows (``?1``), in their order: the same rows, the
    same conflicts, as running it once per row. ``None`` for any other statement."""
    match = _INSERT.match(command)
    if match is None or re.search(r"'[^']*\$", match["values"]):  # a "$" in a literal
        return None
    values = _PARAMETER.sub(lambda m: f"value ->> {int(m[1]) - 1}", match["values"])
    # "WHERE true": SQLite reads "ON CONFLICT" after a bare FROM as a join constraint.
    return f"{match['head']} SELECT {values} FROM json_each(?1) WHERE true{match['tail']}"


def as_json_rows(rows: list[tuple[Any, ...]]) -> str | None:
    """The argument rows as one JSON array, or ``None`` when a value would not come back from
    it as it went in (only text without NUL, 64-bit integers and ``NULL`` do)."""
    kinds = set(map(type, itertools.chain.from_iterable(rows)))
    if not kinds <= _SPREADABLE:
        return None
    if int in kinds:
        ints = [v for v in itertools.chain.from_iterable(rows) if type(v) is int]
        if min(ints) < _INT64[0] or max(ints) > _INT64[1]:
            return None  # SQLite has no such integer (row by row, binding it fails)
    text = orjson.dumps(rows).decode()
    return None if "\\u0000" in text else text


class ScratchTx(FetchingTx):
    """A :class:`~eventspine.projection.Tx` straight over a :mod:`sqlite3` connection, with
    runs of inserts written behind by ``writer`` (a thread of its own: see the module).

    Call :meth:`flush` before using the connection directly; :meth:`close` ends the writer.
    A run that failed raises at the next statement, read or flush.
    """

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="audit-scratch")
        self._pending: deque[Future[Any]] = deque()

    def flush(self) -> None:
        """Wait until every statement given so far is written."""
        while self._pending:
            self._pending.popleft().result()

    def close(self) -> None:
        """Write what is pending, then end the writer thread."""
        try:
            self.flush()
        finally:
            self._writer.shutdown(cancel_futures=True)

    async def execute(self, query: str, *args: Any) -> Any:
        """Run a statement."""
        self.flush()
        self.db.execute(sqlite_params(query), args)

    async def executemany(self, command: str, args: Any) -> None:
        """Run a statement once per argument tuple (a run of inserts: written behind)."""
        rows = list(args)
        spread = spread_insert(command)
        document = as_json_rows(rows) if spread is not None and len(rows) > 1 else None
        if spread is None or document is None:
            self.flush()
            self.db.executemany(sqlite_params(command), rows)
            return
        self._pending.append(self._writer.submit(self.db.execute, spread, (document,)))
        while len(self._pending) > PENDING:
            self._pending.popleft().result()

    async def fetch(self, query: str, *args: Any) -> list[Any]:
        """Rows of a query."""
        self.flush()
        return self.db.execute(sqlite_params(query), args).fetchall()
