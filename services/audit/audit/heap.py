"""The cycle collector held off while a history is read or replayed.

A history is millions of small objects (envelopes, their data, ids) that hold no reference
cycles and live until the read or the replay is over. Each one made wakes the collector,
which then walks every live object of the process again and again: measured, it was most of
the time of reading a store, and of a replay of it. Reference counting frees them (and
whatever else is dropped meanwhile) as before; only cycles wait for the collector, which
runs again once the last reader is done.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_holders = 0
_was_enabled = False


@contextmanager
def collector_paused() -> Iterator[None]:
    """Hold off the cycle collector while the block runs (nested and concurrent readers
    alike: it runs again when the last one leaves, if it ran when the first came in)."""
    global _holders, _was_enabled
    with _lock:
        if _holders == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _holders += 1
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0 and _was_enabled:
                _settle()
                gc.enable()


def _settle() -> None:
    """Move what was made meanwhile among the collector's oldest objects, without a walk.

    Uncollected, it all sits in the youngest generation: the first collections after the
    pause would walk it whole, once per generation (a tenth of a replay, measured). Objects
    that a service's feeds froze for good stay frozen (and what was made joins them then).
    """
    thawed = gc.get_freeze_count() == 0
    gc.freeze()
    if thawed:
        gc.unfreeze()  # the frozen objects join the oldest generation
