"""How the tests' HTTP clients say who acts: the one place to change when sign-in changes."""

from __future__ import annotations

STAFF = "staff:faults"
"""The staff identity the tests act as when no member acts."""


def acting_as(actor: str = STAFF) -> dict[str, str]:
    """Request headers naming ``actor`` (``staff:<name>`` or ``member:<uuid>``)."""
    return {"X-Actor": actor}


def member(member_id: str) -> dict[str, str]:
    """Request headers of a member acting for themself."""
    return acting_as(f"member:{member_id}")
