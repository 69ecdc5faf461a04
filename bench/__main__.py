"""``python -m bench [--quick] [--json-dir DIR] [--write-docs]``: provision, measure every
workload against a baseline measured in the same run, print one table, write the JSON result
file (and, with ``--write-docs``, ``docs/performance.md``)."""

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


async def measure(sizes: Sizes, dsn: str, bootstrap: str) -> list[Row]:
    """Every row, in the issue's order."""
    rows: list[Row] = []

    def done(row: Row) -> Row:
        rows.append(row)
        print(f"  measured {row.key}: {row.ours:,.3f} vs {row.baseline:,.3f}", flush=True)
        return row

    appended = done(await spine.store_vs_insert(dsn, sizes.append, writers=WRITERS))
    done(await spine.store_vs_insert(dsn, sizes.append_single, writers=1))
    done(await es_lib.library_vs_ours(dsn, sizes.append, WRITERS, appended))
    for row in await http.http_rows(dsn, bootstrap, sizes.http):
        done(row)
    done(await spine.relay_vs_producer(dsn, bootstrap, sizes.relay))
    done(await reports.rebuild_vs_consumer(dsn, bootstrap, links=sizes.rebuild_links, per_link=6))
    for row in await http.chain_rows(dsn, bootstrap, sizes.seconds):
        done(row)
    # about 20 events per link: the member, the link and 18 contacts
    done(await reports.replay_vs_raw_read(dsn, links=max(10, sizes.replay // 20), per_link=18))
    for row in await spine.append_growth(dsn, sizes.growth_append, SCALES, WRITERS):
        done(row)
    for row in await reports.rebuild_growth(dsn, bootstrap, sizes.growth_links, SCALES):
        done(row)
    for row in await replay.replay_growth(dsn, sizes.growth_replay, (10,)):
        done(row)
    for row in await pages.pages(dsn, bootstrap, sizes.pages_scale, rounds=20, scan_rounds=1):
        done(row)
    return rows


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
    args = parser.parse_args()
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
    rows = asyncio.run(measure(sizes, dsn, bootstrap))
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
