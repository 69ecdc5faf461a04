"""Names in what people read, without names in the events.

A notification's sealed body holds its text with *marks* where people are named
(``⟦m|<member id>|<words without a name>|<words after the name>⟧``, and for a digest's list
``⟦l|<id>,<id>,…⟧``) and the ids it names (``named``). When the text is read (the
notifications page, the calendar) or sent (an email, a group robot's message), notify asks the
roster for those members' display names (:class:`RosterNames`: a small read with the
service's own system token) and fills the marks in. So a name is only ever in the roster's
store, sealed under its member's key, and forgetting a member removes their name from every
message read or sent afterwards: a forgotten member reads as :data:`FORGOTTEN`.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from uuid import UUID

import httpx

from access.principal import Principal
from access.tokens import TokenService

FORGOTTEN = "一名成员（个人信息已删除）"
"""How a forgotten member reads where their name was."""
LISTED = 5
"""A digest's list names this many people, then "…"."""
SERVICE_ACCOUNT = uuid.uuid5(uuid.NAMESPACE_URL, "sanlian:service:notify")
"""The account notify's own system tokens name (no one signs in as it)."""
MARK = re.compile(r"⟦(m|l)\|([0-9a-f,\-]*)(?:\|([^|⟧]*))?(?:\|([^|⟧]*))?⟧")

Names = dict[UUID, str | None]
"""Display names by member: None for a forgotten member; a member missing from the mapping
is not known (the roster did not answer), and reads as the words without a name."""


def person(member_id: UUID, without: str, after: str = "") -> str:
    """The mark of one person: their name then ``after``, or ``without`` while no name is
    known."""
    return f"⟦m|{member_id}|{without}|{after}⟧"


def listing(member_ids: Iterable[UUID]) -> str:
    """The mark of a digest's list: "：吴芳洋、罗磊…" (the first :data:`LISTED`), or nothing
    while no name is known."""
    return "⟦l|" + ",".join(str(m) for m in member_ids) + "⟧"


def named(body: dict[str, str | None]) -> list[UUID]:
    """The members a body names."""
    return [UUID(m) for m in (body.get("named") or "").split(",") if m]


def _name(member_id: UUID, names: Names) -> str | None:
    if member_id not in names:
        return None
    return names[member_id] or FORGOTTEN


def fill(text: str, allowed: set[UUID], names: Names) -> str:
    """``text`` with its marks filled in from ``names``; only the ``allowed`` ids (those the
    body says it names) are ever looked up."""

    def one(found: re.Match[str]) -> str:
        kind, ids = found.group(1), found.group(2)
        members = [UUID(m) for m in ids.split(",") if m]
        members = [m for m in members if m in allowed]
        if kind == "m":
            without, after = found.group(3) or "", found.group(4) or ""
            name = _name(members[0], names) if members else None
            if name is None:
                return without
            return name if name == FORGOTTEN else name + after
        shown = [n for n in (_name(m, names) for m in members) if n is not None]
        if not shown:
            return ""
        return "：" + "、".join(shown[:LISTED]) + ("…" if len(members) > LISTED else "")

    return MARK.sub(one, text)


def rendered(body: dict[str, str | None], names: Names) -> tuple[str, str]:
    """A body's title and text as a person reads them."""
    allowed = set(named(body))
    return (
        fill(body.get("title") or "", allowed, names),
        fill(body.get("text") or "", allowed, names),
    )


class NamesUnavailable(Exception):
    """The roster did not answer with names."""


class RosterNames:
    """Asks the roster for display names (``GET /members/names``) with a short-lived system
    token of notify's own, scoped to reading the roster. Without a roster to ask (no
    ``SANLIAN_NOTIFY_ROSTER_URL`` and none in-process) every name is unknown."""

    def __init__(
        self,
        base_url: str | None,
        transport: Callable[[], httpx.AsyncBaseTransport | None],
        tokens: TokenService,
        clock: Callable[[], datetime],
        timeout: float,
    ) -> None:
        self.base_url = base_url.rstrip("/") if base_url else None
        self.transport = transport
        self.tokens = tokens
        self.clock = clock
        self.timeout = timeout

    @property
    def configured(self) -> bool:
        """Whether there is a roster to ask."""
        return self.base_url is not None or self.transport() is not None

    def _token(self) -> str:
        principal = Principal(SERVICE_ACCOUNT, "system", None, frozenset({"roster:read"}))
        return self.tokens.issue(principal, self.clock(), timedelta(minutes=5))

    async def of(self, member_ids: Iterable[UUID]) -> Names:
        """The names of ``member_ids`` (a forgotten or unknown member: None); empty without a
        roster; :class:`NamesUnavailable` when the roster does not answer."""
        wanted = sorted({str(m) for m in member_ids})
        transport = self.transport()
        if not wanted or (self.base_url is None and transport is None):
            return {}
        found: Names = {}
        try:
            async with httpx.AsyncClient(
                transport=transport,
                base_url=self.base_url or "http://roster",
                timeout=self.timeout,
                headers={"Authorization": f"Bearer {self._token()}"},
            ) as client:
                for start in range(0, len(wanted), 200):
                    answer = await client.get(
                        "/members/names", params={"member_id": wanted[start : start + 200]}
                    )
                    if answer.status_code != 200:
                        raise NamesUnavailable(f"roster {answer.status_code}")
                    for row in answer.json():
                        found[UUID(row["member_id"])] = row.get("name")
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            raise NamesUnavailable(type(exc).__name__) from exc
        # A member the roster does not know (never registered there) reads as forgotten.
        for member in wanted:
            found.setdefault(UUID(member), None)
        return found

    async def of_or_unknown(self, member_ids: Iterable[UUID]) -> Names:
        """As :meth:`of`, but every name unknown when the roster does not answer (a page
        shows the words without names rather than nothing)."""
        try:
            return await self.of(member_ids)
        except NamesUnavailable:
            return {}
