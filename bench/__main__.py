"""``python -m bench [--quick] [--rows N,M] [--json-dir DIR] [--write-docs]``: provision,
measure every workload (or the numbered rows asked for) against a baseline measured in the same
run, print one table, write the JSON result file (and, with ``--write-docs``,
``docs/performance.md``, from a run of every row only)."""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import docs, es_lib, http, infra, pages, replay, reports, spine
from bench.table import Row, text_table, write_json


@dataclass(frozen=True)
class Sizes:
    """Every workload's size; ``--quick`` shrinks them all."""

    append: int  # row 1 (20 writers) and row 2
    append_single: int  # row 1, one writer
    http: int  # rows 3, seconds per rate step (vegeta)
    relay: int  # row 4
    rebuild_links: int  # row 5: links x (1 member + 1 link + 6 contacts)
    seconds: int  # rows 6, seconds at each rate
    replay: int  # row 7
    growth_append: int  # row 8: the 1x of the append growth rows
    growth_links: int  # row 8: the 1x of the rebuild growth rows
    growth_replay: int = 1_000_000  # row 9: the 1x of the replay growth row (and 10x)
    pages_scale: float = 1.0  # row 10: the 1x city, as a share of the demo city


FULL = Sizes(5000, 1000, 4, 20000, 2500, 8, 1_000_000, 1000, 250)
QUICK = Sizes(1000, 200, 2, 3000, 200, 2, 20_000, 200, 25, 20_000, 0.05)
WRITERS = 20
SCALES = (10, 100)


ROWS = range(1, 11)
"""The rows' numbers, as the table prints them."""


async def measure(
    sizes: Sizes, dsn: str, bootstrap: str, only: frozenset[int] = frozenset(ROWS)
) -> list[Row]:
    """Every row of ``only``, in the issue's order."""
    rows: list[Row] = []

    def done(row: Row) -> Row:
        rows.append(row)
        print(f"  measured {row.key}: {row.ours:,.3f} vs {row.baseline:,.3f}", flush=True)
        return row

    if only & {1, 2}:
        appended = done(await spine.store_vs_insert(dsn, sizes.append, writers=WRITERS))
        done(await spine.store_vs_insert(dsn, sizes.append_single, writers=1))
    if 2 in only:
        done(await es_lib.library_vs_ours(dsn, sizes.append, WRITERS, appended))
    if 3 in only:
        for row in await http.http_rows(dsn, bootstrap, sizes.http):
            done(row)
    if 4 in only:
        done(await spine.relay_vs_producer(dsn, bootstrap, sizes.relay))
    if 5 in only:
        done(
            await reports.rebuild_vs_consumer(dsn, bootstrap, links=sizes.rebuild_links, per_link=6)
        )
    if 6 in only:
        for row in await http.chain_rows(dsn, bootstrap, sizes.seconds):
            done(row)
    if 7 in only:
        # about 20 events per link: the member, the link and 18 contacts
        done(await reports.replay_vs_raw_read(dsn, links=max(10, sizes.replay // 20), per_link=18))
    if 8 in only:
        for row in await spine.append_growth(dsn, sizes.growth_append, SCALES, WRITERS):
            done(row)
        for row in await reports.rebuild_growth(dsn, bootstrap, sizes.growth_links, SCALES):
            done(row)
    if 9 in only:
        for row in await replay.replay_growth(dsn, sizes.growth_replay, (10,)):
            done(row)
    if 10 in only:
        for row in await pages.pages(dsn, bootstrap, sizes.pages_scale, rounds=20, scan_rounds=1):
            done(row)
    return rows


def _rows(value: str) -> frozenset[int]:
    try:
        asked = frozenset(int(part) for part in value.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"rows are numbers separated by commas: {value!r}"
        ) from None
    if unknown := asked - set(ROWS):
        raise argparse.ArgumentTypeError(f"no such row: {', '.join(map(str, sorted(unknown)))}")
    return asked


def main() -> None:
    """Parse the flags, run, report."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="shrink every workload (< 1 min)")
    parser.add_argument(
        "--json-dir", type=Path, default=infra.ROOT / "bench" / "results", help="result files"
    )
    parser.add_argument(
        "--write-docs", action="store_true", help="render docs/performance.md from this run"
    )
    parser.add_argument(
        "--rows",
        type=_rows,
        default=frozenset(ROWS),
        help="only these rows, by number (comma-separated, e.g. 5,7)",
    )
    args = parser.parse_args()
    if args.write_docs and args.rows != frozenset(ROWS):
        parser.error("--write-docs renders every row: leave --rows out")
    sizes = QUICK if args.quick else FULL
    started = time.perf_counter()
    dsn = infra.pg_dsn()
    bootstrap = infra.kafka_bootstrap()
    versions = infra.versions()
    stamp = datetime.now(UTC)
    meta: dict[str, Any] = {
        "started_at": stamp.isoformat(),
        "mode": "quick" if args.quick else "full",
        "machine": {
            "node": platform.node(),
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "servers": versions,
        },
        "sizes": sizes.__dict__,
    }
    print(f"# Sanlian benchmarks on {platform.node()} ({os.cpu_count()} cores), {versions}")
    print(f"# mode: {meta['mode']}; every baseline is measured in this run\n", flush=True)
    meta["rows"] = sorted(args.rows)
    rows = asyncio.run(measure(sizes, dsn, bootstrap, args.rows))
    meta["seconds"] = time.perf_counter() - started
    print()
    print(text_table(rows))
    print(f"\n# {meta['seconds']:.0f} s in all")
    path = args.json_dir / f"{stamp.strftime('%Y%m%dT%H%M%SZ')}.json"
    write_json(path, meta, rows)
    print(f"# results: {path}")
    if args.write_docs:
        target = infra.ROOT / "docs" / "performance.md"
        target.parent.mkdir(exist_ok=True)
        target.write_text(docs.render(meta, rows))
        print(f"# wrote {target}")


if __name__ == "__main__":
    main()
