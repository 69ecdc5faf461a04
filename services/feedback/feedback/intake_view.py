"""The intake read model: links, what arrived by them, and the raisers' ratings.

Beside ``feedback.view`` (fed by the same delivery): ``intake_links`` answers whether a
signed link is live and whose it is; ``intake_suggestions`` finds a suggestion by its
follow-up code's blind index and counts what a link took lately (the per-link rate limit);
``intake_ratings`` keeps every rating (a reopened suggestion may be rated again). Clear texts
(comments, the reason a suggestion was set aside) are unsealed here for the follow-up page and
and the name and phone a worker gave (for those who handle the suggestion) read as null once
the suggestion's key is destroyed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventspine.crypto import PersonalDataVault
from eventspine.envelope import format_time
from eventspine.projection import Delivered, Tx, as_text
from feedback.events import (
    IntakeLinkIssued,
    IntakeLinkRevoked,
    SuggestionRated,
    SuggestionReceived,
    SuggestionSetAside,
)
from feedback.intake import LinkInfo

TABLES = (
    "intake_links (link_id TEXT PRIMARY KEY, owner TEXT NOT NULL, owner_id TEXT NOT NULL, "
    "unit_id TEXT NOT NULL, holder_id TEXT NOT NULL, issued_at TEXT NOT NULL, revoked_at TEXT)",
    "intake_suggestions (suggestion_id TEXT PRIMARY KEY, link_id TEXT NOT NULL, "
    "unit_id TEXT NOT NULL, follow_up_index TEXT NOT NULL, verification TEXT NOT NULL, "
    "worker_id TEXT, received_at TEXT NOT NULL, mark TEXT, mark_reason TEXT, duplicate_of TEXT, "
    "contact_name TEXT, contact_phone TEXT)",
    "intake_ratings (suggestion_id TEXT NOT NULL, stream_version INTEGER NOT NULL, "
    "rating TEXT NOT NULL, comment TEXT, reopened INTEGER NOT NULL, rated_at TEXT NOT NULL, "
    "PRIMARY KEY (suggestion_id, stream_version))",
)


def owner_id(event: IntakeLinkIssued) -> UUID:
    """Whose link it is: the representative's member id, or the enterprise union's unit id."""
    return event.holder_id if event.owner == "representative" else event.unit_id


class IntakeProjection:
    """Projection of the intake events into ``<prefix>intake_*``."""

    name = "feedback.intake"
    services = ("feedback",)

    def __init__(self, vault: PersonalDataVault, prefix: str = "") -> None:
        self.vault = vault
        self.p = prefix

    async def setup(self, tx: Tx) -> None:
        """Create the tables."""
        index = self.p.replace(".", "_")
        for table in TABLES:
            await tx.execute(f"CREATE TABLE IF NOT EXISTS {self.p}{table}")
        await tx.execute(
            f"CREATE INDEX IF NOT EXISTS {index}intake_suggestions_code "
            f"ON {self.p}intake_suggestions (follow_up_index)"
        )
        await tx.execute(
            f"CREATE INDEX IF NOT EXISTS {index}intake_suggestions_link "
            f"ON {self.p}intake_suggestions (link_id, received_at)"
        )

    async def reset(self, tx: Tx) -> None:
        """Empty the tables."""
        for table in TABLES:
            await tx.execute(f"DELETE FROM {self.p}{table.split(' ', 1)[0]}")

    async def _clear(self, suggestion_id: UUID, sealed: str | None, field: str) -> str | None:
        if sealed is None:
            return None
        data = await self.vault.unseal(suggestion_id, sealed)
        return None if data is None else data.get(field)

    async def apply(self, tx: Tx, delivered: Delivered) -> None:
        """Apply one feedback event; the others are not about intake."""
        at = format_time(delivered.time)
        p = self.p
        match delivered.event:
            case IntakeLinkIssued() as e:
                await tx.execute(
                    f"INSERT INTO {p}intake_links VALUES ($1, $2, $3, $4, $5, $6, NULL) "
                    "ON CONFLICT (link_id) DO NOTHING",
                    str(e.link_id),
                    e.owner,
                    str(owner_id(e)),
                    str(e.unit_id),
                    str(e.holder_id),
                    at,
                )
            case IntakeLinkRevoked() as e:
                await tx.execute(
                    f"UPDATE {p}intake_links SET revoked_at = coalesce(revoked_at, $2) "
                    "WHERE link_id = $1",
                    str(e.link_id),
                    at,
                )
            case SuggestionReceived() as e:
                contact = (
                    await self.vault.unseal(e.suggestion_id, e.contact) if e.contact else None
                ) or {}
                await tx.execute(
                    f"INSERT INTO {p}intake_suggestions VALUES ($1, $2, $3, $4, $5, $6, $7, "
                    "NULL, NULL, NULL, $8, $9) ON CONFLICT (suggestion_id) DO NOTHING",
                    str(e.suggestion_id),
                    str(e.link_id),
                    str(e.unit_id),
                    e.follow_up_index,
                    e.verification,
                    as_text(e.worker_id),
                    at,
                    contact.get("name"),
                    contact.get("phone"),
                )
            case SuggestionRated() as e:
                await tx.execute(
                    f"INSERT INTO {p}intake_ratings VALUES ($1, $2, $3, $4, $5, $6) "
                    "ON CONFLICT (suggestion_id, stream_version) DO NOTHING",
                    str(e.suggestion_id),
                    delivered.stream_version,
                    e.rating,
                    await self._clear(e.suggestion_id, e.comment, "comment"),
                    1 if e.reopened else 0,
                    at,
                )
            case SuggestionSetAside() as e:
                await tx.execute(
                    f"UPDATE {p}intake_suggestions SET mark = $2, mark_reason = $3, "
                    "duplicate_of = $4 WHERE suggestion_id = $1",
                    str(e.suggestion_id),
                    e.mark,
                    await self._clear(e.suggestion_id, e.reason, "reason"),
                    as_text(e.duplicate_of),
                )

    async def wipe(self, tx: Tx, suggestion_id: UUID) -> None:
        """Drop a shredded suggestion's texts."""
        sid = str(suggestion_id)
        await tx.execute(
            f"UPDATE {self.p}intake_ratings SET comment = NULL WHERE suggestion_id = $1", sid
        )
        await tx.execute(
            f"UPDATE {self.p}intake_suggestions SET mark_reason = NULL, contact_name = NULL, "
            "contact_phone = NULL WHERE suggestion_id = $1",
            sid,
        )


