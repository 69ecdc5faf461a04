"""Event stores: the append-only log of one service, which is also its outbox.

Two backends share one contract (``tests/contract``): PostgreSQL for the full topology and
SQLite for the embedded default.
"""

from eventspine.store.base import (
    NO_STREAM,
    AppendRequest,
    CommandContext,
    EventStore,
)

__all__ = ["NO_STREAM", "AppendRequest", "CommandContext", "EventStore"]
