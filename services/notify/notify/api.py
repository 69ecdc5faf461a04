"""HTTP routes of the notify service: each builds a command or a query and hands it over.

A member reads their own notifications (the 待办 count and list), marks them read, sets their
channels and makes or revokes their calendar URL; staff read any member's notifications and
the outbox (what was sent, what failed for good). The calendar URL itself answers without a
sign-in: its secret token is the credential, and revoking it ends it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status
from pydantic import BaseModel, Field

from access.guard import STAFF, Caller
from access.principal import Principal
from escalation import load_recorded
from eventspine.errors import NotFoundError, NotPermittedError
from eventspine.store.base import CommandContext
from notify import calendar, messages
from notify import commands as cmd
from notify.bootstrap import Notify
from notify.names import Names, named, rendered
from servicekit.http import CommandAccepted, command_context


async def get_notify(request: Request) -> Notify:
    """The notify service wired by the app's lifespan."""
    notify: Notify = request.app.state.notify
    return notify


NotifyDep = Annotated[Notify, Depends(get_notify)]
Context = Annotated[CommandContext, Depends(command_context)]
REFUSED: dict[int | str, dict[str, Any]] = {
    403: {"description": "not a member, or someone else's notification"},
    404: {"description": "no such notification or calendar feed"},
    422: {"description": "invalid input; the answer names the field"},
}


def member_of(principal: Principal) -> UUID:
    """The signed-in member (these routes are a member's own)."""
    if principal.member_id is None:
        raise NotPermittedError(
            "Authorization",
            "only a member has notifications of their own",
            code="member_must_act",
        )
    return principal.member_id


def recipient_of(principal: Principal) -> UUID:
    """Whose notifications these are: the signed-in member's, or a staff account's own (the
    units' monthly digests it takes)."""
    if principal.member_id is None and principal.role == "admin":
        return principal.account_id
    return member_of(principal)


STAFF_ONLY: dict[int | str, dict[str, Any]] = {403: {"description": "staff only"}}


class NotificationPublic(BaseModel):
    """One notification as its member reads it (the text unsealed; null once forgotten)."""

    notification_id: UUID
    member_id: UUID
    kind: str
    subject: str
    period: str
    due_on: str | None
    title: str | None
    text: str | None
    members: list[UUID] = Field(
        default_factory=list, description="a digest's lower members still owed, soonest first"
    )
    issued_at: datetime
    read: bool


class NotificationList(BaseModel):
    """A member's notifications, newest first, and how many are unread."""

    data: list[NotificationPublic]
    count: int
    unread: int


class Unread(BaseModel):
    """The 待办 count."""

    unread: int


class PreferencesPublic(BaseModel):
    """A member's channels."""

    email: str | None
    digests: bool
    frequency: str


class CalendarIssued(BaseModel):
    """A new calendar URL: its path is shown once (only a digest of it is kept)."""

    feed_id: UUID
    path: str
    events: CommandAccepted


class DeliveryPublic(BaseModel):
    """One notification's delivery on one channel."""

    notification_id: UUID
    channel: str
    member_id: UUID
    status: str
    attempts: int
    reason: str | None
    delivered_at: str | None


class DeliveryList(BaseModel):
    """The outbox."""

    data: list[DeliveryPublic]
    count: int


def _read(body: dict[str, str | None] | None, names: Names) -> tuple[str | None, str | None]:
    if body is None:
        return None, None  # the member was forgotten: nothing of it can be read
    return rendered(body, names)


async def _list(notify: Notify, member_id: UUID) -> NotificationList:
    rows = await notify.queries.of_member(member_id)
    bodies = await notify.vault.unseal_many([(member_id, row[6]) for row in rows])
    # The names as the roster has them now (one read for the page).
    names = await notify.names.of_or_unknown(m for body in bodies if body for m in named(body))
    shown = [_read(body, names) for body in bodies]
    data = [
        NotificationPublic(
            notification_id=UUID(row[0]),
            member_id=UUID(row[1]),
            kind=row[2],
            subject=row[3],
            period=row[4],
            due_on=row[5],
            title=title,
            text=text,
            members=[UUID(m) for m in ((body or {}).get("members") or "").split(",") if m],
            issued_at=datetime.fromisoformat(row[7]),
            read=row[8] is not None,
        )
        for row, body, (title, text) in zip(rows, bodies, shown, strict=True)
    ]
    unread = await notify.queries.unread(member_id)
    return NotificationList(data=data, count=len(data), unread=unread)


me = APIRouter(prefix="/me", tags=["notifications"])
staff = APIRouter(tags=["staff"])
public = APIRouter(tags=["calendar"])


