"""The roster's composition root: the one place that wires store, keys, view, the replica of
the contacts logged on its links, clock, settings, and the command pipeline."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID
from zoneinfo import ZoneInfo

from access.accounts import AccountStore, open_accounts
from access.revocations import RevokedTokens, RevokedTokensReader
from access.tree import LinkTree
from eventspine.clock import FederationClock
from eventspine.config import Settings
from eventspine.replica import Feed
from eventspine.store.base import EventStore, utc_now
from roster.contact_dates import ContactDates
from roster.domain import SpanPolicy
from roster.handlers import RosterHandlers, command_routes
from roster.projections import RosterProjection
from roster.queries import RosterQueries
from servicekit.backend import open_backend
from servicekit.commands import CommandPipeline

SERVICE = "roster"


@dataclass
class Roster:
    """The wired roster: commands, queries, and how to bring the read model up to date."""

    store: EventStore
    handlers: RosterHandlers
    commands: CommandPipeline
    queries: RosterQueries
    accounts: AccountStore
    tree: LinkTree
    revocations: RevokedTokensReader
    catch_up: Callable[[], Awaitable[int]]
    close: Callable[[], Awaitable[None]]
    feed: Feed
    """Delivers the contacts service's events to the roster's replica of them."""

    async def member_tier(self, member_id: UUID) -> str | None:
        """The tier of an active member, or ``None`` (for opening member accounts)."""
        member = await self.queries.member(member_id)
        return member.tier if member is not None and member.status == "active" else None


def _edges(prefix: str) -> str:
    return (
        f"SELECT upper_member_id, member_id FROM {prefix}view_members "
        "WHERE upper_member_id IS NOT NULL AND status = 'active'"
    )


async def build(settings: Settings, clock: Callable[[], datetime] = utc_now) -> Roster:
    """Open the roster on the backend the settings name (``postgres`` or ``sqlite``)."""
    policy = SpanPolicy(settings.span_leader, settings.span_committee, settings.span_representative)
    backend = await open_backend(settings, SERVICE, clock)
    vault, prefix = backend.vault, backend.prefix
    # Revoked tokens from the roster's own events, like every other service's replica
    # (the accounts table alone would not say which tokens a password change revoked).
    read = await backend.read_models(RosterProjection(vault, prefix), RevokedTokens(prefix))
    # Apart from the view: the contacts replica follows another service's events.
    contact_dates = ContactDates(prefix)
    contacts = await backend.read_models(contact_dates, name="contacts")
    accounts, close_accounts = await open_accounts(settings)
    backend.on_close(close_accounts)
    handlers = RosterHandlers(
        backend.store,
        vault,
        index_secret=settings.index_secret.encode(),
        default_policy=policy,
        clock=FederationClock(clock, ZoneInfo(settings.timezone)),
        contacts=contact_dates,
        contacts_reader=contacts.reader,
        contacts_feed=contacts.feed,
    )
    return Roster(
        backend.store,
        handlers,
        CommandPipeline(
            backend.store,
            command_routes(handlers),
            read.catch_up,
            fingerprint_key=settings.index_secret.encode(),
        ),
        RosterQueries(read.reader, policy, prefix),
        accounts,
        LinkTree(read.reader, _edges(prefix)),
        RevokedTokensReader(read.reader, prefix),
        read.catch_up,
        backend.close,
        contacts.feed,
    )
