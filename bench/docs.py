"""Render ``docs/performance.md`` from one run: the table, the machine, what limits each row
and a sizing note. Every number in the file comes from the run, or from the stated sizing
assumptions below (inputs of the model, printed as such)."""

from __future__ import annotations

import math
from typing import Any

from bench.table import Row, markdown_table

# Sizing assumptions: inputs of the model, not measurements. Change them here.
POPULATIONS = {"a province": 10_000_000, "the whole country": 300_000_000}
EVENTS_PER_MEMBER_YEAR = 6  # 2+ contacts on the member's upward link, roster changes, suggestions
WORKING_SECONDS_YEAR = 250 * 8 * 3600  # the load lands on working hours
PEAK_FACTOR = 5  # busiest hour over the working-hours mean (end-of-half-year catch-up)
REBUILD_WINDOW_S = 3600  # a projection rebuilt from a year of topics within an hour


def _by_key(rows: list[Row]) -> dict[str, Row]:
    return {r.key: r for r in rows}


def _duration(seconds: float) -> str:
    """A duration as people read it: minutes up to two hours, hours after."""
    if seconds < 2 * 3600:
        return f"{seconds / 60:,.0f} min"
    return f"{seconds / 3600:,.1f} h"


def _sizing(rows: dict[str, Row]) -> str:
    append = rows["store_append_20w"].ours
    relay = rows["relay"].ours
    rebuild = rows["rebuild"].ours
    http = max(rows["http_command"].ours, 1.0)  # 0 when no step held: at least 1 a second
    replay = rows["replay"].ours
    lines = [
        "| | members | events / year | peak events/s | store shards | HTTP workers "
        "| relay partitions | projection partitions = consumers | a year's audit replay |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, members in POPULATIONS.items():
        per_year = members * EVENTS_PER_MEMBER_YEAR
        peak = per_year / WORKING_SECONDS_YEAR * PEAK_FACTOR
        consumers = max(
            math.ceil(peak / rebuild), math.ceil(per_year / (rebuild * REBUILD_WINDOW_S))
        )
        lines.append(
            f"| {name} | {members:,} | {per_year:,} | {peak:,.0f} "
            f"| {math.ceil(peak / append)} | {math.ceil(peak / http)} "
            f"| {math.ceil(peak / relay)} | {consumers} | {_duration(per_year / replay)} |"
        )
    return "\n".join(lines) + (
        f"\n\nModel inputs (assumptions, not measurements): {EVENTS_PER_MEMBER_YEAR} events per "
        f"member per year, spread over {WORKING_SECONDS_YEAR // 3600:,} working hours with a peak "
        f"{PEAK_FACTOR}x the mean, and a projection rebuilt from one year of events within "
        f"{REBUILD_WINDOW_S // 60} minutes. Measured per-unit rates used: one store (one "
        f"PostgreSQL schema, appends serialised by its advisory lock) takes {append:,.0f} "
        f"events/s with 20 writers; one uvicorn worker {http:,.0f} commands/s; one relay (one "
        f"store's outbox into its topic's partitions) {relay:,.0f} events/s; one projection "
        f"consumer {rebuild:,.0f} events/s (row 5: one process, one PostgreSQL transaction at a "
        f"time, whatever number of partitions it holds); the auditor's replay {replay:,.0f} "
        "events/s (row 7: one process reading every store of the year). In a consumer group "
        "each partition has one consumer, so the per-partition rate of a projection is at most "
        "one consumer's, and a projection needs at least as many partitions per topic as "
        "consumers; store shards means stores (services or per-region schemas) each with its "
        "own lock and relay."
    )


LIMITS = """\
- **1. Store append.** Appends that queue up while the previous group is at the server go as
  one `append_group` call (typed arrays, one round trip, one transaction, one WAL flush) that
  takes the store's advisory lock (gap-free positions), checks versions, chains hashes and
  inserts. The 20 writers wait for their group, so the Python work on a group (validation,
  canonical JSON, hashing, the recorded events) and the server's work on it add up rather than
  overlap; the raw INSERTs run in parallel on 20 connections. The one-writer row has no group to
  share and pays the whole round trip and commit per event.
- **2. eventsourcing.** The library takes a table lock per insert for its notification ids and
  runs synchronous psycopg in threads, so 20 threads contend for the GIL and for the lock.
- **3. HTTP command.** vegeta (Go, its own process) sends `POST /contacts` at fixed rates (open
  loop: a slow answer does not delay the next request, so queueing shows as latency), each
  request with its own Idempotency-Key and the bearer token; a rate holds when every answer is
  2xx, vegeta kept the schedule and p99 <= 200 ms. Both servers run as the stack runs them
  (uvicorn on uvloop and httptools, JSON logs). One uvicorn worker is one CPU-bound event
  loop, and a command costs it nine round trips to PostgreSQL where the bare endpoint makes
  one: the revocation row of the token, the contact's stream (a retry is answered there or by
  the append, which finds its Idempotency-Key, so a first attempt makes no look-up of its
  own), the link in the replica, the group append, and the read model's catch-up
  (read-your-writes: one transaction whose first statement locks the view's position row,
  reads the new events and moves the position, then the view's two rows). Concurrent
  commands share a group append and a catch-up, so under load these two cost less per
  command. Each round trip costs the worker some 25-70 µs of CPU besides the server's; the
  rest is the framework (routing, dependencies, validation), the token's signature, the event
  model, canonical JSON and hashing, and the log line. Several workers share the store: their
  appends take turns on its advisory lock, their catch-ups on the position row, and each
  worker shares its group append and catch-up only with its own requests. The generator,
  PostgreSQL and the servers share two cores, so a second worker has at most what the others
  leave: the bare endpoint's own gain from it, in the row, bounds what any service gains here.
- **4. Relay.** Reads the outbox in position order, builds the CloudEvents headers per record and
  moves its checkpoint after each acknowledged batch; the raw producer sends ready-made records
  and waits for each batch's acknowledgement before the next. The relay keeps two batches on
  their way to the broker, reads the next batch and writes the last acknowledged batch's
  checkpoint while a batch is handed to the producer, and raises the cycle collector's young
  threshold while it drains (a batch in flight is thousands of objects that die by reference
  counting). What is left is aiokafka's per-record send, which the raw producer pays too, and
  the store's building of each record's headers.
- **5. Projection rebuild.** Run as the reports service runs it: decoding each record (headers,
  JSON) and checking its envelope and its data against its event type's model (untrusted
  input: a record that fails goes to the dead letters), the compliance projection's rows (one
  `INSERT ... SELECT FROM unnest()` per run of one event type), the aggregates the pages read
  and the offsets, in one PostgreSQL transaction. A rebuild puts the aggregates off: each
  transaction writes the detail rows only, and once the consumer has reached the end of every
  partition (the broker's high watermark, as its last fetch told it) the aggregates are
  computed once from the detail rows, each link read and written once (ranges of link ids,
  one `INSERT ... SELECT FROM unnest()` per 5,000 links); the rebuild is not caught up until
  then, so that time is in the row. Recomputed transaction by transaction instead, as the live
  path does, each link was recomputed as many times as transactions touched it (2.5 times at
  10x the demo city, three quarters of the rebuild's time). While a transaction is at the
  server the next poll is decoded, in slices with a turn of the event loop between them, and
  the records already fetched (up to sixteen polls) join the next transaction. The cycle
  collector's young generation is raised for the process, and consumers long-poll for 50 ms.
  Both sides are timed from their start, so the rebuild's consumer-group join and its
  dead-letter producer's start are in its time (about 0.1 s of the 1x row's 0.8 s). What is
  left, in Python on one core: aiokafka building its records (about 5 µs, which the raw
  consumer pays too, and all it pays besides counting), pydantic's checks of the envelope and
  the event (about 4.6 µs), the headers and the JSON (about 2.8 µs), the projection's
  statements, and the one pass over the links for the aggregates (about a fifth of the row).
- **6. Command to view.** From a contact's append (its event's `recorded_at`) to its row in
  the compliance view, with vegeta sending at the row's rate: the relay's poll interval, the
  broker, the reports consumer's fetch wait and the projection's transaction; a contact not
  acknowledged counts as never arriving. The floor is a raw produce -> consume at the same rate.
- **7. Audit replay.** The auditor's replay as `sanlian-audit replay` runs it: the stores read
  in position order through a cursor, each row checked by the envelope's validator and decoded
  (and upcast) by the event registry, then applied by the live projections' code to a scratch
  SQLite file in batches. Runs of inserts go as one `INSERT ... SELECT ... FROM json_each(?)`,
  written by a thread of their own while the next batch is decoded; the scratch file has large
  pages and builds its by-link index after the rows; the cycle collector is held off while the
  history is read and replayed; the next batch is fetched while the current one is checked,
  and a run of contacts takes its ids as the stored data spells them when that is the text the
  conversion would write. The raw read only fetches the rows. What is left, in Python on one
  core: the envelope's validation (about 3 µs an event), the registry's decode and upcast
  (about 3.5 µs) and the views' contact rule over the period's contacts.
- **8. Growth.** Appends touch the indexes on position, stream and event id (B-trees, so cost
  grows with the logarithm of the table); the rebuild's cost per event should not depend on the
  topic's length, so a drop at 100x points to the projection's table growing without an index.
  The 1x rebuild is small (about 2,000 events), so its fixed costs (the group join, the first
  fetches) weigh most there and the ratios above 1 mostly measure them.
- **9. Replay growth.** The auditor's replay of a history ten times longer, seeded the same
  way (the roster and first contacts through the stores, the rest copied in as the store writes
  it, hashed and chained). The replay streams the store through a cursor, one batch in memory,
  so its cost per event should not grow with the history; a ratio well below 1 would point to
  work that grows with the scratch file (an index missing in the replay's projections).
- **10. Pages.** Server time of the staff dashboard and of a county's drill-down: the reports
  requests the frontend makes for each page, answered in-process from the compliance
  projection's aggregates (standings, tallies per unit, tier, period and status, the monthly
  counts), against the scan of the compliance rows that the aggregates replace. The 100x city
  is built through the stores and the projection, as a rebuild builds it.
"""


def render(meta: dict[str, Any], rows: list[Row]) -> str:
    """The whole document."""
    machine = meta["machine"]
    return f"""# Performance

Generated by `python -m bench --write-docs` (`make bench` runs the same benchmarks without
rewriting this file). Do not edit by hand: every number below comes from the run of
{meta["started_at"]} ({meta["mode"]} mode, {meta["seconds"]:.0f} s in all), except the sizing
model's stated inputs. Each run also writes `bench/results/<UTC timestamp>.json`.

## Machine

- {machine["platform"]}, {machine["processor"]}, {machine["cpus"]} CPUs (host `{machine["node"]}`)
- Python {machine["python"]}; {machine["servers"]}
- Other work may share the machine: compare a row with its baseline from the same run,
  not with another run's absolute numbers.

## Latest run

{markdown_table(rows)}

Ratio is ours over the baseline (for the delay rows, the baseline's p99 or p95 over ours).
The baseline of rows 2, 8, 9 and 10 is another system, another size or the scan the
aggregates replace, measured in the same run.

## What limits each row

{LIMITS}
## Sizing

From the measured rates above, per store, uvicorn worker, relay and consumer:

{_sizing(_by_key(rows))}
"""