@me.get("/notifications", responses=REFUSED)
async def my_notifications(notify: NotifyDep, principal: Caller) -> NotificationList:
    """The signed-in member's notifications (待办), newest first, with the unread count."""
    return await _list(notify, recipient_of(principal))


@me.get("/unread", responses=REFUSED)
async def my_unread(notify: NotifyDep, principal: Caller) -> Unread:
    """The 待办 count: the member's (or staff account's) unread notifications."""
    return Unread(unread=await notify.queries.unread(recipient_of(principal)))


@me.post("/notifications/{notification_id}/read", responses=REFUSED)
async def mark_read(
    notification_id: UUID, notify: NotifyDep, ctx: Context, principal: Caller
) -> CommandAccepted:
    """Mark one of the member's notifications read (again: nothing changes)."""
    member_id = recipient_of(principal)
    outcome = await notify.commands.run(
        cmd.MarkRead(notification_id=notification_id),
        ctx,
        member_id=member_id,
        now=notify.clock.now(),
    )
    return CommandAccepted.of(outcome.events)


@me.get("/preferences", responses=REFUSED)
async def my_preferences(notify: NotifyDep, principal: Caller) -> PreferencesPublic:
    """The member's channels (the address unsealed)."""
    member_id = member_of(principal)
    sealed, digests = await notify.queries.preferences(member_id)
    address = await notify.vault.unseal(member_id, sealed) if sealed else None
    frequency = "monthly" if member_id in await notify.queries.monthly_only() else "federation"
    return PreferencesPublic(
        email=(address or {}).get("email"), digests=digests, frequency=frequency
    )


@me.post("/preferences", responses=REFUSED)
async def set_preferences(
    body: cmd.SetPreferences, notify: NotifyDep, ctx: Context, principal: Caller
) -> CommandAccepted:
    """Set the member's email address (null: none) and whether digests come."""
    outcome = await notify.commands.run(body, ctx, member_id=member_of(principal))
    return CommandAccepted.of(outcome.events)


class StaffPreferencesPublic(BaseModel):
    """A staff account's channels for the units' monthly digests."""

    email: str | None
    units: list[UUID]


@me.get("/staff-preferences", dependencies=[STAFF], responses=STAFF_ONLY)
async def my_staff_preferences(notify: NotifyDep, principal: Caller) -> StaffPreferencesPublic:
    """A staff account's email (unsealed) and the units whose monthly digest it takes."""
    account = principal.account_id
    sealed, _ = await notify.queries.preferences(account)
    address = await notify.vault.unseal(account, sealed) if sealed else None
    return StaffPreferencesPublic(
        email=(address or {}).get("email"), units=await notify.queries.followed(account)
    )


@me.post("/staff-preferences", dependencies=[STAFF], responses=REFUSED)
async def set_staff_preferences(
    body: cmd.SetStaffPreferences, notify: NotifyDep, ctx: Context, principal: Caller
) -> CommandAccepted:
    """Set a staff account's email (null: none) and the units whose monthly digest of the
    members most behind comes to its notifications page (and by email)."""
    outcome = await notify.commands.run(body, ctx, account_id=principal.account_id)
    return CommandAccepted.of(outcome.events)


@me.post("/calendar", status_code=status.HTTP_201_CREATED, responses=REFUSED)
async def issue_calendar(notify: NotifyDep, ctx: Context, principal: Caller) -> CalendarIssued:
    """A new secret calendar URL for the member's phone calendar (``path`` under this
    service; shown now only)."""
    outcome = await notify.commands.run(
        cmd.IssueCalendarFeed(), ctx, member_id=member_of(principal)
    )
    feed_id = outcome.command.feed_id
    assert feed_id is not None
    token = notify.handlers.feed_token(feed_id)
    return CalendarIssued(
        feed_id=feed_id, path=f"/calendar/{token}.ics", events=CommandAccepted.of(outcome.events)
    )


@me.get("/calendar", responses=REFUSED)
async def my_calendars(notify: NotifyDep, principal: Caller) -> list[UUID]:
    """The member's live calendar URLs (their ids; the URLs were shown once)."""
    return await notify.queries.feeds(member_of(principal))


@me.post("/calendar/{feed_id}/revoke", responses=REFUSED)
async def revoke_calendar(
    feed_id: UUID, notify: NotifyDep, ctx: Context, principal: Caller
) -> CommandAccepted:
    """Revoke a calendar URL: it stops answering at once."""
    member_id = member_of(principal)
    outcome = await notify.commands.run(
        cmd.RevokeCalendarFeed(feed_id=feed_id),
        ctx,
        member_id=member_id,
        live=await notify.queries.feeds(member_id),
    )
    return CommandAccepted.of(outcome.events)


