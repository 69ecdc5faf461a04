"""Read-only HTTP endpoints of the audit: verify and history (``ROUTER``, to be mounted).

Both only read (stores with ``SELECT``, topics without a consumer group). Override
:func:`get_settings` with ``app.dependency_overrides`` to point them elsewhere.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query

from audit import timeline
from audit.crosscheck import verify as run_verify
from audit.loading import Source, load
from audit.sources import AuditInputError
from eventspine.config import Settings
from eventspine.errors import DomainError
from eventspine.schemas import installed_registry

ROUTER = APIRouter(prefix="/audit", tags=["audit"])


def get_settings() -> Settings:
    """The settings the endpoints read with (``SANLIAN_*``)."""
    return Settings()


SettingsDep = Annotated[Settings, Depends(get_settings)]


@ROUTER.get("/verify", summary="Verify the history (versions, hash chains, schemas, topics)")
async def verify(
    settings: SettingsDep,
    source: Literal["stores", "topics", "both"] = "stores",
) -> dict[str, Any]:
    """The verification report; ``ok`` is false when anything was found."""
    sources = [Source.stores, Source.topics] if source == "both" else [Source(source)]
    try:
        histories = [await load(one, settings) for one in sources]
    except AuditInputError as exc:
        raise DomainError("source", str(exc), code="audit_input", location="query") from exc
    return run_verify(histories, installed_registry()).as_dict()


@ROUTER.get("/history", summary="The timeline of one member, link or suggestion")
async def history(
    settings: SettingsDep,
    member: Annotated[str | None, Query()] = None,
    suggestion: Annotated[str | None, Query()] = None,
    link: Annotated[str | None, Query()] = None,
    source: Literal["stores", "topics"] = "stores",
) -> list[dict[str, Any]]:
    """Every event about the subject, in time order, with actor and time."""
    chosen = [
        (k, v) for k, v in (("member", member), ("suggestion", suggestion), ("link", link)) if v
    ]
    if len(chosen) != 1:
        raise DomainError(
            "member",
            "give exactly one of member, suggestion, link",
            code="one_subject_required",
            location="query",
        )
    kind, ident = chosen[0]
    try:
        events = (await load(Source(source), settings)).all_events()
    except AuditInputError as exc:
        raise DomainError("source", str(exc), code="audit_input", location="query") from exc
    pick = {"member": timeline.about_member, "suggestion": timeline.about_suggestion}
    found = pick.get(kind, timeline.about_link)(events, ident)
    return [{**e.cloudevent_attributes(), "data": e.data} for e in found]
