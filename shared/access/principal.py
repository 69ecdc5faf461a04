"""Who is asking: the account behind a request, its role and what it may reach."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, get_args
from uuid import UUID

Role = Literal["admin", "member", "auditor", "system"]
"""``admin``: federation staff (roster, policy, departments, accounts). ``member``: a leader,
committee member or representative acting on their own links and the suggestions they hold,
seeing their own part of the tree. ``auditor``: reads everything, commands nothing.
``system``: another city system, read-only, limited to the scopes of its token."""

ROLES: tuple[Role, ...] = get_args(Role)

SERVICES = ("roster", "contacts", "feedback", "reports", "notify", "audit")
SCOPES = tuple(f"{service}:read" for service in SERVICES)
"""What a ``system`` token may read: one scope per service."""


@dataclass(frozen=True)
class Principal:
    """The signed-in account making a request."""

    account_id: UUID
    role: Role
    member_id: UUID | None = None
    scopes: frozenset[str] = field(default_factory=frozenset)

    @property
    def actor(self) -> str:
        """What events record as their actor: the account, and for members the member too."""
        if self.member_id is not None:
            return f"account:{self.account_id}/member:{self.member_id}"
        return f"account:{self.account_id}"

    def may_read(self, service: str) -> bool:
        """Whether this principal may read ``service``'s data at all (before any scoping)."""
        if self.role == "system":
            return f"{service}:read" in self.scopes
        return True
