"""The notify service's composition root: store, keys, replica and view, pipeline, scheduler.

Full topology (``postgres``): the store, key store, replica and view in the service's schema;
the replica fed from the roster, contacts and feedback topics, the view by its own store.
Embedded default (``sqlite``): files in ``sqlite_dir``, the replica fed from the other
services' store files by the in-process bus, in the same file as the view.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID
from zoneinfo import ZoneInfo

import httpx

from access.revocations import RevokedTokensReader
from access.tokens import TokenService
from compliance import ContactRule
from escalation import DeadlineSettings
from eventspine.clock import FederationClock, utc_now
from eventspine.config import Settings
from eventspine.crypto import PersonalDataVault
from eventspine.replica import Feed
from eventspine.store.base import EventStore
from notify.domain import QuietHours
from notify.handlers import NotifyHandlers, routes
from notify.mail import Mailer
from notify.names import RosterNames
from notify.queries import NotifyQueries
from notify.replica import NotifyReplica
from notify.scheduler import Scheduler
from notify.sender import Sender
from notify.settings import NotifySettings
from notify.view import NotificationsView
from servicekit.backend import open_backend
from servicekit.commands import CommandPipeline

SERVICE = "notify"


@dataclass
class Notify:
    """The wired notify service: ``commands`` runs the members' commands, ``scheduler`` the
    rest."""

    store: EventStore
    vault: PersonalDataVault
    handlers: NotifyHandlers
    commands: CommandPipeline
    queries: NotifyQueries
    scheduler: Scheduler
    feed: Feed
    settings: NotifySettings
    clock: FederationClock
    names: RosterNames
    revocations: RevokedTokensReader
    catch_up: Callable[[], Awaitable[int]]
    close: Callable[[], Awaitable[None]]


def contact_rule(settings: Settings) -> ContactRule:
    """The contact rule, from the settings the contacts service reads."""
    return ContactRule.model_validate(
        {"minimum": settings.contact_minimum, "period_months": settings.contact_period_months}
    )


async def build(
    settings: Settings,
    clock: Callable[[], datetime] = utc_now,
    notify_settings: NotifySettings | None = None,
    roster: Callable[[], httpx.AsyncBaseTransport | None] | None = None,
) -> Notify:
    """Open the notify service on the backend the settings name and start its feeds.
    ``roster`` gives the in-process roster to ask for names (the embedded default, tests);
    else ``SANLIAN_NOTIFY_ROSTER_URL`` names it."""
    config = notify_settings or NotifySettings()
    backend = await open_backend(settings, SERVICE, clock)
    vault, prefix = backend.vault, backend.prefix
    names = RosterNames(
        config.roster_url,
        roster or (lambda: None),
        TokenService(settings.auth_secret),
        clock,
        config.smtp_timeout_seconds,
    )

    async def forgotten(member_id: UUID) -> None:
        await vault.forget(member_id)  # what was sealed for them can no longer be read

    try:
        read = await backend.read_models(
            NotificationsView(prefix), NotifyReplica(prefix, forgotten)
        )
    except BaseException:
        await backend.close()
        raise
    rule = contact_rule(settings)
    federation = FederationClock(clock, ZoneInfo(settings.timezone))
    queries = NotifyQueries(read.reader, read.reader, rule, prefix)
    handlers = NotifyHandlers(backend.store, vault, settings.index_secret.encode())
    commands = CommandPipeline(
        backend.store,
        routes(handlers),
        read.catch_up,
        fingerprint_key=settings.index_secret.encode(),
    )
    sender = Sender(
        handlers,
        queries,
        vault,
        Mailer(config),
        config,
        _quiet(config, federation),
        read.catch_up,
        names,
    )
    scheduler = Scheduler(
        handlers,
        queries,
        sender,
        read.catch_up,
        read.feed,
        federation,
        config,
        rule,
        DeadlineSettings().deadline_policy(),
    )
    handlers.urge_content = scheduler.urge_content  # an urge says what the scheduler would
    return Notify(
        backend.store,
        vault,
        handlers,
        commands,
        queries,
        scheduler,
        read.feed,
        config,
        federation,
        names,
        RevokedTokensReader(read.reader, prefix),
        read.catch_up,
        backend.close,
    )


def _quiet(config: NotifySettings, clock: FederationClock) -> QuietHours:
    return QuietHours(config.quiet_start, config.quiet_end, clock.zone)
