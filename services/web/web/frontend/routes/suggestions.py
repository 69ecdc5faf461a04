"""Suggestions: raise one, the inbox of what one holds, a suggestion's timeline and its steps."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from web.frontend.actors import actor_member
from web.frontend.deps import Api, ApiDep, FormDep, MemberDep, User, UserDep
from web.frontend.errors import Problem, describe
from web.frontend.i18n import N_
from web.frontend.labels import CATEGORY_LABELS, METHOD_LABELS
from web.frontend.rendering import render
from web.frontend.routes.common import members_by_id
from web.frontend.services import ServiceError
from web.frontend.tags import chosen_tags, tag_options

router = APIRouter(prefix="/suggestions", tags=["frontend"])
RAISE_FIELDS = frozenset(
    {"text", "category", "tags", "channel", "on_behalf_of", "then", "answer", "reason"}
)
# What each step posts to the feedback service, and the form field it carries.
STEPS: dict[str, tuple[str, str | None]] = {
    "acknowledge": ("acknowledgement", None),
    "answer": ("answer", "answer"),
    "escalate": ("escalation", "reason"),
    "assign": ("assignment", "department"),
    "resolve": ("resolution", "outcome"),
    "close": ("closure", None),
    "reopen": ("reopening", "reason"),
    "set_aside": ("setting-aside", "reason"),
    "take_up": ("taking-up", None),
    "rate": ("rating", "rating"),
    "tags": ("tags", "tags"),
}
DONE = {
    "acknowledge": N_("Acknowledged."),
    "answer": N_("Answer sent."),
    "escalate": N_("Passed up the chain."),
    "assign": N_("Assigned to the department."),
    "resolve": N_("Outcome recorded."),
    "close": N_("Closed."),
    "reopen": N_("Reopened."),
    "raise_answer": N_("Suggestion raised and answered: the worker's answer is recorded."),
    "raise_pass_up": N_("Suggestion raised and passed up the chain at once."),
    "set_aside": N_("Set aside."),
    "take_up": N_("Taken up for the department."),
    "rate": N_("Thank you for your rating."),
    "tags": N_("Tags saved."),
}
CHOOSE = N_("Choose whether you answer it now or pass it up.")


async def _lists(api: Api, user: User) -> dict[str, Any]:
    lists: dict[str, Any] = {"inbox": None, "raised": None, "federation": None}
    if user.member_id:
        lists["inbox"] = await api.get("feedback", f"/members/{user.member_id}/inbox")
        lists["raised"] = await api.get("feedback", f"/members/{user.member_id}/suggestions")
        me = await api.get("roster", f"/members/{user.member_id}")
        lists["me"] = me
        if me["tier"] == "leader":
            lists["federation"] = await api.get("feedback", "/federation/inbox")
        if me["tier"] == "representative":
            lower = await api.get("roster", f"/members/{user.member_id}/lower-members", limit=500)
            lists["workers"] = lower["data"]
        # What waits on the departments this member acts for (交办).
        codes = await api.get("feedback", f"/members/{user.member_id}/departments")
        names = {d["code"]: d["name"] for d in await api.get("feedback", "/departments")}
        lists["departments"] = [
            (names.get(code, code), await api.get("feedback", f"/departments/{code}/inbox"))
            for code in codes
        ]
    else:
        lists["federation"] = await api.get("feedback", "/federation/inbox")
    ids = [
        s["raised_by"]
        for key in ("inbox", "raised", "federation")
        if lists[key]
        for s in lists[key]["data"]
    ]
    lists["people"] = await members_by_id(api, ids)
    return lists


async def _raise_options(api: Api, request: Request, values: dict[str, Any]) -> dict[str, Any]:
    return {
        "categories": list(CATEGORY_LABELS.items()),
        "channels": list(METHOD_LABELS.items()),
        "tags": await tag_options(api, request),
        "chosen": chosen_tags(values),
    }


@router.get("")
async def suggestions(request: Request, user: UserDep, api: ApiDep) -> Response:
    """My inbox (what I hold), what I raised, and the form to raise a new one."""
    lists = await _lists(api, user)
    values = {"channel": "online"}
    context = {**lists, **await _raise_options(api, request, values), "values": values}
    return render(request, "suggestions.html", context)


@router.post("")
async def raise_suggestion(
    request: Request, user: MemberDep, api: ApiDep, form: FormDep
) -> Response:
    """Raise a suggestion (for oneself, or a representative for one of their workers)."""
    body: dict[str, Any] = {
        "text": (form.get("text") or "").strip(),
        "category": form.get("category") or None,
        "channel": form.get("channel") or None,
        "on_behalf_of": form.get("on_behalf_of") or None,
        "tags": chosen_tags(form),
    }
    then = form.get("then") or None
    if body["on_behalf_of"]:
        # For one of my workers I would hold it myself: I say now what becomes of it.
        body["then"] = then
        if then == "answer":
            body["answer"] = (form.get("answer") or "").strip()
        elif then == "pass_up":
            body["reason"] = (form.get("reason") or "").strip()
    try:
        if body["on_behalf_of"] and then not in ("answer", "pass_up"):
            raise ServiceError(422, fields={"then": CHOOSE})
        done = await api.post("feedback", "/suggestions", body, key=form.get("key"))
    except ServiceError as error:
        if error.status == 401:
            raise
        problem = describe(error, RAISE_FIELDS)
        lists = await _lists(api, user)
        options = await _raise_options(api, request, form)
        context = {**lists, **options, "values": form, "problem": problem}
        return render(request, "suggestions.html", context)
    step = f"raise_{then}" if body.get("then") else "raise"
    return RedirectResponse(f"/suggestions/{done['suggestion_id']}?done={step}", status_code=303)


async def _page(
    request: Request,
    api: Api,
    user: User,
    suggestion_id: str,
    *,
    problem: Problem | None = None,
    step: str | None = None,
    values: dict[str, Any] | None = None,
    status: int = 200,
) -> Response:
    found = await api.get("feedback", f"/suggestions/{suggestion_id}")
    me = await api.get("roster", f"/members/{user.member_id}") if user.member_id else None
    ids = [found["raised_by"], found["on_behalf_of"], found["holder_id"]]
    ids += [e["holder_id"] for e in found["timeline"]]
    ids += [actor_member(e["actor"]) for e in found["timeline"]]
    people = await members_by_id(api, ids)
    departments = await api.get("feedback", "/departments")
    holds = bool(
        me
        and (
            found["holder_id"] == me["member_id"]
            or (found["holder_id"] is None and me["tier"] == "leader")
        )
    )
    raised = bool(me and found["raised_by"] == me["member_id"])
    acts_for = bool(
        me
        and found["department"]
        and found["department"]
        in await api.get("feedback", f"/members/{me['member_id']}/departments")
    )
    taken = await api.get("feedback", f"/suggestions/{suggestion_id}/taken-up")
    intake = None
    if found["raised_by"] is None:  # a worker's, by a QR code: verified or not, as given
        intake = await api.get("feedback", f"/suggestions/{suggestion_id}/intake")
    done = request.query_params.get("done")
    tags = await tag_options(api, request)
    carried = (await api.get("feedback", f"/suggestions/{suggestion_id}/tags"))["tags"]
    context = {
        "tags": tags,
        "carried": carried,
        "retag": chosen_tags(values or {}) if step == "tags" else carried,
        "tag_words": dict(tags),
        "s": found,
        "people": people,
        "departments": departments,
        "holds": holds,
        "raised": raised,
        "acts_for": acts_for,
        "taken_up_by": taken["taken_up_by"],
        "intake": intake,
        "problem": problem,
        "step": step,
        "values": values or {},
        "notice": DONE.get(done or "", N_("Suggestion raised.") if done == "raise" else None),
    }
    return render(request, "suggestion.html", context, status)


@router.get("/{suggestion_id}")
async def suggestion(request: Request, suggestion_id: str, user: UserDep, api: ApiDep) -> Response:
    """One suggestion: where it is, who holds it, every step so far, and what I may do."""
    return await _page(request, api, user, suggestion_id)


@router.post("/{suggestion_id}/{step}")
async def take_step(
    request: Request, suggestion_id: str, step: str, user: UserDep, api: ApiDep, form: FormDep
) -> Response:
    """Acknowledge, answer, escalate, assign, resolve, close or reopen."""
    if step not in STEPS:
        return render(request, "error.html", {"message": N_("Page not found.")}, 404)
    path, field = STEPS[step]
    body: dict[str, Any] | None = (
        {field: (form.get(field) or "").strip()} if field and step != "tags" else None
    )
    if step == "rate" and body is not None:  # how satisfied, why, and whether to reopen
        body["rating"] = body["rating"] or None
        body["comment"] = (form.get("comment") or "").strip() or None
        body["reopen"] = body["rating"] == "dissatisfied" and form.get("reopen") == "yes"
    if step == "tags":  # the checkboxes: all that are ticked (none: untagged)
        body = {"tags": chosen_tags(form)}
    if step == "set_aside" and body is not None:  # spam, or a duplicate of which suggestion
        body["mark"] = form.get("mark") or None
        body["duplicate_of"] = (form.get("duplicate_of") or "").strip() or None
    try:
        await api.post(
            "feedback", f"/suggestions/{suggestion_id}/{path}", body, key=form.get("key")
        )
    except ServiceError as error:
        if error.status in (401, 404):
            raise
        known = {field, "mark", "duplicate_of", "comment"} if field else {field}
        problem = describe(error, {name for name in known if name})
        return await _page(
            request, api, user, suggestion_id, problem=problem, step=step, values=form
        )
    return RedirectResponse(f"/suggestions/{suggestion_id}?done={step}", status_code=303)
