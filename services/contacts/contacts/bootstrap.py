"""The contacts service's composition root: store, keys, read model, roster replica, clock."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from access.revocations import RevokedTokensReader
from access.tree import LinkTree
from compliance import ContactRule
from contacts.handlers import ContactsService
from contacts.projections import ContactsProjection
from contacts.queries import ContactsQueries
from contacts.replica import RosterReplica
from eventspine.bus import InProcessBus, SqliteTx
from eventspine.config import Settings
from eventspine.crypto import PersonalDataVault, SqliteKeyStore
from eventspine.follower import PostgresFollower
from eventspine.projection import Tx
from eventspine.replica import Feed, LocalFeed, kafka_feed
from eventspine.schemas import installed_registry
from eventspine.store.base import EventStore, utc_now
from eventspine.store.sqlite import SqliteEventStore
from servicekit.service import open_postgres

SERVICE = "contacts"


@dataclass
class Contacts:
    """The wired contacts service."""

    store: EventStore
    service: ContactsService
    queries: ContactsQueries
    feed: Feed
    tree: LinkTree
    revocations: RevokedTokensReader
    catch_up: Callable[[], Awaitable[int]]
    close: Callable[[], Awaitable[None]]


def _tree(reader: Tx, prefix: str) -> LinkTree:
    return LinkTree(
        reader,
        f"SELECT upper_member_id, lower_member_id FROM {prefix}replica_links "
        "WHERE unassigned_on IS NULL",
    )


def contact_rule(settings: Settings) -> ContactRule:
    """The contact rule the settings describe (shared with the reports service)."""
    months = settings.contact_period_months
    return ContactRule(
        minimum=settings.contact_minimum,
        period_months=12 if months == 12 else 6 if months == 6 else 3,
    )


async def build(settings: Settings, clock: Callable[[], datetime] = utc_now) -> Contacts:
    """Open the contacts service on the backend the settings name, with its replica running."""
    if settings.store_backend == "postgres":
        return await _postgres(settings, clock)
    return await _sqlite(settings, clock)


async def _postgres(settings: Settings, clock: Callable[[], datetime]) -> Contacts:
    store, keys, vault = await open_postgres(settings, SERVICE, clock)
    prefix = f"{store.schema}."
    follower = PostgresFollower(store, [ContactsProjection(vault, prefix)])
    await follower.setup()
    replica = RosterReplica(vault, prefix)
    feed = await kafka_feed(settings, replica, store.pool, store.schema)
    await feed.start()
    zone = ZoneInfo(settings.timezone)
    service = ContactsService(store, vault, replica, store.pool, feed, clock, zone)

    async def close() -> None:
        await feed.stop()
        await keys.close()
        await store.close()

    queries = ContactsQueries(store.pool, contact_rule(settings), prefix)
    tree = _tree(store.pool, prefix)
    revocations = RevokedTokensReader(store.pool, prefix)
    return Contacts(store, service, queries, feed, tree, revocations, follower.catch_up, close)


async def _sqlite(settings: Settings, clock: Callable[[], datetime]) -> Contacts:
    registry = installed_registry()
    folder = Path(settings.sqlite_dir)
    folder.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 - once, at start-up
    store = SqliteEventStore(str(folder / "contacts-events.sqlite"), SERVICE, registry, clock=clock)
    await store.open()
    # The roster's own store file, read for its events (the embedded default has no Kafka).
    roster_store = SqliteEventStore(str(folder / "roster-events.sqlite"), "roster", registry)
    await roster_store.open()
    keys = SqliteKeyStore(str(folder / "contacts-keys.sqlite"))
    await keys.open()
    vault = PersonalDataVault(keys)
    replica = RosterReplica(vault)
    # The view first: the replica clears notes in its table when a member is forgotten.
    bus = InProcessBus(
        [roster_store, store],
        [ContactsProjection(vault), replica],
        str(folder / "contacts-view.sqlite"),
    )
    feed = LocalFeed(bus)
    await feed.start()
    reader = SqliteTx(bus.db)
    zone = ZoneInfo(settings.timezone)
    service = ContactsService(store, vault, replica, reader, feed, clock, zone)

    async def close() -> None:
        await feed.stop()
        await keys.close()
        await roster_store.close()
        await store.close()

    queries = ContactsQueries(reader, contact_rule(settings))
    revocations = RevokedTokensReader(reader)
    return Contacts(store, service, queries, feed, _tree(reader, ""), revocations, bus.drain, close)
