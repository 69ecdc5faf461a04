"""The README's operator commands, run exactly as it writes them.

The move from ``make run`` to the full topology and the first admin's commands are taken
from README.md's code blocks and run line by line in a shell, in a folder holding an embedded
installation in ``var/`` (and ``.venv``), with the test's PostgreSQL and Kafka named by
``SANLIAN_PG_DSN`` and the other addresses only, as an operator's shell would: no
``SANLIAN_STORE_BACKEND``. Staff then sign in on the full topology.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from access.accounts import AccountsPlace, postgres_address
from access.passwords import hash_password
from eventspine.config import Settings
from roster.main import create_app as create_roster_app
from servicekit.migrate import MigrationError, move_accounts
from support.pg import topology_settings
from web.demo import generate

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[3]
README = ROOT / "README.md"
STAFF_PASSWORD = "staff-one-password"
CHAIR_PASSWORD = "Sanlian-15510-secret"


def clock() -> datetime:
    return datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def readme_block(after: str) -> list[str]:
    """The command lines of the first code block after ``after`` in README.md (comments and
    blank lines left out; each line exactly as written, its trailing comment included)."""
    text = README.read_text("utf-8")
    start = text.index(after)
    lines = text[start:].splitlines()
    opening = next(i for i, line in enumerate(lines) if line.strip().startswith("```"))
    closing = next(i for i in range(opening + 1, len(lines)) if lines[i].strip() == "```")
    block = [line.strip() for line in lines[opening + 1 : closing]]
    return [line for line in block if line and not line.startswith("#")]


@pytest.fixture
async def target(pg_dsn: str, kafka_bootstrap: str) -> AsyncIterator[Settings]:
    async with topology_settings(pg_dsn, kafka_bootstrap, "o") as settings:
        yield settings


@pytest.fixture
async def operator_dir(tmp_path: Path) -> Path:
    """An embedded installation in ``var/`` with one admin account, and ``.venv`` beside it,
    as in a checkout after ``make run``."""
    folder = tmp_path / "checkout"
    folder.mkdir()
    (folder / ".venv").symlink_to(Path(sys.executable).parent.parent, target_is_directory=True)
    embedded = Settings(store_backend="sqlite", sqlite_dir=str(folder / "var"))
    await generate(embedded, seed=11, scale=0.02, clock=clock)
    accounts, close = await AccountsPlace.of(embedded).open()
    try:
        await accounts.create(
            username="staff.one",
            password_hash=hash_password(STAFF_PASSWORD),
            role="admin",
            member_id=None,
            scopes=(),
            now=clock(),
            created_by="test",
        )
    finally:
        await close()
    return folder


def _shell(line: str, cwd: Path, target: Settings, stdin: str) -> subprocess.CompletedProcess[str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("SANLIAN_")}
    env.update(
        SANLIAN_PG_DSN=target.pg_dsn,
        SANLIAN_PG_SCHEMA_PREFIX=target.pg_schema_prefix,
        SANLIAN_KAFKA_BOOTSTRAP=target.kafka_bootstrap,
        SANLIAN_TOPIC_PREFIX=target.topic_prefix,
    )
    # A session of its own: no terminal, so a password prompt reads standard input.
    return subprocess.run(
        ["bash", "-c", line],
        cwd=cwd,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        start_new_session=True,
    )


async def run(line: str, cwd: Path, target: Settings, stdin: str = "") -> str:
    done = await asyncio.to_thread(_shell, line, cwd, target, stdin)
    assert done.returncode == 0, (line, done.stdout, done.stderr)
    password = urlsplit(target.pg_dsn).password
    assert not password or f":{password}@" not in done.stdout + done.stderr
    return done.stdout


async def signs_in(settings: Settings, username: str, password: str) -> int:
    app = create_roster_app(settings, clock)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://roster") as http:
            answer = await http.post(
                "/auth/token", data={"username": username, "password": password}
            )
            return answer.status_code


async def test_the_readme_moves_an_installation_and_makes_the_first_admin(
    operator_dir: Path, target: Settings
) -> None:
    where = postgres_address(target.pg_dsn)
    roster_schema = target.store_schema("roster")

    move = readme_block("### Moving from `make run` to the full topology")
    assert move[-1].startswith("make stack")  # started by hand; the stack's own test runs it
    assert any("sanlian-spine migrate" in line for line in move)
    for line in move[:-1]:
        out = await run(line, operator_dir, target)
        if "migrate" in line:
            assert f"to PostgreSQL {where}, schemas {roster_schema}" in out, out
    # The accounts moved with the events: staff sign in on the full topology.
    assert await signs_in(target, "staff.one", STAFF_PASSWORD) == 200

    first_admin = readme_block("**The first admin.**")
    assert len(first_admin) == 2, first_admin
    stack_line, embedded_line = first_admin
    twice = f"{CHAIR_PASSWORD}\n{CHAIR_PASSWORD}\n"  # the prompt asks twice
    out = await run(stack_line, operator_dir, target, twice)
    assert f"created in PostgreSQL {where}, schema {roster_schema}" in out, out
    assert await signs_in(target, "chair", CHAIR_PASSWORD) == 200

    # Without settings, sanlian-access writes to the embedded default, and says so.
    out = await run(embedded_line, operator_dir, target, twice)
    assert "created in SQLite var/accounts.sqlite" in out, out
    embedded = Settings(store_backend="sqlite", sqlite_dir=str(operator_dir / "var"))
    assert await signs_in(embedded, "chair", CHAIR_PASSWORD) == 200


async def test_accounts_are_not_moved_onto_themselves(tmp_path: Path) -> None:
    embedded = Settings(store_backend="sqlite", sqlite_dir=str(tmp_path))
    _, close = await AccountsPlace.of(embedded).open()  # the source's file, made
    await close()
    with pytest.raises(MigrationError, match="target is their source"):
        await move_accounts(AccountsPlace.of(embedded), tmp_path)
