"""``sanlian-access``: the first admin, from the command line.

    sanlian-access create-admin --username admin          # asks for the password
    sanlian-access create-admin --username admin --password-stdin < secret
    sanlian-access ensure-admin                           # make run: only if none exists

Both read the same ``SANLIAN_*`` settings as the services (``SANLIAN_STORE_BACKEND``,
``SANLIAN_PG_DSN``, ``SANLIAN_SQLITE_DIR``...). Exit 0 done, 1 refused, 2 bad input.
"""

from __future__ import annotations

import asyncio
import secrets
import sys
from typing import Annotated

import typer

from access.accounts import USERNAME, AccountStore, UsernameTakenError, open_accounts
from access.passwords import hash_password, password_problem
from eventspine.config import Settings
from eventspine.store.base import utc_now

app = typer.Typer(help="Sanlian accounts: bootstrap the first federation admin.")
ACTOR = "cli:sanlian-access"


async def _create(settings: Settings, username: str, password: str) -> None:
    store, close = await open_accounts(settings)
    try:
        await _add_admin(store, username, password)
    finally:
        await close()


async def _add_admin(store: AccountStore, username: str, password: str) -> None:
    await store.create(
        username=username,
        password_hash=hash_password(password),
        role="admin",
        member_id=None,
        scopes=(),
        now=utc_now(),
        created_by=ACTOR,
    )


@app.command("create-admin")
def create_admin(
    username: Annotated[str, typer.Option(help="the admin's username")] = "admin",
    password_stdin: Annotated[
        bool, typer.Option(help="read the password from standard input instead of asking")
    ] = False,
) -> None:
    """Add a federation admin account (for the first one, or another one)."""
    import re

    if not re.fullmatch(USERNAME, username):
        typer.echo("--username: 3 to 64 letters, digits, and . _ @ -", err=True)
        raise typer.Exit(2)
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    if why := password_problem(password, username):
        typer.echo(f"password: {why}", err=True)
        raise typer.Exit(2)
    try:
        asyncio.run(_create(Settings(), username, password))
    except UsernameTakenError:
        typer.echo(f"username: {username!r} is already taken", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"admin account {username!r} created")


async def _ensure(settings: Settings, username: str) -> str | None:
    store, close = await open_accounts(settings)
    try:
        if await store.count_admins() > 0:
            return None
        password = secrets.token_urlsafe(12)
        await _add_admin(store, username, password)
        return password
    finally:
        await close()


@app.command("ensure-admin")
def ensure_admin(
    username: Annotated[str, typer.Option(help="username of the admin to create")] = "admin",
) -> None:
    """Create an admin with a generated password if there is no admin yet, and print the
    credentials once; otherwise do nothing."""
    try:
        password = asyncio.run(_ensure(Settings(), username))
    except UsernameTakenError:
        typer.echo(f"username: {username!r} is taken by an account that is not an admin", err=True)
        raise typer.Exit(1) from None
    if password is None:
        typer.echo("an admin account exists already; sign in with it")
        return
    typer.echo(
        f"First admin created. Sign in as '{username}' with password: {password}\n"
        "(shown once; change it after signing in: the 密码 (Password) link at the top of the "
        "page, or POST /roster/accounts/{id}/password with current_password)"
    )


def main() -> None:
    """Entry point of ``sanlian-access``."""
    app()
