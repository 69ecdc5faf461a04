"""A member's own 履职 page: their performance record in a period (the reports service's
``/performance``), and the records of the members they keep in contact with."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from compliance.rule import ContactRule
from web.frontend.deps import ApiDep, MemberDep, federation_clock
from web.frontend.labels import METHOD_LABELS
from web.frontend.owing import rule
from web.frontend.rendering import render
from web.frontend.routes.common import members_by_id

router = APIRouter(prefix="/performance", tags=["frontend"])
RECORDED_TIERS = ("representative", "committee")
"""The tiers the reports keep a performance record of."""


def periods(contact_rule: ContactRule, today: date, count: int = 4) -> list[str]:
    """The periods a member may choose: today's and the ones before it, newest first."""
    labels: list[str] = []
    day = today
    for _ in range(count):
        period = contact_rule.period_of(day)
        labels.append(period.label)
        day = period.start - timedelta(days=1)
    return labels


@router.get("")
async def performance(
    request: Request, user: MemberDep, api: ApiDep, period: str | None = None
) -> Response:
    """The signed-in member's 履职: contacts by method, suggestions raised, relayed and
    answered, and how long answers took; below it, those of the members they keep in contact
    with (the reports answer a member's own part of the tree)."""
    choices = periods(rule(), federation_clock(request).today())
    chosen = period if period in choices else choices[0]
    me = await api.get("roster", f"/members/{user.member_id}")
    records: list[dict[str, Any]] = []
    if me["tier"] in RECORDED_TIERS or me["tier"] == "leader":
        records = await api.get("reports", "/performance", period=chosen)
    own = next((r for r in records if r["member_id"] == user.member_id), None)
    lower = await api.get("roster", f"/members/{user.member_id}/lower-members", limit=500)
    below_ids = {m["member_id"] for m in lower["data"]}
    below = [r for r in records if r["member_id"] in below_ids]
    context = {
        "me": me,
        "own": own,
        "below": below,
        "people": await members_by_id(api, [r["member_id"] for r in below]),
        "period": chosen,
        "periods": choices,
        "methods": list(METHOD_LABELS),
        "recorded": me["tier"] in RECORDED_TIERS,
    }
    return render(request, "performance.html", context)
