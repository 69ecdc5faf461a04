"""Choosing a source and reading the auditor's dates."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from pathlib import Path

from audit import exportfile
from audit.sources import AuditInputError, History, read_stores, read_topics
from eventspine.config import Settings

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class Source(StrEnum):
    """Where the history is read from."""

    stores = "stores"
    topics = "topics"
    file = "file"


async def load(source: Source, settings: Settings, file: Path | None = None) -> History:
    """The history of every service, from the chosen source."""
    if source is Source.file:
        if file is None:
            raise AuditInputError("--source file needs --file PATH")
        return exportfile.read(file)
    if source is Source.topics:
        return await read_topics(settings)
    return await read_stores(settings)


def parse_moment(text: str, option: str, *, end_of_day: bool) -> datetime:
    """An ISO 8601 moment with an offset, or a date (its start, or its last microsecond, UTC)."""
    try:
        if _DATE.match(text):
            day = date.fromisoformat(text)
            if end_of_day:
                return datetime.combine(day + timedelta(days=1), time(), UTC) - timedelta(
                    microseconds=1
                )
            return datetime.combine(day, time(), UTC)
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise AuditInputError(
            f"{option} {text!r}: expected a date (2026-06-30) or a moment with its offset "
            "(2026-06-30T23:59:59+00:00)"
        ) from None
    if moment.tzinfo is None:
        raise AuditInputError(f"{option} {text!r}: give the time zone offset, e.g. +08:00")
    return moment
