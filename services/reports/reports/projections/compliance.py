"""The compliance projection: links, members, units and contacts, as the reports need them.

Fed by the roster and contacts topics (or their local stores in the embedded default). The
compliance of a link in a period is computed from these rows by :mod:`compliance` (the one
rule the contacts service's due list also uses), so the two can never disagree. The revoked
tokens the guard refuses (:mod:`access.revocations`) come with the roster's events too.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import date
from operator import itemgetter
from typing import Any, cast
from uuid import UUID

import asyncpg

from access.revocations import RevokedTokens
from contracts.contacts import ContactCorrected, ContactMade, ContactRetracted
from contracts.roster import (
    MemberAssigned,
    MemberDeparted,
    MemberForgotten,
    MemberMoved,
    MemberRegistered,
    MemberTierChanged,
    MemberUnassigned,
    SpanPolicyChanged,
    UnitRegistered,
    UnitRenamed,
)
from eventspine.events import DomainEvent
from eventspine.projection import Delivered, Tx

TABLES = {
    "r_units": "unit_id TEXT PRIMARY KEY, name TEXT NOT NULL, kind TEXT NOT NULL, "
    "parent_unit_id TEXT",
    "r_members": "member_id TEXT PRIMARY KEY, unit_id TEXT NOT NULL, tier TEXT NOT NULL, "
    "status TEXT NOT NULL",
    "r_links": "link_id TEXT PRIMARY KEY, upper_member_id TEXT NOT NULL, "
    "lower_member_id TEXT NOT NULL, assigned_on TEXT NOT NULL, unassigned_on TEXT",
    "r_contacts": "contact_id TEXT PRIMARY KEY, link_id TEXT NOT NULL, "
    "upper_member_id TEXT NOT NULL, lower_member_id TEXT NOT NULL, contacted_on TEXT NOT NULL, "
    "method TEXT NOT NULL, retracted INTEGER NOT NULL DEFAULT 0",
    "r_policy": "id INTEGER PRIMARY KEY, leader INTEGER NOT NULL, committee INTEGER NOT NULL, "
    "representative INTEGER NOT NULL",
}


class ComplianceProjection:
    """Rows behind the compliance view (``<prefix>r_*`` tables)."""

    name = "reports.compliance"
    services = ("roster", "contacts")

    def __init__(self, prefix: str = "", name: str | None = None) -> None:
        self.p = prefix
        if name:
            self.name = name
        self._sql = {event_type: sql.format(p=prefix) for event_type, sql in STATEMENTS.items()}
        self._bulk = {
            self._sql[event_type]: sql.format(p=prefix) for event_type, sql in BULK.items()
        }
        self.revoked_tokens = RevokedTokens(prefix)

    async def setup(self, tx: Tx) -> None:
        """Create the tables."""
        await self.revoked_tokens.setup(tx)
        for table, columns in TABLES.items():
            await tx.execute(f"CREATE TABLE IF NOT EXISTS {self.p}{table} ({columns})")
        index = self.p.replace(".", "_")
        await tx.execute(
            f"CREATE INDEX IF NOT EXISTS {index}r_contacts_link ON {self.p}r_contacts (link_id)"
        )
        await tx.execute(
            f"CREATE INDEX IF NOT EXISTS {index}r_links_upper ON {self.p}r_links (upper_member_id)"
        )

    async def reset(self, tx: Tx) -> None:
        """Empty the tables."""
        for table in TABLES:
            await tx.execute(f"DELETE FROM {self.p}{table}")
        await self.revoked_tokens.reset(tx)

    async def apply(self, tx: Tx, delivered: Delivered) -> None:
        """Apply one roster or contacts event."""
        for sql, args in self.statements(delivered):
            await tx.execute(sql, *_texts(args))

    async def apply_many(self, tx: Tx, events: list[Delivered]) -> None:
        """Apply a batch: each run of one statement goes to the server in one call.

        On PostgreSQL a run of inserts is one ``INSERT ... SELECT FROM unnest(...)`` over
        column arrays (one statement, not one per row); other runs are pipelined. Elsewhere
        the rows are text (:func:`text_rows`), built a run of one event type at a time.
        """
        arrays = isinstance(tx, asyncpg.Connection)  # also true of a pool's connection proxy
        runs: list[tuple[str, list[tuple[Any, ...]]]] = []
        for kind, group in itertools.groupby(events, key=_kind):
            batch = list(group)
            sql = self._sql.get(kind)
            if sql is None:
                for event in batch:
                    for token_sql, args in self.revoked_tokens.statements(event):
                        _add_run(runs, token_sql, [args if arrays else _texts(args)])
            elif arrays:
                _add_run(runs, sql, [ARGUMENTS[kind](event) for event in batch])
            else:
                _add_run(runs, sql, text_rows(kind, batch))
        for sql, rows in runs:
            bulk = self._bulk.get(sql) if arrays else None
            if bulk is not None:
                await tx.execute(bulk, *(list(column) for column in zip(*rows, strict=True)))
                continue
            if arrays:
                rows = [_texts(row) for row in rows]
            if len(rows) == 1:
                await tx.execute(sql, *rows[0])
            else:
                await tx.executemany(sql, rows)

    def statements(self, delivered: Delivered) -> list[tuple[str, tuple[Any, ...]]]:
        """The SQL that applies one roster or contacts event (none for other types), with its
        arguments as the event holds them (ids, dates): the bulk statements take them so and
        turn them into text in the database; the others get them as text."""
        kind = type(delivered.event)
        sql = self._sql.get(kind)
        if sql is None:
            return self.revoked_tokens.statements(delivered)
        return [(sql, ARGUMENTS[kind](delivered))]


def _unit_registered(d: Delivered) -> tuple[Any, ...]:
    e = cast(UnitRegistered, d.event)
    return (e.unit_id, e.name, e.kind, e.parent_unit_id)


def _unit_renamed(d: Delivered) -> tuple[Any, ...]:
    e = cast(UnitRenamed, d.event)
    return (e.unit_id, e.name)


def _member_registered(d: Delivered) -> tuple[Any, ...]:
    e = cast(MemberRegistered, d.event)
    return (e.member_id, e.unit_id, e.tier)


def _member_tier_changed(d: Delivered) -> tuple[Any, ...]:
    e = cast(MemberTierChanged, d.event)
    return (e.member_id, e.to_tier)


def _member_moved(d: Delivered) -> tuple[Any, ...]:
    e = cast(MemberMoved, d.event)
    return (e.member_id, e.to_unit_id)


def _member_departed(d: Delivered) -> tuple[Any, ...]:
    return (cast(MemberDeparted, d.event).member_id, "departed")


def _member_forgotten(d: Delivered) -> tuple[Any, ...]:
    return (cast(MemberForgotten, d.event).member_id, "forgotten")


def _member_assigned(d: Delivered) -> tuple[Any, ...]:
    e = cast(MemberAssigned, d.event)
    # A link is named by the id of the event that made it (contacts carry it).
    return (d.id, e.upper_member_id, e.member_id, e.assigned_on)


def _member_unassigned(d: Delivered) -> tuple[Any, ...]:
    e = cast(MemberUnassigned, d.event)
    return (e.upper_member_id, e.member_id, e.unassigned_on)


def _span_policy_changed(d: Delivered) -> tuple[Any, ...]:
    e = cast(SpanPolicyChanged, d.event)
    return (e.leader, e.committee, e.representative)


def _contact_made(d: Delivered) -> tuple[Any, ...]:
    e = cast(ContactMade, d.event)
    return (
        e.contact_id,
        e.link_id,
        e.upper_member_id,
        e.lower_member_id,
        e.contacted_on,
        e.method,
    )


def _contact_corrected(d: Delivered) -> tuple[Any, ...]:
    e = cast(ContactCorrected, d.event)
    return (e.contact_id, e.contacted_on, e.method)


def _contact_retracted(d: Delivered) -> tuple[Any, ...]:
    return (cast(ContactRetracted, d.event).contact_id,)


def _texts(args: tuple[Any, ...]) -> tuple[Any, ...]:
    """The arguments as the tables hold them: ids and dates as text (ISO dates)."""
    # a list comprehension: a generator here cost a tenth of the auditor's replay
    return tuple(
        [str(a) if type(a) is UUID else a.isoformat() if type(a) is date else a for a in args]
    )


def _kind(delivered: Delivered) -> type[DomainEvent]:
    return type(delivered.event)


def _add_run(runs: list[tuple[str, list[tuple[Any, ...]]]], sql: str, rows: list[Any]) -> None:
    """Append rows to the runs of statements, joining the last run when it is the same one."""
    if runs and runs[-1][0] == sql:
        runs[-1][1].extend(rows)
    else:
        runs.append((sql, rows))


def text_rows(kind: type[DomainEvent], events: list[Delivered]) -> list[tuple[Any, ...]]:
    """The text arguments of a run of events of one type: what ``_texts`` makes of each
    event's arguments, row for row (a run of contacts takes its ids from the stored data,
    see :func:`_stored_ids`)."""
    fast = TEXT_ROWS.get(kind)
    rows = fast(events) if fast is not None else None
    if rows is None:
        arguments = ARGUMENTS[kind]
        rows = [_texts(arguments(event)) for event in events]
    return rows


def _canonical(ids: list[str]) -> bool:
    """Whether every one of ``ids`` is spelled as ``str(UUID)`` spells it: 36 characters,
    lowercase hexadecimal digits with hyphens at 8, 13, 18 and 23 and nowhere else (checked
    on all of them at once: a regular expression took as long as the conversion)."""
    if set(map(len, ids)) != {36}:
        return False
    spelled = "".join(ids).encode()
    hyphens = b"-" * len(ids)
    return (
        not spelled.translate(None, b"0123456789abcdef-")
        and spelled.count(b"-") == 4 * len(ids)
        and spelled[8::36] == spelled[13::36] == spelled[18::36] == spelled[23::36] == hyphens
    )


def _stored_ids(
    kind: type[DomainEvent], events: list[Delivered], names: tuple[str, ...]
) -> list[tuple[str, ...]] | None:
    """The ids ``names`` of each event as its stored data spells them, when that is the text
    ``str()`` makes of the ids the event holds; ``None`` when any of them is not.

    It is when the event was validated from that very data, not upcast from an older version
    (``deliver`` builds the event from ``record.data``), and the stored text is already the
    canonical form: then the text read is the text the conversion would write, and the
    conversion (a tenth of a replay) is saved.
    """
    version = kind.event_version
    if any(event.record.schema_version != version for event in events):
        return None
    spelled = itemgetter(*names)
    try:
        ids = [spelled(event.record.data) for event in events]
        if not _canonical(list(itertools.chain.from_iterable(ids))):
            return None
    except (KeyError, TypeError, ValueError):  # a field absent, not text, not encodable
        return None
    return ids


_CONTACT_IDS = ("contact_id", "link_id", "upper_member_id", "lower_member_id")


def _contacts_made(events: list[Delivered]) -> list[tuple[Any, ...]] | None:
    """:func:`_contact_made`'s arguments as text for a run of contacts, ids as stored."""
    ids = _stored_ids(ContactMade, events, _CONTACT_IDS)
    if ids is None:
        return None
    made = [cast(ContactMade, event.event) for event in events]
    return [(*i, e.contacted_on.isoformat(), e.method) for i, e in zip(ids, made, strict=True)]


