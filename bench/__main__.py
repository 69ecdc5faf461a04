"""``python -m bench``: run every benchmark once and print the comparison table."""

from __future__ import annotations

import asyncio
import os
import platform

from bench import infra, reports, spine


async def main() -> None:
    """Provision, measure, print."""
    dsn = infra.pg_dsn()
    bootstrap = infra.kafka_bootstrap()
    events = int(os.environ.get("BENCH_EVENTS", "20000"))
    print(f"# Sanlian benchmarks on {platform.node()} ({os.cpu_count()} cores), {infra.versions()}")
    print(f"# {events:,} events per measurement; ours vs raw baseline, ratio, target\n")
    results = [
        await spine.store_vs_insert(dsn, events // 4, writers=1),
        await spine.store_vs_insert(dsn, events // 4, writers=8),
        await spine.relay_vs_producer(dsn, bootstrap, events),
        await reports.rebuild_vs_consumer(dsn, bootstrap, links=events // 8, per_link=6),
    ]
    replay_events = int(os.environ.get("BENCH_REPLAY_EVENTS", "1000000"))
    # about 20 events per link: the member, the link and 18 contacts
    results.append(
        await reports.replay_vs_raw_read(dsn, links=max(10, replay_events // 20), per_link=18)
    )
    for result in results:
        print(result.line())
    rate = int(os.environ.get("BENCH_COMMAND_RATE", "200"))
    delay = await reports.command_to_view_delay(dsn, bootstrap, rate=rate, seconds=10)
    print(delay.line())


if __name__ == "__main__":
    asyncio.run(main())
