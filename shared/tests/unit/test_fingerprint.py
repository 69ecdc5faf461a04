"""A request's fingerprint is keyed: it tells requests apart without revealing what they said."""

from __future__ import annotations

import hashlib
import uuid

from pydantic import BaseModel

from eventspine.store.base import CommandContext
from servicekit.commands import fingerprint


class RegisterMember(BaseModel):
    name: str
    phone: str


CTX = CommandContext(actor="staff:test", command_id=uuid.uuid4())
ARGUMENTS = {"unit_id": uuid.UUID(int=1)}


def test_the_same_request_under_the_same_key_has_the_same_fingerprint() -> None:
    one = fingerprint(RegisterMember(name="吴芳洋", phone="13800000000"), CTX, ARGUMENTS, b"k1")
    two = fingerprint(RegisterMember(name="吴芳洋", phone="13800000000"), CTX, ARGUMENTS, b"k1")
    assert one == two


def test_another_body_or_another_installation_key_gives_another_fingerprint() -> None:
    base = fingerprint(RegisterMember(name="吴芳洋", phone="13800000000"), CTX, ARGUMENTS, b"k1")
    other_body = RegisterMember(name="吴芳洋", phone="13800000001")
    assert fingerprint(other_body, CTX, ARGUMENTS, b"k1") != base
    assert fingerprint(other_body, CTX, ARGUMENTS, b"k2") != base
    assert (
        fingerprint(RegisterMember(name="吴芳洋", phone="13800000000"), CTX, ARGUMENTS, b"k2")
        != base
    )


def test_a_guess_hashed_without_the_key_does_not_match() -> None:
    body = RegisterMember(name="吴芳洋", phone="13800000000")
    keyed = fingerprint(body, CTX, ARGUMENTS, b"installation secret")
    unkeyed = fingerprint(body, CTX, ARGUMENTS)
    assert keyed != unkeyed
    assert len(keyed) == len(hashlib.sha256().hexdigest())
