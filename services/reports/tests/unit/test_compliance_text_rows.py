"""The compliance projection's text rows (the SQLite path) are what converting each event's
arguments gives, whatever the stored data spells its ids as; and a batch applied at once
writes the rows that applying its events one by one writes."""

from __future__ import annotations

import sqlite3
import uuid
from datetime import UTC, date, datetime
from typing import Any, cast

import pytest

from audit.scratch import ScratchTx
from contracts.contacts import ContactMade
from eventspine.envelope import GENESIS_HASH, RecordedEvent
from eventspine.projection import Delivered, deliver
from eventspine.schemas import installed_registry
from reports.projections.compliance import (
    ARGUMENTS,
    TABLES,
    ComplianceProjection,
    _texts,
    text_rows,
)

REGISTRY = installed_registry()


def _record(data: dict[str, Any], *, version: int = 1, position: int = 1) -> RecordedEvent:
    return RecordedEvent(
        id=uuid.uuid4(),
        service="contacts",
        event_type="ContactMade",
        schema_version=version,
        time=datetime(2026, 3, 1, tzinfo=UTC),
        stream_id=f"contact-{position}",
        stream_version=1,
        position=position,
        actor="test",
        correlation_id=uuid.uuid4(),
        data=data,
        prev_hash=GENESIS_HASH,
        hash="0" * 64,
    )


def _made(position: int = 1, spell: Any = str, **changed: Any) -> Delivered:
    ids = {
        name: spell(uuid.uuid4())
        for name in ("contact_id", "link_id", "upper_member_id", "lower_member_id")
    }
    data = {
        **ids,
        "contacted_on": date(2026, 1 + position % 12, 1 + position % 28).isoformat(),
        "method": "visit",
        "initiated_by": "upper",
        **changed,
    }
    return deliver(_record(data, position=position), REGISTRY)


def _converted(events: list[Delivered]) -> list[tuple[Any, ...]]:
    """The rows as every event's arguments converted one by one give them."""
    return [_texts(ARGUMENTS[type(e.event)](e)) for e in events]


SPELLINGS = {
    "canonical": str,
    "upper case": lambda u: str(u).upper(),
    "no hyphens": lambda u: u.hex,
    "braces": lambda u: "{" + str(u) + "}",
    "urn": lambda u: u.urn,
}


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_a_run_of_contacts_gives_the_converted_rows_however_its_ids_are_spelled(
    spelling: str,
) -> None:
    events = [_made(i, SPELLINGS[spelling]) for i in range(1, 40)]
    rows = text_rows(ContactMade, events)
    assert rows == _converted(events)
    assert all(len(row[0]) == 36 and row[0] == row[0].lower() for row in rows)


def test_one_odd_spelling_or_date_in_a_run_changes_nothing() -> None:
    events = [_made(i) for i in range(1, 10)]
    events.insert(4, _made(50, lambda u: str(u).upper()))
    events.insert(6, _made(51, contacted_on="2026-02-03T00:00:00"))  # a date as a moment
    assert text_rows(ContactMade, events) == _converted(events)


def test_an_event_not_validated_from_its_stored_data_has_its_ids_converted() -> None:
    made = _made(1)
    # As if upcast from an older version: the stored data is not what the event holds.
    older = Delivered(
        _record({**made.record.data, "contact_id": str(uuid.uuid4())}, version=0),
        made.event,
    )
    run = [_made(2), older, _made(3)]
    assert text_rows(ContactMade, run) == _converted(run)
    assert text_rows(ContactMade, [older])[0][0] == str(cast(ContactMade, made.event).contact_id)


def test_an_empty_run_has_no_rows() -> None:
    assert text_rows(ContactMade, []) == []


async def test_a_batch_applied_at_once_writes_what_one_event_at_a_time_writes() -> None:
    events = [_made(i, SPELLINGS[s]) for i, s in enumerate(list(SPELLINGS) * 5, start=1)]
    events.append(events[3])  # a contact delivered twice: the first one stays

    async def table(batched: bool) -> list[tuple[Any, ...]]:
        db = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        tx = ScratchTx(db)
        projection = ComplianceProjection()
        await projection.setup(tx)
        if batched:
            await projection.apply_many(tx, events)
        else:
            for event in events:
                await projection.apply(tx, event)
        tx.close()
        assert "r_contacts" in TABLES
        rows = db.execute("SELECT rowid, * FROM r_contacts ORDER BY rowid").fetchall()
        db.close()
        return rows

    written = await table(batched=True)
    assert written == await table(batched=False)
    assert len(written) == len(events) - 1
