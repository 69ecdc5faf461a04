"""The compliance aggregates: each link's standing per period, and counts of them.

Kept beside the compliance projection's rows (``r_links``, ``r_members``, ``r_contacts``) and
in the same transaction (:class:`AggregatedCompliance` applies both), so the dashboard, a
unit's drill-down, the compliance table's pages and the monthly chart read a few rows whose
number does not grow with the city instead of every link and contact of the period:

* ``agg_standings``: one row per link and period it was active in (what ``GET /compliance``
  lists: required, counted, status, next due), with the months by which it first had a
  counted contact and had met the rule (the monthly chart);
* ``agg_tallies``: how many of a period's links in a unit (the lower member's) held by an
  upper tier stand at each status;
* ``agg_reached``: how many of a period's links in a unit had reached ``behind`` (a first
  counted contact) or ``met`` by the end of each month;
* ``agg_linked_members`` and ``agg_linked``: the active members someone keeps in contact with
  now (an open link above them), and how many per tier (the overview's linked members);
* ``agg_meta``: the contact rule they were computed with and the **horizon**, the last
  period materialised.

Every row is a function of the detail rows and the horizon, recomputed from them (with the
same contact rule as the scan, :func:`reports.rules.link_standing`) for each link an event
touches: so a live run, a rebuild and :func:`backfill` over the detail rows give the same
rows. The horizon is the period of the latest date any event carried (assignment, end,
contact, or when it was recorded); an open link is materialised up to it, and the views
answer a later period by the scan. A member who moves takes their links' counts to the new
unit, in every period, as the scan (which joins the members' current units) does.

A rebuild (the tables emptied, or new and empty) **puts the aggregates off**: ``agg_meta``
says ``pending`` and carries the horizon, each batch writes its detail rows only, and when
the feed has caught up (:meth:`AggregatedCompliance.caught_up`, called by every feed when it
finds nothing new) :func:`backfill` computes them once from the detail rows. Recomputed batch
by batch, a rebuild recomputed each link as many times as batches touched it (2.5 times at
10x the demo city: three quarters of the rebuild's time); the views read the scan meanwhile,
as for any aggregates they cannot use, and the feed counts as behind until they are done.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import date, timedelta
from operator import attrgetter
from typing import Any

import asyncpg

from compliance import ContactRule, Period
from contracts.contacts import ContactCorrected, ContactMade, ContactRetracted
from contracts.roster import (
    MemberAssigned,
    MemberDeparted,
    MemberForgotten,
    MemberMoved,
    MemberRegistered,
    MemberTierChanged,
    MemberUnassigned,
)
from eventspine.projection import Delivered, Tx
from reports.projections.compliance import ComplianceProjection
from reports.rules import SEVERITY, link_standing

TABLES = {
    "agg_standings": "period_start TEXT NOT NULL, link_id TEXT{c} NOT NULL, "
    "upper_member_id TEXT NOT NULL, lower_member_id TEXT NOT NULL, unit_id TEXT NOT NULL, "
    "upper_tier TEXT NOT NULL, assigned_on TEXT NOT NULL, unassigned_on TEXT, "
    "active_from TEXT NOT NULL, active_until TEXT NOT NULL, required INTEGER NOT NULL, "
    "counted INTEGER NOT NULL, status TEXT NOT NULL, severity INTEGER NOT NULL, "
    "next_due TEXT{c} NOT NULL, last_contact_on TEXT, behind_month TEXT, met_month TEXT, "
    "PRIMARY KEY (period_start, link_id)",
    "agg_tallies": "period_start TEXT NOT NULL, unit_id TEXT NOT NULL, upper_tier TEXT NOT NULL, "
    "status TEXT NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (period_start, unit_id, upper_tier, "
    "status)",
    "agg_reached": "period_start TEXT NOT NULL, unit_id TEXT NOT NULL, kind TEXT NOT NULL, "
    "month TEXT NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (period_start, unit_id, kind, month)",
    "agg_linked_members": "member_id TEXT PRIMARY KEY, tier TEXT NOT NULL",
    "agg_linked": "tier TEXT PRIMARY KEY, n INTEGER NOT NULL",
    "agg_meta": "id INTEGER PRIMARY KEY, rule TEXT NOT NULL, horizon TEXT",
}
INDEXES = {
    # The compliance table's order (least compliant first, the soonest due first) while the
    # period runs, and once it is over (no due dates then): a page is an index range.
    "agg_standings_due": "agg_standings (period_start, severity, next_due, link_id)",
    "agg_standings_over": "agg_standings (period_start, severity, link_id)",
    "agg_standings_link": "agg_standings (link_id)",
    "agg_standings_upper": "agg_standings (upper_member_id, period_start)",
    # The links a member's event touches, found without a scan of the detail rows.
    "agg_r_links_lower": "r_links (lower_member_id)",
}
NO_DUE = "9999-12-31"
"""``next_due`` of a link with none (it has met the rule): after every date, as ``date.max``
sorts in :func:`reports.rules.least_compliant_first`."""
CHUNK = 500
"""Links recomputed per statement (the parameters of one ``IN`` list)."""
BACKFILL_CHUNK = 5000
"""Links a backfill reads and writes per statement (a range of link ids: no parameter list)."""
PENDING = "pending"
"""``agg_meta``'s rule while the aggregates are put off (no rule matches it: the views scan)."""