class IntakeQueries:
    """Read-only questions about links, codes and ratings."""

    def __init__(self, reader: Tx, prefix: str = "") -> None:
        self.reader = reader
        self.p = prefix

    async def link(self, link_id: UUID) -> LinkInfo | None:
        """A link, or None if none was issued with this id."""
        row = await self.reader.fetchrow(
            f"SELECT link_id, owner, owner_id, unit_id, holder_id, revoked_at "
            f"FROM {self.p}intake_links WHERE link_id = $1",
            str(link_id),
        )
        if row is None:
            return None
        return LinkInfo(
            UUID(row[0]), row[1], UUID(row[2]), UUID(row[3]), UUID(row[4]), row[5] is not None
        )

    async def live_link(self, owner_id: UUID) -> LinkInfo | None:
        """The owner's live link (a representative's member id or a union's unit id)."""
        row = await self.reader.fetchval(
            f"SELECT link_id FROM {self.p}intake_links WHERE owner_id = $1 AND revoked_at IS NULL "
            "ORDER BY issued_at DESC LIMIT 1",
            str(owner_id),
        )
        return None if row is None else await self.link(UUID(row))

    async def by_code(self, follow_up_index: str) -> UUID | None:
        """The suggestion a follow-up code's blind index belongs to."""
        found = await self.reader.fetchval(
            f"SELECT suggestion_id FROM {self.p}intake_suggestions WHERE follow_up_index = $1",
            follow_up_index,
        )
        return UUID(found) if found else None

    async def received_since(self, link_id: UUID, since: datetime) -> int:
        """How many suggestions arrived by a link since ``since``."""
        count = await self.reader.fetchval(
            f"SELECT count(*) FROM {self.p}intake_suggestions WHERE link_id = $1 "
            "AND received_at >= $2",
            str(link_id),
            format_time(since),
        )
        return int(count)

    async def same_text_since(self, link_id: UUID, text: str, since: datetime) -> bool:
        """Whether the same text arrived by a link since ``since`` (a double submission or a
        flood of copies)."""
        found = await self.reader.fetchval(
            f"SELECT count(*) FROM {self.p}intake_suggestions i JOIN {self.p}view_suggestions v "
            "ON v.suggestion_id = i.suggestion_id WHERE i.link_id = $1 AND i.received_at >= $2 "
            "AND v.text = $3",
            str(link_id),
            format_time(since),
            text,
        )
        return int(found) > 0

    async def intake(self, suggestion_id: UUID) -> dict[str, Any] | None:
        """How a suggestion arrived by a link and whether it was set aside (None: not by one)."""
        row = await self.reader.fetchrow(
            f"SELECT verification, mark, mark_reason, duplicate_of, unit_id, contact_name, "
            f"contact_phone FROM {self.p}intake_suggestions WHERE suggestion_id = $1",
            str(suggestion_id),
        )
        if row is None:
            return None
        names = (
            "verification",
            "mark",
            "mark_reason",
            "duplicate_of",
            "unit_id",
            "contact_name",
            "contact_phone",
        )
        return dict(zip(names, row, strict=True))

    async def ratings(self, suggestion_id: UUID) -> list[dict[str, Any]]:
        """Every rating of a suggestion, oldest first."""
        rows = await self.reader.fetch(
            f"SELECT rating, comment, reopened, rated_at FROM {self.p}intake_ratings "
            "WHERE suggestion_id = $1 ORDER BY stream_version",
            str(suggestion_id),
        )
        return [
            {"rating": r[0], "comment": r[1], "reopened": bool(r[2]), "rated_at": r[3]}
            for r in rows
        ]
