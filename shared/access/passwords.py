"""Password hashing (Argon2id) and login throttling."""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_HASHER = PasswordHasher()

MIN_LENGTH = 10
MAX_LENGTH = 200


@cache
def _dummy() -> str:
    # Verified when the username is unknown, so a wrong username costs what a wrong password does.
    return _HASHER.hash("sanlian-no-such-account")


def hash_password(password: str) -> str:
    """An Argon2id hash of ``password`` (salted; parameters from argon2-cffi's defaults)."""
    return _HASHER.hash(password)


def check_password(stored_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches; constant work whether or not the account exists."""
    try:
        return _HASHER.verify(stored_hash or _dummy(), password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def password_problem(password: str, username: str) -> str | None:
    """Why a new password is refused, or ``None``."""
    if len(password) < MIN_LENGTH:
        return f"must be at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"must be at most {MAX_LENGTH} characters"
    if password.casefold() == username.casefold():
        return "must differ from the username"
    return None