@staff.get("/members/{member_id}/notifications", dependencies=[STAFF], responses=STAFF_ONLY)
async def member_notifications(member_id: UUID, notify: NotifyDep) -> NotificationList:
    """A member's notifications, for staff (what they were told, and when)."""
    return await _list(notify, member_id)


@staff.get("/deliveries", dependencies=[STAFF], responses=STAFF_ONLY)
async def deliveries(
    notify: NotifyDep,
    status_: Annotated[
        Literal["pending", "delivered", "failed"] | None, Query(alias="status")
    ] = None,
) -> DeliveryList:
    """The outbox: each notification's delivery per channel; ``status=failed`` lists the
    permanent failures staff must look at."""
    rows = await notify.queries.deliveries(status_)
    data = [
        DeliveryPublic(
            notification_id=UUID(r[0]),
            channel=r[1],
            member_id=UUID(r[2]),
            status=r[3],
            attempts=r[4],
            reason=r[5],
            delivered_at=r[6],
        )
        for r in rows
    ]
    return DeliveryList(data=data, count=len(data))


@staff.post("/units/{unit_id}/webhook", dependencies=[STAFF], responses=REFUSED)
async def set_unit_webhook(
    unit_id: UUID, body: cmd.SetUnitWebhook, notify: NotifyDep, ctx: Context
) -> CommandAccepted:
    """Set a unit's group robot (企业微信群机器人 or 钉钉自定义机器人), or remove it (no
    format): the unit's monthly digest and its 督办 go there."""
    outcome = await notify.commands.run(body, ctx, unit_id=unit_id)
    return CommandAccepted.of(outcome.events)


@staff.post("/urges", status_code=status.HTTP_201_CREATED, dependencies=[STAFF], responses=REFUSED)
async def urge(body: cmd.Urge, notify: NotifyDep, ctx: Context) -> CommandAccepted:
    """督办: a recorded nudge to a member (their 待办 and email) or a unit (its group robot),
    saying what they still owe this period."""
    outcome = await notify.commands.run(body, ctx, today=notify.clock.today())
    return CommandAccepted.of(outcome.events)


CALENDAR = "text/calendar; charset=utf-8"


@public.get(
    "/calendar/{token}.ics",
    response_class=Response,
    responses={200: {"content": {"text/calendar": {}}}, 404: {"description": "no such feed"}},
)
async def calendar_feed(
    token: Annotated[str, Path(min_length=20, max_length=100, pattern=r"^[A-Za-z0-9_\-]+$")],
    notify: NotifyDep,
) -> Response:
    """The member's calendar (RFC 5545): contacts due and suggestion deadlines, with alarms.
    The token in the path is the credential; a revoked one answers 404."""
    member_id = await notify.queries.feed_member(notify.handlers.token_digest(token))
    if member_id is None:
        raise NotFoundError(
            "token",
            "no such calendar feed (revoked, or never issued)",
            code="calendar_feed_unknown",
        )
    now = notify.clock.now()
    today = notify.clock.date_at(now)
    period = notify.scheduler.rule.period_of(today)
    owing = (await notify.queries.owing(period, today, member_id)).get(member_id, [])
    deadlines = []
    waiting = await notify.queries.waiting_suggestions(member_id)
    for sid, _holder, tier, state, arrived_at, _level, recorded_text in waiting:
        policy, arrived = notify.scheduler.deadlines, datetime.fromisoformat(arrived_at)
        # The deadline its event recorded, as the scheduler reads it.
        recorded = load_recorded(recorded_text)
        due = policy.recorded_due(state, tier, arrived, recorded)
        unit = policy.recorded_unit(arrived, recorded)
        if due is not None:
            # The alarm rings when the scheduler's warning comes, and says the same.
            warn_days = notify.settings.deadline_warning_days
            warn_at = policy.warn_from(arrived, due[0], warn_days, unit)
            left = messages.deadline_left(
                policy.days_left(arrived, warn_at, due[0], unit), unit == "working"
            )
            deadlines.append((sid, due[0], due[1], warn_at, left))
    names = await notify.names.of_or_unknown(item.lower_member_id for item in owing)
    body = calendar.feed(
        member_id, owing, period, deadlines, now, notify.settings.frontend_url.rstrip("/"), names
    )
    return Response(body, media_type=CALENDAR, headers={"Cache-Control": "private, max-age=300"})


ROUTERS = [me, staff]
PUBLIC_ROUTERS = [public]
