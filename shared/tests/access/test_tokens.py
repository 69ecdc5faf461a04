"""Access tokens: signed, expiring, refused when altered; secrets refused outside development."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from pydantic import ValidationError

from access.principal import Principal
from access.tokens import InvalidTokenError, TokenService
from eventspine.config import Settings

NOW = datetime(2026, 6, 30, 9, 0, tzinfo=UTC)
SECRET = "a-test-secret-that-is-long-enough-0123456789"


def test_a_token_names_its_principal_until_it_expires() -> None:
    tokens = TokenService(SECRET)
    member = Principal(uuid.uuid4(), "member", uuid.uuid4())
    issued = tokens.issue(member, NOW, timedelta(hours=1))
    assert tokens.verify(issued, NOW + timedelta(minutes=59)) == member
    with pytest.raises(InvalidTokenError, match="expired"):
        tokens.verify(issued, NOW + timedelta(hours=1))


def test_a_token_checked_before_is_checked_again_on_every_use() -> None:
    # Its signature is checked once per process; its expiry and what it names, every time.
    tokens = TokenService(SECRET)
    staff = Principal(uuid.uuid4(), "admin")
    issued = tokens.issue(staff, NOW, timedelta(minutes=5))
    for minute in range(5):
        assert tokens.verify(issued, NOW + timedelta(minutes=minute)) == staff
    with pytest.raises(InvalidTokenError, match="expired"):
        tokens.verify(issued, NOW + timedelta(minutes=5))
    assert tokens.verify(issued, NOW) == staff  # the injected clock, not the first refusal
    altered = issued[:-2] + ("AA" if not issued.endswith("AA") else "BB")
    for _ in range(2):
        with pytest.raises(InvalidTokenError, match="not valid"):
            tokens.verify(altered, NOW)
    with pytest.raises(InvalidTokenError, match="not valid"):
        TokenService("another-secret-that-is-long-enough-0123456").verify(issued, NOW)


def test_an_altered_or_foreign_token_is_refused_without_echoing_it() -> None:
    tokens = TokenService(SECRET)
    issued = tokens.issue(Principal(uuid.uuid4(), "auditor"), NOW, timedelta(hours=1))
    claims = jwt.decode(issued, options={"verify_signature": False})
    unsigned = jwt.encode({**claims, "role": "admin"}, key="", algorithm="none")
    foreign = TokenService("another-secret-that-is-long-enough-0123456").issue(
        Principal(uuid.uuid4(), "admin"), NOW, timedelta(hours=1)
    )
    resigned = jwt.encode(
        {**claims, "role": "admin"}, "guessed-secret-guessed-secret-guessed-0123", algorithm="HS256"
    )
    for bad in (unsigned, foreign, resigned, issued[:-2], "", "a.b.c"):
        with pytest.raises(InvalidTokenError) as refused:
            tokens.verify(bad, NOW)
        assert not bad or bad not in str(refused.value)


def test_a_member_token_must_name_the_member() -> None:
    tokens = TokenService(SECRET)
    claims = {
        "iss": "sanlian",
        "aud": "sanlian",
        "sub": str(uuid.uuid4()),
        "role": "member",
        "iat": int(NOW.timestamp()),
        "exp": int((NOW + timedelta(hours=1)).timestamp()),
    }
    with pytest.raises(InvalidTokenError, match="name the member"):
        tokens.verify(jwt.encode(claims, SECRET, algorithm="HS256"), NOW)
    with pytest.raises(InvalidTokenError, match="role"):
        tokens.verify(jwt.encode({**claims, "role": "root"}, SECRET, algorithm="HS256"), NOW)


def test_the_development_signing_secret_is_refused_outside_development() -> None:
    with pytest.raises(ValidationError, match="SANLIAN_AUTH_SECRET"):
        Settings(
            environment="production",
            pg_dsn="postgresql://app:strong@db/sanlian",
            index_secret="a-real-index-secret-0123456789",
        )
    Settings(
        environment="production",
        pg_dsn="postgresql://app:strong@db/sanlian",
        index_secret="a-real-index-secret-0123456789",
        auth_secret=SECRET,
    )
    with pytest.raises(ValidationError, match="auth_secret"):
        Settings(auth_secret="short")