def rule_key(rule: ContactRule) -> str:
    """The rule as ``agg_meta`` records it: aggregates computed under another rule are not
    read (the views scan until a rebuild recomputes them)."""
    return json.dumps(rule.model_dump(), sort_keys=True)


def _month_end(day: date) -> str:
    return day.strftime("%Y-%m")


def standings(
    rule: ContactRule,
    horizon: date,
    link: Sequence[Any],
    dates: list[date],
) -> list[tuple[Any, ...]]:
    """The ``agg_standings`` rows of one link: ``link`` is (link id, upper member, lower
    member, upper tier, lower unit, assigned on, unassigned on), ``dates`` its counted
    (not retracted) contact dates; one row per period from its start to its end or the
    ``horizon`` (a period start), for each period it owes contacts in."""
    assigned = date.fromisoformat(str(link[5]))
    ended = date.fromisoformat(str(link[6])) if link[6] else None
    last = horizon if ended is None else min(horizon, rule.period_of(ended).start)
    ordered = sorted(dates)
    rows: list[tuple[Any, ...]] = []
    period = rule.period_of(assigned)
    while period.start <= last:
        # "today" before the period's end: the due dates as the running period shows them
        # (the views drop them for a period that is over).
        window = rule.active_window(period, assigned, ended)
        standing = (
            None
            if window is None
            else link_standing(rule, period, period.start, assigned, ended, ordered)
        )
        if standing is not None and window is not None:
            inside = [d for d in ordered if window[0] <= d <= window[1]]
            in_period = [d for d in ordered if period.start <= d <= period.end]
            behind = _month_end(inside[0]) if inside else None
            met = (
                _month_end(inside[standing.required - 1])
                if len(inside) >= standing.required
                else None
            )
            rows.append(
                (
                    period.start.isoformat(),
                    str(link[0]),
                    str(link[1]),
                    str(link[2]),
                    str(link[4]),
                    str(link[3]),
                    assigned.isoformat(),
                    ended.isoformat() if ended else None,
                    window[0].isoformat(),
                    window[1].isoformat(),
                    standing.required,
                    standing.counted,
                    standing.status,
                    SEVERITY[standing.status],
                    standing.next_due.isoformat() if standing.next_due else NO_DUE,
                    in_period[-1].isoformat() if in_period else None,
                    behind,
                    met,
                )
            )
        period = rule.period_of(period.end + timedelta(days=1))
    return rows


