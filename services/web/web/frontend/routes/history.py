"""History for auditors: every event about a member, a link or a suggestion, in time order."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from web.frontend import history_view
from web.frontend.actors import actor_account, actor_member
from web.frontend.deps import Api, ApiDep, StaffDep
from web.frontend.errors import describe
from web.frontend.rendering import language_of, render
from web.frontend.routes.common import members_by_id, unit_names
from web.frontend.services import ServiceError

router = APIRouter(prefix="/history", tags=["frontend"])
SUBJECTS = ("member", "link", "suggestion")


@router.get("")
async def history(
    request: Request,
    user: StaffDep,
    api: ApiDep,
    member: str | None = None,
    link: str | None = None,
    suggestion: str | None = None,
    kind: str | None = None,
    id: str | None = None,
) -> Response:
    """The event timeline of one subject (the auditors' ``/audit/history``)."""
    chosen = {
        k: v.strip()
        for k, v in (("member", member), ("link", link), ("suggestion", suggestion))
        if v and v.strip()
    }
    if kind in SUBJECTS and id and id.strip():  # the page's own form names kind and id
        chosen = {kind: id.strip()}
    events: list[dict[str, Any]] | None = None
    shown: list[dict[str, Any]] = []
    people: dict[str, dict[str, Any]] = {}
    problem = None
    if chosen:
        try:
            events = await api.get("audit", "/audit/history", **chosen)
        except ServiceError as error:
            if error.status == 401:
                raise
            problem = describe(error)
        else:
            shown = await readable(request, api, events)
    kind, ident = next(iter(chosen.items()), ("member", ""))
    context = {
        "events": events,
        "shown": shown,
        "kind": kind,
        "ident": ident,
        "problem": problem,
        "people": people,
        "subjects": SUBJECTS,
    }
    return render(request, "history.html", context)


async def usernames(api: Api) -> dict[str, str]:
    """Every account's username by id, for the admins who may list accounts (an auditor
    sees the actor's member name, or the account as recorded)."""
    found: dict[str, str] = {}
    offset = 0
    while True:
        try:
            page = await api.get("roster", "/accounts", limit=500, offset=offset)
        except ServiceError as error:
            if error.status == 403:
                return found
            raise
        found.update({a["account_id"]: a["username"] for a in page["data"]})
        offset += len(page["data"])
        if not page["data"] or offset >= page["count"]:
            return found


async def readable(
    request: Request, api: Api, events: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Each event as staff read it: its name, when (in the federation's zone), who acted by
    name, and its data as labelled fields with people and units by name."""
    lang = language_of(request)
    ids = [actor_member(e.get("actor")) for e in events]
    ids += [m for e in events for m in history_view.member_ids(e.get("data") or {})]
    people = await members_by_id(api, ids)
    units = await unit_names(api)
    accounts = await usernames(api)
    shown = []
    for event in events:
        actor = event.get("actor")
        shown.append(
            {
                "name": history_view.event_name(lang, event.get("type", "")),
                "type": event.get("type", ""),
                "time": event.get("time"),
                "actor": actor,
                "actor_name": history_view.actor_name(
                    lang, actor, people, accounts, actor_member(actor), actor_account(actor)
                ),
                "source": event.get("source"),
                "fields": history_view.fields(
                    lang, event.get("data") or {}, people, units, accounts
                ),
            }
        )
    return shown