# The arguments of each event type's statement, by the event's class: one look-up per event
# on the rebuild's hot path, rather than a chain of class patterns.
ARGUMENTS: dict[type[DomainEvent], Callable[[Delivered], tuple[Any, ...]]] = {
    UnitRegistered: _unit_registered,
    UnitRenamed: _unit_renamed,
    MemberRegistered: _member_registered,
    MemberTierChanged: _member_tier_changed,
    MemberMoved: _member_moved,
    MemberDeparted: _member_departed,
    MemberForgotten: _member_forgotten,
    MemberAssigned: _member_assigned,
    MemberUnassigned: _member_unassigned,
    SpanPolicyChanged: _span_policy_changed,
    ContactMade: _contact_made,
    ContactCorrected: _contact_corrected,
    ContactRetracted: _contact_retracted,
}


# One statement per event type; {p} is the table prefix (a PostgreSQL schema, or nothing).
STATEMENTS: dict[type[DomainEvent], str] = {
    UnitRegistered: "INSERT INTO {p}r_units VALUES ($1, $2, $3, $4) "
    "ON CONFLICT (unit_id) DO NOTHING",
    UnitRenamed: "UPDATE {p}r_units SET name = $2 WHERE unit_id = $1",
    MemberRegistered: "INSERT INTO {p}r_members VALUES ($1, $2, $3, 'active') "
    "ON CONFLICT (member_id) DO NOTHING",
    MemberTierChanged: "UPDATE {p}r_members SET tier = $2 WHERE member_id = $1",
    MemberMoved: "UPDATE {p}r_members SET unit_id = $2 WHERE member_id = $1",
    MemberDeparted: "UPDATE {p}r_members SET status = $2 WHERE member_id = $1",
    MemberForgotten: "UPDATE {p}r_members SET status = $2 WHERE member_id = $1",
    MemberAssigned: "INSERT INTO {p}r_links VALUES ($1, $2, $3, $4, NULL) "
    "ON CONFLICT (link_id) DO NOTHING",
    MemberUnassigned: "UPDATE {p}r_links SET unassigned_on = $3 WHERE upper_member_id = $1 "
    "AND lower_member_id = $2 AND unassigned_on IS NULL",
    SpanPolicyChanged: "INSERT INTO {p}r_policy VALUES (1, $1, $2, $3) ON CONFLICT (id) "
    "DO UPDATE SET leader = excluded.leader, committee = excluded.committee, "
    "representative = excluded.representative",
    ContactMade: "INSERT INTO {p}r_contacts VALUES ($1, $2, $3, $4, $5, $6, 0) "
    "ON CONFLICT (contact_id) DO NOTHING",
    ContactCorrected: "UPDATE {p}r_contacts SET contacted_on = $2, method = $3 "
    "WHERE contact_id = $1",
    ContactRetracted: "UPDATE {p}r_contacts SET retracted = 1 WHERE contact_id = $1",
}

