"""A replay refuses a history holding an event its type's model refuses, naming the event,
wherever in a batch it is; the events around it decode as before."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest

from audit.replay import replay
from audit.sources import AuditInputError, History
from compliance import ContactRule
from eventspine.envelope import GENESIS_HASH, RecordedEvent
from eventspine.schemas import installed_registry


def _contact(position: int, **changed: Any) -> RecordedEvent:
    data = {
        "contact_id": str(uuid.uuid4()),
        "link_id": str(uuid.uuid4()),
        "upper_member_id": str(uuid.uuid4()),
        "lower_member_id": str(uuid.uuid4()),
        "contacted_on": date(2026, 3, 1).isoformat(),
        "method": "visit",
        "initiated_by": "upper",
        **changed,
    }
    return RecordedEvent(
        id=uuid.uuid4(),
        service="contacts",
        event_type="ContactMade",
        schema_version=1,
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


@pytest.mark.parametrize("where", [0, 5, 9])
async def test_an_event_its_model_refuses_is_named(where: int) -> None:
    events = [_contact(i + 1) for i in range(10)]
    events[where] = _contact(where + 1, method="telepathy")
    history = History("stores", events={"roster": [], "contacts": events})
    with pytest.raises(
        AuditInputError, match=rf"contacts contact-{where + 1} v1: cannot be decoded"
    ):
        await replay(history, installed_registry(), ContactRule(), "2026")


async def test_a_history_the_models_take_is_replayed() -> None:
    history = History("stores", events={"roster": [], "contacts": [_contact(1), _contact(2)]})
    replayed = await replay(history, installed_registry(), ContactRule(), "2026")
    assert replayed.applied == {"roster": 0, "contacts": 2}
