"""The demo city is generated through ordinary commands and the same seed gives the same data."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from eventspine.config import Settings
from roster import bootstrap as roster_bootstrap
from web.demo import generate


def clock() -> datetime:
    return datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


async def test_a_small_demo_city_is_valid_history_and_repeatable(tmp_path: Path) -> None:
    demos = []
    for run in ("a", "b"):
        settings = Settings(store_backend="sqlite", sqlite_dir=str(tmp_path / run))
        demos.append(await generate(settings, seed=7, scale=0.02, clock=clock))
    first, second = demos
    assert first == second  # same seed, same people, links, contacts and suggestions
    assert first.members == {"leader": 1, "committee": 1, "representative": 6, "worker": 60}
    assert first.links == 67
    assert 0 < first.contacts <= 2 * first.links
    assert first.suggestions == 1
    roster = await roster_bootstrap.build(
        Settings(store_backend="sqlite", sqlite_dir=str(tmp_path / "a")), clock
    )
    try:
        found = await roster.queries.search("YQ00002", 10, 0)
        assert found.count == 1
        unlinked = await roster.queries.unlinked(None, None, 10, 0)
        assert unlinked.count == 0
    finally:
        await roster.close()
