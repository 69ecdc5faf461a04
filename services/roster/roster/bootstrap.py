"""The roster's composition root: the one place that wires store, keys, view, clock, settings."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from uuid import UUID
from zoneinfo import ZoneInfo

from access.accounts import AccountStore, open_sqlite_db
from access.revocations import RevokedTokens, RevokedTokensReader
from access.tree import LinkTree
from eventspine.bus import InProcessBus, SqliteTx
from eventspine.config import Settings
from eventspine.crypto import PersonalDataVault, SqliteKeyStore
from eventspine.follower import PostgresFollower
from eventspine.schemas import installed_registry
from eventspine.store.base import EventStore, utc_now
from eventspine.store.sqlite import SqliteEventStore
from roster.domain import SpanPolicy
from roster.handlers import RosterService
from roster.projections import RosterProjection
from roster.queries import RosterQueries
from servicekit.service import open_postgres

SERVICE = "roster"


@dataclass
class Roster:
    """The wired roster: commands, queries, and how to bring the read model up to date."""

    store: EventStore
    service: RosterService
    queries: RosterQueries
    accounts: AccountStore
    tree: LinkTree
    revocations: RevokedTokensReader
    catch_up: Callable[[], Awaitable[int]]
    close: Callable[[], Awaitable[None]]

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
    registry = installed_registry()
    store: EventStore
    policy = SpanPolicy(settings.span_leader, settings.span_committee, settings.span_representative)
    if settings.store_backend == "postgres":
        pg_store, keys, vault = await open_postgres(settings, SERVICE, clock)
        store = pg_store
        prefix = f"{pg_store.schema}."
        # Revoked tokens from the roster's own events, like every other service's replica
        # (the accounts table alone would not say which tokens a password change revoked).
        follower = PostgresFollower(
            pg_store, [RosterProjection(vault, prefix), RevokedTokens(prefix)]
        )
        await follower.setup()
        queries = RosterQueries(pg_store.pool, policy, prefix)
        accounts = AccountStore(pg_store.pool, prefix)
        tree = LinkTree(pg_store.pool, _edges(prefix))
        revocations = RevokedTokensReader(pg_store.pool, prefix)
        catch_up = follower.catch_up

        async def close() -> None:
            await keys.close()
            await pg_store.close()

    else:
        folder = Path(settings.sqlite_dir)
        folder.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 - once, at start-up
        sqlite_store = SqliteEventStore(
            str(folder / "roster-events.sqlite"), SERVICE, registry, clock=clock
        )
        await sqlite_store.open()
        store = sqlite_store
        sqlite_keys = SqliteKeyStore(str(folder / "roster-keys.sqlite"))
        await sqlite_keys.open()
        vault = PersonalDataVault(sqlite_keys)
        bus = InProcessBus(
            [store], [RosterProjection(vault), RevokedTokens()], str(folder / "roster-view.sqlite")
        )
        await bus.open()
        queries = RosterQueries(SqliteTx(bus.db), policy)
        accounts_db = await open_sqlite_db(folder / "accounts.sqlite")
        accounts = AccountStore(SqliteTx(accounts_db))
        tree = LinkTree(SqliteTx(bus.db), _edges(""))
        revocations = RevokedTokensReader(SqliteTx(bus.db))
        catch_up = bus.drain

        async def close() -> None:
            await accounts_db.close()
            await bus.close()
            await sqlite_keys.close()
            await sqlite_store.close()

    service = RosterService(
        store,
        vault,
        index_secret=settings.index_secret.encode(),
        default_policy=policy,
        clock=clock,
        timezone=ZoneInfo(settings.timezone),
    )
    await accounts.setup()
    return Roster(store, service, queries, accounts, tree, revocations, catch_up, close)
