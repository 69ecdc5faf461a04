"""A small scripted year of roster, contacts and feedback events, appended with a fixed clock;
in SQLite stores, or in PostgreSQL stores relayed to fresh topics."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from uuid import UUID

import pytest

from audit.sources import SERVICES as STORES
from contacts.events import ContactMade, ContactRetracted
from eventspine.config import Settings
from eventspine.crypto import PersonalDataVault, SqliteKeyStore
from eventspine.events import DomainEvent
from eventspine.kafka import ensure_topics, make_producer
from eventspine.relay import Relay
from eventspine.schemas import installed_registry
from eventspine.store.base import CommandContext, EventStore
from eventspine.store.postgres import PostgresEventStore
from eventspine.store.sqlite import SqliteEventStore
from feedback.events import SuggestionRaised
from roster.events import MemberAssigned, MemberForgotten, MemberRegistered, UnitRegistered
from support.pg import topology_settings

AS_OF = datetime(2026, 6, 30, 23, 59, 59, tzinfo=UTC)


@dataclass
class Clock:
    """The stores' clock: the script moves it before each append."""

    now: datetime = datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Year:
    """What the script did, for the tests' expectations."""

    unit: UUID = field(default_factory=uuid.uuid4)
    leader: UUID = field(default_factory=uuid.uuid4)
    c1: UUID = field(default_factory=uuid.uuid4)
    c2: UUID = field(default_factory=uuid.uuid4)
    suggestion: UUID = field(default_factory=uuid.uuid4)
    link1: UUID | None = None
    link2: UUID | None = None
    first_contact: UUID = field(default_factory=uuid.uuid4)


def _at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 10, tzinfo=UTC)


async def script_year(stores: dict[str, EventStore], clock: Clock, keys_path: Path) -> Year:
    """Append the year: two links, contacts before and after 30 June, a suggestion, and a
    committee member forgotten in October (their key destroyed).

    As of 30 June: link1 has 2 contacts (met), link2 has 1 (behind), one suggestion open.
    """
    year = Year()
    keys = SqliteKeyStore(str(keys_path))
    await keys.open()
    vault = PersonalDataVault(keys)
    ctx = CommandContext(actor="staff:auditor-test")

    async def put(service: str, day: date, stream: str, version: int, event: DomainEvent) -> UUID:
        clock.now = _at(day)
        recorded = await stores[service].append(stream, version, [event], ctx)
        return recorded[0].id

    await put(
        "roster",
        date(2026, 1, 2),
        f"unit-{year.unit}",
        0,
        UnitRegistered(unit_id=year.unit, name="阳泉市总工会", kind="city_federation"),
    )
    for member, tier in ((year.leader, "leader"), (year.c1, "committee"), (year.c2, "committee")):
        sealed = await vault.seal(member, {"name": f"member {member.hex[:6]}"})
        await put(
            "roster",
            date(2026, 1, 3),
            f"member-{member}",
            0,
            MemberRegistered(
                member_id=member,
                unit_id=year.unit,
                tier=tier,
                personal_data=sealed,
                number_index=uuid.uuid4().hex * 2,
                registered_on=date(2026, 1, 3),
            ),
        )
    links = []
    for member in (year.c1, year.c2):
        links.append(
            await put(
                "roster",
                date(2026, 1, 5),
                f"member-{member}",
                1,
                MemberAssigned(
                    member_id=member,
                    upper_member_id=year.leader,
                    tier="committee",
                    assigned_on=date(2026, 1, 5),
                ),
            )
        )
    year.link1, year.link2 = links
    contacts = [
        (year.first_contact, links[0], year.c1, date(2026, 3, 10)),
        (uuid.uuid4(), links[0], year.c1, date(2026, 5, 20)),
        (uuid.uuid4(), links[1], year.c2, date(2026, 4, 1)),
        (uuid.uuid4(), links[0], year.c1, date(2026, 7, 10)),
        (uuid.uuid4(), links[1], year.c2, date(2026, 9, 15)),
    ]
    events: list[tuple[date, DomainEvent, str, int, str]] = []
    for contact, link, lower, day in contacts:
        made = ContactMade(
            contact_id=contact,
            link_id=link,
            upper_member_id=year.leader,
            lower_member_id=lower,
            contacted_on=day,
            method="visit",
            initiated_by="upper",
        )
        events.append((day, made, f"contact-{contact}", 0, "contacts"))
    retraction = ContactRetracted(contact_id=year.first_contact, reason="logged twice")
    events.append((date(2026, 8, 1), retraction, f"contact-{year.first_contact}", 1, "contacts"))
    raised = SuggestionRaised(
        suggestion_id=year.suggestion,
        raised_by=year.c2,
        category="safety",
        channel="meeting",
        text="v1.c2VhbGVk",
        holder_id=year.leader,
        holder_tier="leader",
        route="upper_contact",
    )
    events.append((date(2026, 6, 1), raised, f"suggestion-{year.suggestion}", 0, "feedback"))
    events.sort(key=lambda item: item[0])
    for day, event, stream, version, service in events:
        await put(service, day, stream, version, event)
    await vault.forget(year.c2)
    await put(
        "roster", date(2026, 10, 1), f"member-{year.c2}", 2, MemberForgotten(member_id=year.c2)
    )
    await keys.close()
    return year


SERVICES = ("roster", "contacts", "feedback")


@pytest.fixture
def clock() -> Clock:
    """A fresh clock for the stores the script appends to."""
    return Clock()


async def _sqlite_year(folder: Path) -> Year:
    clock = Clock()
    registry = installed_registry()
    stores: dict[str, EventStore] = {
        s: SqliteEventStore(str(folder / f"{s}-events.sqlite"), s, registry, clock=clock)
        for s in SERVICES
    }
    for store in stores.values():
        await store.open()
    try:
        return await script_year(stores, clock, folder / "keys.sqlite")
    finally:
        for store in stores.values():
            await store.close()


@pytest.fixture
def year(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Year:
    """The scripted year in SQLite stores under ``tmp_path``, and the env pointing at them."""
    monkeypatch.setenv("SANLIAN_STORE_BACKEND", "sqlite")
    monkeypatch.setenv("SANLIAN_SQLITE_DIR", str(tmp_path))
    return asyncio.run(_sqlite_year(tmp_path))


@dataclass
class RelayedCity:
    """The scripted year in PostgreSQL stores, relayed to topics: the settings that find
    both, the open stores and what the script did."""

    settings: Settings
    stores: dict[str, EventStore]
    year: Year


@pytest.fixture
async def relayed_city(
    pg_dsn: str, kafka_bootstrap: str, tmp_path: Path, clock: Clock
) -> AsyncIterator[RelayedCity]:
    """The scripted year in PostgreSQL stores (one for each service the auditor reads) under a
    unique prefix, relayed to fresh topics; the schemas are dropped afterwards."""
    async with topology_settings(pg_dsn, kafka_bootstrap, "a") as settings:
        registry = installed_registry()
        stores: dict[str, EventStore] = {
            s: PostgresEventStore(pg_dsn, s, registry, schema=settings.store_schema(s), clock=clock)
            for s in STORES
        }
        for store in stores.values():
            await store.open()
        try:
            year = await script_year(stores, clock, tmp_path / "keys.sqlite")
            await ensure_topics(settings, [settings.topic(s) for s in STORES])
            producer = make_producer(settings)
            await producer.start()
            try:
                for service, store in stores.items():
                    await Relay(store, producer, settings.topic(service)).drain()
            finally:
                await producer.stop()
            yield RelayedCity(settings, stores, year)
        finally:
            for store in stores.values():
                await store.close()
