"""Events of the feedback service."""

from __future__ import annotations

from eventspine.events import EventCatalogue

CATALOGUE = EventCatalogue([])
