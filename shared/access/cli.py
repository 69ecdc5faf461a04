"""``sanlian-access``: the first admin, from the command line.

    sanlian-access create-admin --username admin          # asks for the password
    sanlian-access create-admin --username admin --password-stdin < secret
    sanlian-access ensure-admin                           # make run: only if none exists

Both read the same ``SANLIAN_*`` settings as the services (``SANLIAN_STORE_BACKEND``,
``SANLIAN_PG_DSN``, ``SANLIAN_SQLITE_DIR``...), and say where they wrote: with no settings,
that is the embedded default's ``var/accounts.sqlite``, which the full topology never reads
(``sanlian-stack create-admin`` uses its settings). Exit 0 done, 1 refused, 2 bad input.
"""

from __future__ import annotations

import asyncio
import secrets
import sys
from typing import Annotated

import typer

from access.accounts import USERNAME, AccountsPlace, AccountStore, UsernameTakenError
from access.passwords import hash_password, password_problem
from eventspine.config import Settings
from eventspine.store.base import utc_now

app = typer.Typer(help="Sanlian accounts: bootstrap the first federation admin.")
ACTOR = "cli:sanlian-access"


def _where(place: AccountsPlace) -> str:
    if place.backend == "postgres":
        return str(place)
    return (
        f"{place} (the embedded default, as make run reads it; the full topology reads "
        "PostgreSQL: sanlian-stack create-admin, or SANLIAN_STORE_BACKEND=postgres)"
    )


async def _create(place: AccountsPlace, username: str, password: str) -> None:
    store, close = await place.open()
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
    place = AccountsPlace.of(Settings())
    try:
        asyncio.run(_create(place, username, password))
    except UsernameTakenError:
        typer.echo(f"username: {username!r} is already taken in {place}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"admin account {username!r} created in {_where(place)}")


async def _ensure(place: AccountsPlace, username: str) -> str | None:
    store, close = await place.open()
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
    place = AccountsPlace.of(Settings())
    try:
        password = asyncio.run(_ensure(place, username))
    except UsernameTakenError:
        typer.echo(
            f"username: {username!r} is taken by an account that is not an admin in {place}",
            err=True,
        )
        raise typer.Exit(1) from None
    if password is None:
        typer.echo(f"an admin account exists already in {place}; sign in with it")
        return
    typer.echo(
        f"First admin created in {place}. Sign in as '{username}' with password: {password}\n"
        "(shown once; change it after signing in: the 密码 (Password) link at the top of the "
        "page, or POST /roster/accounts/{id}/password with current_password)"
    )


def main() -> None:
    """Entry point of ``sanlian-access``."""
    app()
