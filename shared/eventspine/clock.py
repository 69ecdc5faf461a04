"""The federation's clock: the one place that turns "now" into the federation's date.

Decisions never read the wall clock: a composition root builds one :class:`FederationClock`
from the settings and hands its ``now()`` and ``today()`` to the handlers as values.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo


def utc_now() -> datetime:
    """The wall clock, in UTC (the default clock of every service)."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class FederationClock:
    """A clock and the federation's time zone (``SANLIAN_TIMEZONE``)."""

    clock: Callable[[], datetime] = utc_now
    zone: tzinfo = UTC

    def now(self) -> datetime:
        """The moment now."""
        return self.clock()

    def today(self) -> date:
        """The federation's date now: a date entered today there is not in the future, even
        while it is still yesterday in UTC."""
        return self.date_at(self.clock())

    def date_at(self, moment: datetime) -> date:
        """The federation's date at ``moment``."""
        return moment.astimezone(self.zone).date()