# The inserts above as one statement over column arrays (PostgreSQL): the same rows, and the
# same "first one wins" as applying them one by one, since a key repeated inside one INSERT
# ... ON CONFLICT DO NOTHING is skipped like a key already in the table.
BULK: dict[type[DomainEvent], str] = {
    UnitRegistered: "INSERT INTO {p}r_units SELECT u::text, n, k, pu::text FROM "
    "unnest($1::uuid[], $2::text[], $3::text[], $4::uuid[]) AS x(u, n, k, pu) "
    "ON CONFLICT (unit_id) DO NOTHING",
    MemberRegistered: "INSERT INTO {p}r_members SELECT m::text, u::text, t, 'active' FROM "
    "unnest($1::uuid[], $2::uuid[], $3::text[]) AS x(m, u, t) ON CONFLICT (member_id) DO NOTHING",
    MemberAssigned: "INSERT INTO {p}r_links SELECT l::text, up::text, lo::text, "
    "to_char(d, 'YYYY-MM-DD'), NULL FROM "
    "unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::date[]) AS x(l, up, lo, d) "
    "ON CONFLICT (link_id) DO NOTHING",
    ContactMade: "INSERT INTO {p}r_contacts SELECT c::text, l::text, u::text, w::text, "
    "to_char(d, 'YYYY-MM-DD'), m, 0 FROM "
    "unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::date[], $6::text[]) "
    "AS x(c, l, u, w, d, m) ON CONFLICT (contact_id) DO NOTHING",
}

# Runs of one event type whose text arguments have a quicker way than ``_texts`` (``None``
# from one: take the general way).
TEXT_ROWS: dict[type[DomainEvent], Callable[[list[Delivered]], list[tuple[Any, ...]] | None]] = {
    ContactMade: _contacts_made,
}
