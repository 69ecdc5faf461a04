"""Two scheduler replicas at once escalate each overdue suggestion exactly once per level."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter

import pytest

from eventspine.config import Settings
from eventspine.store.base import CommandContext
from feedback import bootstrap
from feedback.commands import RaiseSuggestion
from feedback.settings import FeedbackSettings
from feedback_driver import Topology, build_tree

pytestmark = pytest.mark.integration

SUGGESTIONS = 500


async def test_two_schedulers_over_500_overdue_suggestions_escalate_each_once_per_level(
    full: Topology, full_settings: Settings
) -> None:
    tree = await build_tree(full.roster)
    one = full.feedback.wired
    rep = uuid.UUID(tree.representative)
    gate = asyncio.Semaphore(8)

    async def seed(n: int) -> None:
        command = RaiseSuggestion(
            suggestion_id=uuid.uuid4(), text=f"建议 {n}", category="safety", channel="meeting"
        )
        async with gate:
            await one.handlers.raise_suggestion(
                command, CommandContext(actor=f"member:{rep}"), actor_id=rep
            )

    # Seeded before the second replica joins: its consumer group's rebalance is not the point.
    await asyncio.gather(*(seed(n) for n in range(SUGGESTIONS)))
    await one.catch_up()
    other = await bootstrap.build(
        full_settings, full.clock, FeedbackSettings(scheduler_enabled=False)
    )
    try:
        # Day 4: the committee member's 3 days to acknowledge are over -> the leader.
        now = full.clock.advance(4)
        first = await asyncio.gather(one.scheduler.tick(now), other.scheduler.tick(now))
        assert sum(first) == SUGGESTIONS
        # Nothing more is due at the same moment, whoever asks again.
        assert await other.scheduler.tick(now) == 0
        # Day 10: the leader's 5 days are over too -> the federation leadership, the top.
        now = full.clock.advance(6)
        second = await asyncio.gather(one.scheduler.tick(now), other.scheduler.tick(now))
        assert sum(second) == SUGGESTIONS
        # At the top nothing escalates further.
        now = full.clock.advance(30)
        last = await asyncio.gather(one.scheduler.tick(now), other.scheduler.tick(now))
        assert list(last) == [0, 0]

        escalated = [
            e for e in await one.store.read_all(0, 10_000) if e.type.endswith("Escalated.v2")
        ]
        per_level = Counter((e.stream_id, e.data["level"]) for e in escalated)
        assert len(per_level) == 2 * SUGGESTIONS
        assert set(per_level.values()) == {1}
        assert {e.data["reason"] for e in escalated} == {"deadline"}
        assert Counter(e.data["to_holder_id"] for e in escalated) == {
            tree.leader: SUGGESTIONS,
            None: SUGGESTIONS,
        }
        top = await full.feedback.ok("GET", "/federation/inbox", params={"limit": 1})
        assert top["count"] == SUGGESTIONS
    finally:
        await other.close()
