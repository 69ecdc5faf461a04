"""The feedback service's composition root: store, keys, read model, roster replica, command
pipeline, scheduler.

Full topology (``postgres``): the store, key store, read model and roster replica live in the
service's own schema; the replica is fed from the roster topic on Kafka. Embedded default
(``sqlite``): files in ``sqlite_dir``, the replica fed straight from the roster's SQLite store.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID
from zoneinfo import ZoneInfo

from access.revocations import RevokedTokensReader
from access.tree import LinkTree
from eventspine.clock import FederationClock, utc_now
from eventspine.config import Settings
from eventspine.crypto import PersonalDataVault
from eventspine.projection import Tx
from eventspine.replica import Feed
from eventspine.store.base import EventStore
from feedback import tagging
from feedback.department_handlers import DepartmentHandlers, department_routes
from feedback.departments import DepartmentQueries, DepartmentsProjection
from feedback.handlers import FeedbackHandlers, routes
from feedback.intake_handlers import IntakeHandlers, intake_routes
from feedback.intake_view import IntakeProjection, IntakeQueries
from feedback.projections import FeedbackProjection
from feedback.queries import FeedbackQueries
from feedback.replica import Chain, RosterReplica
from feedback.scheduler import DeadlineScheduler
from feedback.settings import FeedbackSettings
from feedback.signing import Signer
from feedback.tag_handlers import TagHandlers, tag_routes
from servicekit.backend import open_backend
from servicekit.commands import CommandPipeline

SERVICE = "feedback"


@dataclass
class Feedback:
    """The wired feedback service: ``commands`` runs every command (through ``handlers``)."""

    store: EventStore
    handlers: FeedbackHandlers
    commands: CommandPipeline
    queries: FeedbackQueries
    scheduler: DeadlineScheduler
    feed: Feed
    settings: FeedbackSettings
    chain: Chain
    tree: LinkTree
    revocations: RevokedTokensReader
    catch_up: Callable[[], Awaitable[int]]
    close: Callable[[], Awaitable[None]]
    intake: IntakeQueries
    intake_handlers: IntakeHandlers
    signer: Signer
    departments: DepartmentQueries


class _Forgetting:
    """When the roster forgets a member, shred the suggestions they raised or that were raised
    for them: destroy each suggestion's key, and drop the texts from the read model."""

    def __init__(self) -> None:
        self.vault: PersonalDataVault | None = None
        self.view: FeedbackProjection | None = None
        self.intake: IntakeProjection | None = None
        self.reader: Tx | None = None
        self.queries: FeedbackQueries | None = None
        self.catch_up: Callable[[], Awaitable[int]] | None = None

    async def __call__(self, member_id: UUID) -> None:
        assert self.vault is not None, "wired by build()"
        assert self.view is not None
        assert self.reader is not None
        assert self.queries is not None
        assert self.catch_up is not None
        await self.catch_up()  # the read model must know every suggestion stored so far
        for suggestion_id in await self.queries.raised_ids(member_id):
            await self.vault.forget(suggestion_id)
            await self.view.wipe(self.reader, suggestion_id)
            if self.intake is not None:
                await self.intake.wipe(self.reader, suggestion_id)


async def build(
    settings: Settings,
    clock: Callable[[], datetime] = utc_now,
    feedback_settings: FeedbackSettings | None = None,
) -> Feedback:
    """Open the feedback service on the backend the settings name, and start its replica feed."""
    config = feedback_settings or FeedbackSettings()
    policy = config.deadline_policy()
    forgetting = _Forgetting()
    backend = await open_backend(settings, SERVICE, clock)
    vault, prefix = backend.vault, backend.prefix
    view = FeedbackProjection(vault, policy, prefix, config.department_days)
    intake_view = IntakeProjection(vault, prefix)
    read = await backend.read_models(view, intake_view, DepartmentsProjection(prefix))
    reader, catch_up = read.reader, read.catch_up
    # The replica apart from the view: forgetting a member (a roster event) brings the view
    # up to date first, which cannot happen inside the delivery that feeds the view.
    replicated = await backend.read_models(RosterReplica(prefix, forgetting), name="replica")
    feed = replicated.feed
    chain = Chain(replicated.reader, prefix)
    queries = FeedbackQueries(reader, prefix)
    store = backend.store
    close = backend.close

    forgetting.vault, forgetting.view, forgetting.reader = vault, view, reader
    forgetting.intake = intake_view
    forgetting.queries, forgetting.catch_up = queries, catch_up
    handlers = FeedbackHandlers(
        store,
        vault,
        chain,
        feed,
        policy=policy,
        departments=config.departments,
        replica_wait_seconds=config.replica_wait_seconds,
        cheap_catch_up=backend.local,
        department_days=config.department_days,
        vocabulary=tagging.load(config.tags_file),
    )
    signer = Signer(settings.auth_secret.encode(), settings.index_secret.encode())
    intake = IntakeQueries(reader, prefix)
    intake_handlers = IntakeHandlers(
        handlers,
        intake,
        signer,
        index_secret=settings.index_secret.encode(),
        clock=clock,
        catch_up=catch_up,
        per_link_per_hour=config.intake_per_link_per_hour,
        duplicate_hours=config.intake_duplicate_hours,
    )
    commands = CommandPipeline(
        store,
        {
            **routes(handlers),
            **intake_routes(intake_handlers),
            **department_routes(DepartmentHandlers(handlers)),
            **tag_routes(TagHandlers(handlers)),
        },
        catch_up,
        fingerprint_key=settings.index_secret.encode(),
    )
    scheduler = DeadlineScheduler(
        handlers,
        queries,
        catch_up,
        FederationClock(clock, ZoneInfo(settings.timezone)),
        interval_seconds=config.scheduler_interval_seconds,
    )
    tree = LinkTree(
        chain.reader,
        f"SELECT upper_member_id, member_id FROM {chain.p}replica_members "
        "WHERE upper_member_id IS NOT NULL AND status = 'active'",
    )
    revocations = RevokedTokensReader(chain.reader, chain.p)  # kept by the roster replica
    return Feedback(
        store,
        handlers,
        commands,
        queries,
        scheduler,
        feed,
        config,
        chain,
        tree,
        revocations,
        catch_up,
        close,
        intake,
        intake_handlers,
        signer,
        DepartmentQueries(reader, prefix),
    )
