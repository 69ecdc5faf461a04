"""The cycle collector's youngest generation, raised where batches of short-lived records
pass through (a projection's polls, a relay's batches in flight).

Each record is some twenty container objects that live until their batch is done and then go
by reference counting, never in a cycle. At the default threshold (700 net allocations) the
collector runs every few dozen records, scanning the batches in flight each time and finding
nothing, and its survivors set off full collections: a quarter to a third of a rebuild's or a
drain's CPU, measured. The threshold is the process's, so it is only ever raised here.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 50_000
"""Net allocations between two collections of the youngest generation while records pass."""


def raise_young_threshold() -> int:
    """Raise the youngest generation's threshold to :data:`YOUNG_THRESHOLD` unless it is
    already as high or the collector's thresholds are off (0); return the threshold it had
    (0 when it was left alone)."""
    young, *older = gc.get_threshold()
    if not 0 < young < YOUNG_THRESHOLD:
        return 0
    gc.set_threshold(YOUNG_THRESHOLD, *older)
    return young


def restore_young_threshold(young: int) -> None:
    """Put back what :func:`raise_young_threshold` returned, unless it left the threshold
    alone or someone set another one meanwhile."""
    current, *older = gc.get_threshold()
    if young and current == YOUNG_THRESHOLD:
        gc.set_threshold(young, *older)
