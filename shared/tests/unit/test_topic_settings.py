"""The event topics' replication settings: a min.insync.replicas no write could meet is refused
at start, naming the setting."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from eventspine.config import Settings


def test_min_insync_replicas_above_the_replication_is_refused() -> None:
    with pytest.raises(ValidationError, match="SANLIAN_TOPIC_MIN_INSYNC_REPLICAS"):
        Settings(topic_replication=1, topic_min_insync_replicas=2)


def test_a_three_broker_cluster_takes_replication_3_and_min_insync_2() -> None:
    settings = Settings(topic_replication=3, topic_min_insync_replicas=2)
    assert (settings.topic_replication, settings.topic_min_insync_replicas) == (3, 2)
    assert Settings().topic_min_insync_replicas == 1
