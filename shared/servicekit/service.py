"""What every service's composition root opens first: its event store and its key vault."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from eventspine.config import Settings
from eventspine.crypto import PersonalDataVault, PostgresKeyStore
from eventspine.schemas import installed_registry
from eventspine.store.postgres import PostgresEventStore


async def open_postgres(
    settings: Settings, service: str, clock: Callable[[], datetime]
) -> tuple[PostgresEventStore, PostgresKeyStore, PersonalDataVault]:
    """The service's store in its schema, and the vault whose keys live beside it."""
    store = PostgresEventStore(
        settings.pg_dsn,
        service,
        installed_registry(),
        schema=settings.store_schema(service),
        clock=clock,
        pool_size=settings.pg_pool_size,
    )
    await store.open()
    keys = PostgresKeyStore(store.pool, store.schema)
    await keys.open()
    return store, keys, PersonalDataVault(keys)