def _marks(
    rows: Iterable[Sequence[Any]], sign: int, tallies: Counter[Any], reached: Counter[Any]
) -> None:
    """Add (``sign`` 1) or take away (-1) standings rows from the counts they make."""
    for r in rows:
        tallies[(r[0], r[4], r[5], r[12])] += sign
        if r[16]:
            reached[(r[0], r[4], "behind", r[16])] += sign
        if r[17]:
            reached[(r[0], r[4], "met", r[17])] += sign


def _params(count: int, first: int = 1) -> str:
    return ", ".join(f"${i}" for i in range(first, first + count))


STANDING_TYPES = ("text",) * 10 + ("integer", "integer", "text", "integer") + ("text",) * 4
"""The PostgreSQL types of ``agg_standings``' columns, in order (for :func:`_insert`)."""


async def _insert(tx: Tx, table: str, types: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
    """Insert ``rows`` into ``table``: on PostgreSQL one statement over a column array each
    (a rebuild writes thousands of rows a batch: one by one, the server's work on each
    statement was most of the rebuild's time); on SQLite a statement per row."""
    if not rows:
        return
    if isinstance(tx, asyncpg.Connection):
        arrays = ", ".join(f"${i}::{kind}[]" for i, kind in enumerate(types, 1))
        columns = [list(column) for column in zip(*rows, strict=True)]
        await tx.execute(f"INSERT INTO {table} SELECT * FROM unnest({arrays})", *columns)
    else:
        await tx.executemany(f"INSERT INTO {table} VALUES ({_params(len(types))})", rows)


_DAY_OF: dict[type[Any], Callable[[Any], date]] = {
    MemberAssigned: attrgetter("assigned_on"),
    MemberUnassigned: attrgetter("unassigned_on"),
    ContactMade: attrgetter("contacted_on"),
    ContactCorrected: attrgetter("contacted_on"),
}
"""The date an event of each type carries, besides when it was recorded."""
_MEMBER_EVENTS = (
    MemberAssigned,
    MemberUnassigned,
    MemberRegistered,
    MemberDeparted,
    MemberForgotten,
    MemberTierChanged,
)
"""The events that may change whether their member is linked now."""


def _latest(events: list[Delivered]) -> date | None:
    """The latest date the events carry or were recorded on (``None``: no events)."""
    latest: date | None = None
    for d in events:
        day = d.time.date()
        day_of = _DAY_OF.get(type(d.event))
        if day_of is not None:
            day = max(day, day_of(d.event))
        if latest is None or day > latest:
            latest = day
    return latest


def _touched(
    events: list[Delivered],
) -> tuple[set[str], set[str], set[str], set[str], set[str]]:
    """What the events touch: links by id, links by their lower and by their upper member,
    links by a contact's id, and members whose linked state may change."""
    links: set[str] = set()
    lowers: set[str] = set()
    uppers: set[str] = set()
    contacts: set[str] = set()
    members: set[str] = set()
    for d in events:
        e = d.event
        if isinstance(e, _MEMBER_EVENTS):
            members.add(str(e.member_id))
        if isinstance(e, MemberAssigned):
            links.add(str(d.id))
        elif isinstance(e, MemberUnassigned | MemberMoved):
            lowers.add(str(e.member_id))
        elif isinstance(e, MemberRegistered):
            # A link delivered before its members (another partition) waits for them.
            lowers.add(str(e.member_id))
            uppers.add(str(e.member_id))
        elif isinstance(e, MemberTierChanged):
            uppers.add(str(e.member_id))
        elif isinstance(e, ContactMade):
            links.add(str(e.link_id))
        elif isinstance(e, ContactCorrected | ContactRetracted):
            contacts.add(str(e.contact_id))
    return links, lowers, uppers, contacts, members


class Aggregates:
    """Maintains the ``agg_*`` tables from the ``r_*`` rows (see the module's docstring)."""

    def __init__(self, rule: ContactRule, prefix: str = "") -> None:
        self.rule = rule
        self.p = prefix
        self.lock_name = f"sanlian.aggregates.{prefix}"
        # Whether the aggregates are put off, as far as this instance knows (None: ask the
        # tables). Only setup and reset put them off, so once done they stay done.
        self._pending: bool | None = None

    async def take_turn(self, tx: Tx) -> None:
        """Wait for the other writers of these aggregates (see
        :meth:`AggregatedCompliance.apply_many`) and plan for the tables as they are now."""
        if isinstance(tx, asyncpg.Connection):  # SQLite has one writer at a time anyway
            # The plan: in a rebuild the tables grow from empty, and a prepared statement's
            # generic plan, made while they were small, scanned them whole for as long as the
            # connection kept it (a rebuild at 10x took 40 ms a look-up instead of 2).
            await tx.execute(
                "SELECT pg_advisory_xact_lock(hashtext($1)), "
                "set_config('plan_cache_mode', 'force_custom_plan', true)",
                self.lock_name,
            )

    async def setup(self, tx: Tx) -> None:
        """Create the tables; compute them from the detail rows when they are new (a
        generation built before the aggregates existed)."""
        p, index = self.p, self.p.replace(".", "_")
        # The page order is the view's (Python's, by code point): PostgreSQL's "C" collation
        # compares so; SQLite's default does.
        collate = ' COLLATE "C"' if isinstance(tx, asyncpg.Connection) else ""
        for table, columns in TABLES.items():
            await tx.execute(f"CREATE TABLE IF NOT EXISTS {p}{table} ({columns.format(c=collate)})")
        for name, columns in INDEXES.items():
            await tx.execute(f"CREATE INDEX IF NOT EXISTS {index}{name} ON {p}{columns}")
        meta = await tx.fetchrow(f"SELECT rule FROM {p}agg_meta WHERE id = 1")
        if meta is None and not await tx.fetch(
            f"SELECT 1 FROM {p}r_links UNION ALL SELECT 1 FROM {p}r_contacts "
            f"UNION ALL SELECT 1 FROM {p}r_members LIMIT 1"
        ):
            await self._meta(tx, None, PENDING)  # new and empty: a rebuild's, or a first run's
        elif meta is None or str(meta[0]) not in (PENDING, rule_key(self.rule)):
            await backfill(tx, self.rule, p)
        self._pending = None  # as the tables now say

    async def reset(self, tx: Tx) -> None:
        """Empty the tables (before a rebuild from the first event)."""
        for table in TABLES:
            await tx.execute(f"DELETE FROM {self.p}{table}")
        await self._meta(tx, None, PENDING)
        self._pending = True

    async def _meta(self, tx: Tx, horizon: str | None, rule: str | None = None) -> None:
        await _write_meta(tx, self.p, rule or rule_key(self.rule), horizon)

    async def horizon(self, tx: Tx) -> date | None:
        """The start of the last period materialised or, while pending, to materialise
        (``None`` before any event)."""
        value = await tx.fetchval(f"SELECT horizon FROM {self.p}agg_meta WHERE id = 1")
        return date.fromisoformat(str(value)) if value else None

    async def pending(self, reader: Tx) -> bool:
        """Whether the aggregates are put off (a rebuild not caught up yet)."""
        if self._pending is False:
            return False
        value = await reader.fetchval(f"SELECT rule FROM {self.p}agg_meta WHERE id = 1")
        self._pending = str(value) == PENDING
        return self._pending

    async def caught_up(self, tx: Tx) -> None:
        """Compute the aggregates put off, if they are: once, from the detail rows, up to the
        horizon the events carried."""
        if self._pending is False:
            return
        await self.take_turn(tx)
        if await self.pending(tx):
            await backfill(tx, self.rule, self.p, await self.horizon(tx))
        self._pending = False

    async def after(self, tx: Tx, events: list[Delivered]) -> None:
        """Bring the aggregates up to date with ``events``, already applied to the detail
        rows in this transaction."""
        latest = _latest(events)
        if latest is None:
            return
        p = self.p
        meta = await tx.fetchrow(f"SELECT rule, horizon FROM {p}agg_meta WHERE id = 1")
        old = date.fromisoformat(str(meta[1])) if meta is not None and meta[1] else None
        new = self.rule.period_of(latest).start
        if meta is not None and str(meta[0]) == PENDING:
            self._pending = True
            if old is None or new > old:  # what the backfill will materialise up to
                await self._meta(tx, new.isoformat(), PENDING)
            return
        links, lowers, uppers, contacts, members = _touched(events)
        await linked(tx, p, sorted(members))
        if old is None or new > old:
            await self._meta(tx, new.isoformat())
            if old is not None:
                # Every link still active after the old horizon gains the new periods.
                rows = await tx.fetch(
                    f"SELECT link_id FROM {p}r_links WHERE unassigned_on IS NULL "
                    "OR unassigned_on > $1",
                    old.isoformat(),
                )
                links.update(str(r[0]) for r in rows)
        horizon = max(new, old) if old is not None else new
        for column, members in (("lower_member_id", lowers), ("upper_member_id", uppers)):
            for chunk in _chunks(sorted(members)):
                rows = await tx.fetch(
                    f"SELECT link_id FROM {p}r_links WHERE {column} IN ({_params(len(chunk))})",
                    *chunk,
                )
                links.update(str(r[0]) for r in rows)
        for chunk in _chunks(sorted(contacts)):
            rows = await tx.fetch(
                f"SELECT link_id FROM {p}r_contacts WHERE contact_id IN ({_params(len(chunk))})",
                *chunk,
            )
            links.update(str(r[0]) for r in rows)
        await recompute(tx, self.rule, p, horizon, sorted(links))


def _chunks(items: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


async def _computed(
    tx: Tx, rule: ContactRule, p: str, horizon: date, which: str, args: Sequence[str]
) -> list[tuple[Any, ...]]:
    """The standings rows of the links whose id matches ``which`` (``IN (...)`` or
    ``BETWEEN ...`` over ``args``), computed from their detail rows."""
    details = await tx.fetch(
        f"SELECT l.link_id, l.upper_member_id, l.lower_member_id, u.tier, m.unit_id, "
        f"l.assigned_on, l.unassigned_on FROM {p}r_links l "
        f"JOIN {p}r_members u ON u.member_id = l.upper_member_id "
        f"JOIN {p}r_members m ON m.member_id = l.lower_member_id "
        f"WHERE l.link_id {which}",
        *args,
    )
    dates: defaultdict[str, list[date]] = defaultdict(list)
    for row in await tx.fetch(
        f"SELECT link_id, contacted_on FROM {p}r_contacts WHERE retracted = 0 AND link_id {which}",
        *args,
    ):
        dates[str(row[0])].append(date.fromisoformat(str(row[1])))
    return [r for link in details for r in standings(rule, horizon, link, dates[str(link[0])])]


async def recompute(tx: Tx, rule: ContactRule, p: str, horizon: date, links: list[str]) -> None:
    """Recompute the standings of ``links`` from the detail rows and move the counts by the
    difference."""
    tallies: Counter[Any] = Counter()
    reached: Counter[Any] = Counter()
    for chunk in _chunks(links):
        marks = _params(len(chunk))
        new = await _computed(tx, rule, p, horizon, f"IN ({marks})", chunk)
        old = await tx.fetch(
            f"SELECT * FROM {p}agg_standings WHERE link_id IN ({marks})",
            *chunk,
        )
        _marks(old, -1, tallies, reached)
        _marks(new, 1, tallies, reached)
        await tx.execute(f"DELETE FROM {p}agg_standings WHERE link_id IN ({marks})", *chunk)
        await _insert(tx, f"{p}agg_standings", STANDING_TYPES, new)
    await _count(tx, p, tallies, reached)


async def linked(tx: Tx, p: str, members: list[str]) -> None:
    """Recompute whether each of ``members`` is linked now, and move the counts per tier."""
    moved: Counter[str] = Counter()
    for chunk in _chunks(members):
        marks = _params(len(chunk))
        new = await tx.fetch(
            # The members' open links looked up by the same list (the index on the lower
            # member), not by a semi-join the planner may run over every link.
            f"SELECT m.member_id, m.tier FROM {p}r_members m WHERE m.member_id IN ({marks}) "
            f"AND m.status = 'active' AND m.member_id IN (SELECT l.lower_member_id "
            f"FROM {p}r_links l WHERE l.lower_member_id IN ({marks}) "
            "AND l.unassigned_on IS NULL)",
            *chunk,
        )
        old = await tx.fetch(
            f"SELECT member_id, tier FROM {p}agg_linked_members WHERE member_id IN ({marks})",
            *chunk,
        )
        moved.update(str(r[1]) for r in new)
        moved.subtract(str(r[1]) for r in old)
        await tx.execute(f"DELETE FROM {p}agg_linked_members WHERE member_id IN ({marks})", *chunk)
        await _insert(
            tx, f"{p}agg_linked_members", ("text", "text"), [(str(r[0]), str(r[1])) for r in new]
        )
    changes = [(tier, n) for tier, n in sorted(moved.items()) if n]
    if changes:
        await tx.executemany(
            f"INSERT INTO {p}agg_linked AS t VALUES ($1, $2) "
            "ON CONFLICT (tier) DO UPDATE SET n = t.n + excluded.n",
            changes,
        )
        await tx.execute(f"DELETE FROM {p}agg_linked WHERE n = 0")


async def _count(tx: Tx, p: str, tallies: Counter[Any], reached: Counter[Any]) -> None:
    moved = [(*k, n) for k, n in sorted(tallies.items()) if n]
    if moved:
        await tx.executemany(
            f"INSERT INTO {p}agg_tallies AS t VALUES ($1, $2, $3, $4, $5) "
            "ON CONFLICT (period_start, unit_id, upper_tier, status) "
            "DO UPDATE SET n = t.n + excluded.n",
            moved,
        )
    reaching = [(*k, n) for k, n in sorted(reached.items()) if n]
    if reaching:
        await tx.executemany(
            f"INSERT INTO {p}agg_reached AS t VALUES ($1, $2, $3, $4, $5) "
            "ON CONFLICT (period_start, unit_id, kind, month) DO UPDATE SET n = t.n + excluded.n",
            reaching,
        )
    if moved:
        await tx.execute(f"DELETE FROM {p}agg_tallies WHERE n = 0")
    if reaching:
        await tx.execute(f"DELETE FROM {p}agg_reached WHERE n = 0")


async def _write_meta(tx: Tx, p: str, rule: str, horizon: str | None) -> None:
    await tx.execute(
        f"INSERT INTO {p}agg_meta (id, rule, horizon) VALUES (1, $1, $2) "
        "ON CONFLICT (id) DO UPDATE SET rule = excluded.rule, horizon = excluded.horizon",
        rule,
        horizon,
    )


async def backfill(tx: Tx, rule: ContactRule, p: str, at_least: date | None = None) -> None:
    """Compute every aggregate from the detail rows alone: what a live run and a rebuild must
    both arrive at. The horizon is the latest period of the rows' dates, or ``at_least`` if
    later (a rebuild's, which also counts when its events were recorded, as the live run
    does).

    Set-based: each link is computed once, reading the links and their contacts by ranges
    of link ids, with nothing to take away (the counts start from zero)."""
    for table in TABLES:
        if table != "agg_meta":
            await tx.execute(f"DELETE FROM {p}{table}")
    await tx.execute(
        f"INSERT INTO {p}agg_linked_members SELECT m.member_id, m.tier FROM {p}r_members m "
        f"WHERE m.status = 'active' AND m.member_id IN (SELECT l.lower_member_id "
        f"FROM {p}r_links l WHERE l.unassigned_on IS NULL)"
    )
    await tx.execute(
        f"INSERT INTO {p}agg_linked SELECT tier, count(*) FROM {p}agg_linked_members GROUP BY tier"
    )
    rows = await tx.fetch(
        f"SELECT max(assigned_on), max(unassigned_on) FROM {p}r_links "
        f"UNION ALL SELECT max(contacted_on), NULL FROM {p}r_contacts"
    )
    days = [date.fromisoformat(str(v)) for r in rows for v in r if v]
    days += [at_least] if at_least else []
    horizon = rule.period_of(max(days)).start if days else None
    await _write_meta(tx, p, rule_key(rule), horizon.isoformat() if horizon else None)
    if horizon is None:
        return
    ids = [str(r[0]) for r in await tx.fetch(f"SELECT link_id FROM {p}r_links ORDER BY link_id")]
    tallies: Counter[Any] = Counter()
    reached: Counter[Any] = Counter()
    for start in range(0, len(ids), BACKFILL_CHUNK):
        # r_links and r_contacts order link ids alike (the same type and collation)
        bounds = ids[start], ids[min(start + BACKFILL_CHUNK, len(ids)) - 1]
        new = await _computed(tx, rule, p, horizon, "BETWEEN $1 AND $2", bounds)
        _marks(new, 1, tallies, reached)
        await _insert(tx, f"{p}agg_standings", STANDING_TYPES, new)
    await _count(tx, p, tallies, reached)


class AggregatedCompliance:
    """The compliance projection with its aggregates: the same name, feed and offsets, and
    each batch's aggregates written in the transaction that writes its rows (or, in a
    rebuild, once it has caught up)."""

    def __init__(self, rule: ContactRule, prefix: str = "", name: str | None = None) -> None:
        self.inner = ComplianceProjection(prefix, name)
        self.aggregates = Aggregates(rule, prefix)
        self.name = self.inner.name
        self.services = self.inner.services

    async def setup(self, tx: Tx) -> None:
        """Create the detail and aggregate tables."""
        await self.inner.setup(tx)
        await self.aggregates.setup(tx)

    async def reset(self, tx: Tx) -> None:
        """Empty both (the aggregates are then put off until the rebuild catches up)."""
        await self.inner.reset(tx)
        await self.aggregates.reset(tx)

    async def apply(self, tx: Tx, delivered: Delivered) -> None:
        """Apply one event to the rows, then to the aggregates."""
        await self.apply_many(tx, [delivered])

    async def apply_many(self, tx: Tx, events: list[Delivered]) -> None:
        """Apply a batch to the rows, then bring the aggregates up to date with it.

        On PostgreSQL the batches of one read model take turns (a transaction-level advisory
        lock, keyed by its tables' prefix): instances of the service consume other partitions
        at once, and one link's contacts are on several of them. A link's standing is
        recomputed from the detail rows as the transaction reads them, so a batch that read
        them while another's contact on the same link was not yet committed would overwrite
        that one's standing with a count lacking it. Taken first, before any row is written,
        the lock waits on nothing else a batch holds.
        """
        await self.aggregates.take_turn(tx)
        await self.inner.apply_many(tx, events)
        await self.aggregates.after(tx, events)

    async def caught_up(self, tx: Tx) -> None:
        """The feed has nothing new: compute the aggregates a rebuild put off (in turn with
        the batches, as they are)."""
        await self.aggregates.caught_up(tx)

    async def pending(self, reader: Tx) -> bool:
        """Whether the aggregates are put off: the feed is not caught up until they are done."""
        return await self.aggregates.pending(reader)


def period_months(period: Period) -> list[str]:
    """The months (``YYYY-MM``) of a period."""
    months, day = [], period.start
    while day <= period.end:
        months.append(day.strftime("%Y-%m"))
        day = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return months
