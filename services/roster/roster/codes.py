"""The ids that codes give: a unit's code and a member's external number within it.

An import file refers to units by code and to members by unit code and external number; the
same code always gives the same id, so a file imported twice changes nothing, and a unit
registered on a page with a code can be named in a file.
"""

from __future__ import annotations

import uuid
from uuid import UUID

NAMESPACE = UUID("5a7c0d1e-3b4f-4e6a-9c8d-2f1e0b3a4c5d")
"""Namespace of the ids derived from codes and external numbers (never change it)."""


def unit_id(code: str) -> UUID:
    """The id of the union organisation known by ``code``."""
    return uuid.uuid5(NAMESPACE, "unit:" + code)


def member_id(unit_code: str, external_number: str) -> UUID:
    """The id of the member with ``external_number`` (compared without regard to case) in the
    union organisation known by ``unit_code``."""
    return uuid.uuid5(NAMESPACE, f"member:{unit_code}:{external_number.casefold()}")
