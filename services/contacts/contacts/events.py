"""Events of the contacts service."""

from __future__ import annotations

from eventspine.events import EventCatalogue

CATALOGUE = EventCatalogue([])
