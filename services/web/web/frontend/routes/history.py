"""History for auditors: every event about a member, a link or a suggestion, in time order."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from web.frontend.actors import actor_member
from web.frontend.deps import ApiDep, StaffDep
from web.frontend.errors import describe
from web.frontend.rendering import render
from web.frontend.routes.common import members_by_id
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
            people = await members_by_id(api, (actor_member(e.get("actor")) for e in events))
    kind, ident = next(iter(chosen.items()), ("member", ""))
    context = {
        "events": events,
        "kind": kind,
        "ident": ident,
        "problem": problem,
        "people": people,
        "subjects": SUBJECTS,
    }
    return render(request, "history.html", context)
