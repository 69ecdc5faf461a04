"""The contacts service's composition root: store, keys, read model, roster replica, clock,
and the command pipeline."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from access.revocations import RevokedTokensReader
from access.tree import LinkTree
from compliance import ContactRule
from contacts.handlers import ContactsHandlers, routes
from contacts.projections import ContactsProjection
from contacts.queries import ContactsQueries
from contacts.replica import RosterReplica
from eventspine.clock import FederationClock
from eventspine.config import Settings
from eventspine.projection import Tx
from eventspine.replica import Feed
from eventspine.store.base import EventStore, utc_now
from servicekit.backend import open_backend
from servicekit.commands import CommandPipeline

SERVICE = "contacts"


@dataclass
class Contacts:
    """The wired contacts service: routes hand their commands to ``commands`` (the pipeline
    over ``handlers``) and read "today" from ``clock``."""

    store: EventStore
    handlers: ContactsHandlers
    commands: CommandPipeline
    queries: ContactsQueries
    clock: FederationClock
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
    backend = await open_backend(settings, SERVICE, clock)
    vault, prefix = backend.vault, backend.prefix
    replica = RosterReplica(vault, prefix)
    # The view first: the replica clears notes in the view's table when a member is forgotten.
    read = await backend.read_models(ContactsProjection(vault, prefix), replica)
    federation = FederationClock(clock, ZoneInfo(settings.timezone))
    handlers = ContactsHandlers(backend.store, vault, replica, read.reader, read.feed, federation)
    return Contacts(
        store=backend.store,
        handlers=handlers,
        commands=CommandPipeline(
            backend.store,
            routes(handlers),
            read.catch_up,
            fingerprint_key=settings.index_secret.encode(),
        ),
        queries=ContactsQueries(read.reader, contact_rule(settings), prefix),
        clock=federation,
        feed=read.feed,
        tree=_tree(read.reader, prefix),
        revocations=RevokedTokensReader(read.reader, prefix),
        catch_up=read.catch_up,
        close=backend.close,
    )
