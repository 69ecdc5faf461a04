"""Reading the actor events record: ``account:<id>``, for members ``account:<id>/member:<id>``
(earlier events, and the services' own jobs, record other forms, such as ``member:<id>``)."""

from __future__ import annotations


def actor_member(actor: str | None) -> str | None:
    """The member id an actor names, if it names one."""
    if not actor:
        return None
    for part in actor.split("/"):
        kind, sep, ident = part.partition(":")
        if sep and kind == "member" and ident:
            return ident
    return None


def actor_account(actor: str | None) -> str | None:
    """The account id an actor names, if it names one."""
    if not actor:
        return None
    kind, sep, ident = actor.split("/")[0].partition(":")
    return ident if sep and kind == "account" and ident else None
