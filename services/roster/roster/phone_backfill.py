"""The phone-index backfill: ``MemberPhoneIndexed`` for members registered before the roster
published it, so a worker's phone on an intake page matches their older record too.

Run once by the operator after the upgrade (``python -m roster.phone_backfill``), against the
backend the ``SANLIAN_*`` settings name, while the roster runs or not. It is idempotent: a
member whose stream already holds a ``MemberPhoneIndexed`` (the backfill's, or one appended
when their details changed) is left alone, so a second run appends nothing. It is an
operator's command rather than work at every start because it reads the roster's whole log:
once is enough, and the run is recorded under its own actor for the auditors.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from uuid import UUID

from contracts.roster import phone_index
from eventspine.config import Settings
from eventspine.crypto import PersonalDataVault
from eventspine.errors import ConcurrencyError
from eventspine.store.base import CommandContext, EventStore
from roster import domain
from roster import events as ev
from roster.handlers import member_stream
from servicekit.backend import open_backend

ACTOR = "operator:phone-index-backfill"
PAGE = 1000


@dataclass(frozen=True)
class Backfilled:
    """What a run did: members without an index looked at, and indexes appended."""

    looked_at: int
    indexed: int


async def _unindexed(store: EventStore) -> list[UUID]:
    """Members registered whose stream has no ``MemberPhoneIndexed`` yet, in log order."""
    registered: dict[UUID, None] = {}
    indexed: set[UUID] = set()
    after = 0
    while page := await store.read_all(after, PAGE):
        for recorded in page:
            if recorded.event_type == "MemberRegistered":
                registered[UUID(str(recorded.data["member_id"]))] = None
            elif recorded.event_type == "MemberPhoneIndexed":
                indexed.add(UUID(str(recorded.data["member_id"])))
        after = page[-1].position
    return [m for m in registered if m not in indexed]


async def _index_one(
    store: EventStore, vault: PersonalDataVault, secret: bytes, member_id: UUID
) -> bool:
    stream = member_stream(member_id)
    recorded = await store.read_stream(stream)
    member = None
    for item in recorded:
        event = store.registry.decode(item.event_type, item.schema_version, item.data)
        if isinstance(event, ev.MemberPhoneIndexed):
            return False  # indexed meanwhile (their details changed)
        member = domain.evolve_member(member, event)
    if member is None or not member.active:
        return False  # departed or forgotten: nobody to match a phone to
    details = await vault.unseal(member_id, member.personal_data)
    phone = (details or {}).get("phone")
    index = phone_index(secret, str(phone)) if phone else None
    if index is None:
        return False  # no phone on record: nothing to index
    event = ev.MemberPhoneIndexed(member_id=member_id, phone_index=index)
    await store.append(stream, len(recorded), [event], CommandContext(actor=ACTOR))
    return True


async def backfill(store: EventStore, vault: PersonalDataVault, secret: bytes) -> Backfilled:
    """Append the phone index of every active member with a phone who has none yet."""
    candidates = await _unindexed(store)
    indexed = 0
    for member_id in candidates:
        for _ in range(3):  # a change of the member's at the same moment: read again
            try:
                indexed += await _index_one(store, vault, secret, member_id)
                break
            except ConcurrencyError:
                continue
    return Backfilled(looked_at=len(candidates), indexed=indexed)


async def run(settings: Settings) -> Backfilled:
    """The backfill on the roster's store as the settings name it."""
    backend = await open_backend(settings, "roster")
    try:
        return await backfill(backend.store, backend.vault, settings.index_secret.encode())
    finally:
        await backend.close()


def main() -> None:
    """``python -m roster.phone_backfill``: run once, print what it did."""
    done = asyncio.run(run(Settings()))
    print(f"phone index backfill: {done.looked_at} members without one, {done.indexed} indexed")


if __name__ == "__main__":
    main()
