"""The scheduler: decides, on every tick, who must be told what, then hands it to the sender.

A tick at ``now`` (the injected clock; tests move it) does nothing in the quiet hours. Outside
them it issues

* the **contacts-due digest** of the period's latest occasion (:class:`notify.domain.Cadence`)
  to each upper member whose links still owe contacts, as of the tick (what was done since
  the occasion is not in it; a member who owes nothing gets none), unless they opted out;
* a **contact overdue** notice per link whose next due date has passed (once per due date);
* the **suggestion** notices the replica's triggers ask for (arrived, escalated, answered,
  resolved), and a **deadline warning** to a holder whose deadline is near;

and then runs the sender. Every notification's id follows from what it is about, so a tick
repeated (a restart, two instances) issues nothing twice; the scheduler keeps no state.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from uuid import UUID

import structlog

from compliance import ContactRule
from contracts.feedback import DepartmentDeadline
from escalation import DeadlinePolicy, load_recorded
from eventspine.clock import FederationClock
from eventspine.replica import Feed
from eventspine.store.base import CommandContext
from notify import messages
from notify.domain import Cadence, Owing, QuietHours, notification_id
from notify.events import DeliveryChannel, Kind
from notify.handlers import SCHEDULER_ACTOR, Content, NotifyHandlers
from notify.messages import Behind
from notify.queries import NotifyQueries
from notify.sender import Sender
from notify.settings import NotifySettings

log = structlog.get_logger(__name__)


class Scheduler:
    """Issues what is due and sends it; run :meth:`run` in the app, or :meth:`tick` in tests."""

    def __init__(
        self,
        handlers: NotifyHandlers,
        queries: NotifyQueries,
        sender: Sender,
        catch_up: Callable[[], Awaitable[int]],
        feed: Feed,
        clock: FederationClock,
        settings: NotifySettings,
        rule: ContactRule,
        deadlines: DeadlinePolicy,
    ) -> None:
        self.handlers = handlers
        self.queries = queries
        self.sender = sender
        self.catch_up = catch_up
        self.feed = feed
        self.clock = clock
        self.settings = settings
        self.rule = rule
        self.deadlines = deadlines
        self.cadence = Cadence(settings.digest_day, settings.final_month_weekday)
        self.quiet = QuietHours(settings.quiet_start, settings.quiet_end, clock.zone)
        self.url = settings.frontend_url.rstrip("/")

    async def _channels(self, member_id: UUID, essential: bool) -> list[DeliveryChannel] | None:
        """Where a member's notification goes besides 待办; None: not at all (opted out)."""
        email, digests = await self.queries.preferences(member_id)
        if not essential and not digests:
            return None
        # Without an SMTP server no email is promised (nothing would wait for one forever).
        return ["email"] if email and self.settings.smtp_host else []

    async def _issue(
        self,
        ctx: CommandContext,
        member_id: UUID,
        kind: Kind,
        subject: str,
        period: str,
        due_on: date | None,
        essential: bool,
        content: dict[str, str | None],
        known: set[UUID] | None = None,
    ) -> int:
        nid = notification_id(member_id, kind, subject, period, due_on)
        if nid in known if known is not None else await self.queries.issued(nid):
            return 0  # the common case on every tick after the first: nothing to seal
        channels = await self._channels(member_id, essential)
        if channels is None:
            return 0
        issued = await self.handlers.issue(
            ctx,
            member_id=member_id,
            kind=kind,
            subject=subject,
            period=period,
            due_on=due_on,
            essential=essential,
            content=content,
            channels=channels,
        )
        return int(issued)

    async def contacts(self, now: datetime, ctx: CommandContext) -> int:
        """The digests of the latest occasion and the overdue notices."""
        today = self.clock.date_at(now)
        period = self.rule.period_of(today)
        occasions = {
            "federation": self.cadence.latest(period, today),
            "monthly": Cadence(self.cadence.day, None).latest(period, today),
        }
        monthly = await self.queries.monthly_only()
        known = await self.queries.issued_in(period.label)
        owing = await self.queries.owing(period, today)
        names: dict[UUID, str] = {}
        issued = 0
        for upper, items in owing.items():
            occasion = occasions["monthly" if upper in monthly else "federation"]
            if occasion is not None:
                content = messages.contacts_due(items, period, today, names, self.url)
                issued += await self._issue(
                    ctx,
                    upper,
                    "contacts_due",
                    "digest",
                    period.label,
                    occasion,
                    False,
                    content,
                    known,
                )
            if not self.settings.overdue_notices:
                continue
            for item in items:
                if item.next_due < today:
                    content = messages.contact_overdue(item, today, names, self.url)
                    issued += await self._issue(
                        ctx,
                        upper,
                        "contact_overdue",
                        str(item.link_id),
                        period.label,
                        item.next_due,
                        True,
                        content,
                        known,
                    )
        return issued

    async def _behind_by_unit(self, owing: dict[UUID, list[Owing]]) -> dict[UUID, Behind]:
        """Per unit, its members who still owe contacts (who, their tier and links), the most
        behind first."""
        units = await self.queries.units_of(list(owing))
        found: dict[UUID, Behind] = {}
        for upper, items in owing.items():
            if upper in units:
                unit_id, tier = units[upper]
                found.setdefault(unit_id, []).append((upper, tier, items))
        for rows in found.values():
            rows.sort(
                key=lambda row: (-sum(i.owed for i in row[2]), row[2][0].next_due, str(row[0]))
            )
        return found

    async def units(self, now: datetime, ctx: CommandContext) -> int:
        """The monthly digest of each unit (on ``digest_day``) to its group robot, and to
        the staff accounts that take it (their notifications page, and email if chosen)."""
        robots = dict(await self.queries.webhook_units())
        followers = await self.queries.staff_units()
        if not robots and not followers:
            return 0
        today = self.clock.date_at(now)
        period = self.rule.period_of(today)
        month = today if today.day >= self.cadence.day else today.replace(day=1) - timedelta(1)
        occasion = month.replace(day=self.cadence.day)
        if occasion < period.start:
            return 0
        behind = await self._behind_by_unit(await self.queries.owing(period, today))
        issued = 0
        for unit_id in sorted(set(robots) | set(followers), key=str):
            if not behind.get(unit_id):
                continue
            name = robots.get(unit_id) or await self.queries.unit_name(unit_id) or "本单位"
            content = messages.unit_digest(name, behind[unit_id], period, today, self.url)
            if unit_id in robots:
                nid = notification_id(unit_id, "unit_digest", str(unit_id), period.label, occasion)
                if not await self.queries.issued(nid):
                    issued += int(
                        await self.handlers.issue_unit(
                            ctx,
                            unit_id=unit_id,
                            kind="unit_digest",
                            subject=str(unit_id),
                            period=period.label,
                            due_on=occasion,
                            content=content,
                            channels=["webhook"],
                        )
                    )
            for account in followers.get(unit_id, []):
                nid = notification_id(account, "unit_digest", str(unit_id), period.label, occasion)
                if await self.queries.issued(nid):
                    continue
                channels = await self._channels(account, essential=True)
                issued += int(
                    await self.handlers.issue_staff(
                        ctx,
                        account_id=account,
                        unit_id=unit_id,
                        period=period.label,
                        due_on=occasion,
                        content=content,
                        channels=channels or [],
                    )
                )
        return issued

    async def urge_content(
        self, member_id: UUID | None, unit_id: UUID | None
    ) -> tuple[Content, list[DeliveryChannel]]:
        """What a 督办 says to a member or a unit, and where it goes."""
        today = self.clock.today()
        period = self.rule.period_of(today)
        if member_id is not None:
            owing = (await self.queries.owing(period, today, member_id)).get(member_id, [])
            email, _ = await self.queries.preferences(member_id)
            mail = bool(email and self.settings.smtp_host)
            channels: list[DeliveryChannel] = ["email"] if mail else []
            return messages.urge_member(owing, period, today, self.url), channels
        assert unit_id is not None
        behind = (await self._behind_by_unit(await self.queries.owing(period, today))).get(
            unit_id, []
        )
        name = await self.queries.unit_name(unit_id) or "本单位"
        times = sum(i.owed for _, _, items in behind for i in items)
        channels = ["webhook"] if await self.queries.webhook(unit_id) else []
        return messages.urge_unit(name, len(behind), times, self.url), channels

    async def suggestions(self, now: datetime, ctx: CommandContext) -> int:
        """The triggers' notices and the deadline warnings."""
        issued = 0
        for member, kind, subject, period, raiser in await self.queries.triggers():
            if period.startswith("overdue-"):  # a department's step came back to its assigner
                content = messages.department_overdue(subject, self.url)
            else:
                told = "raiser" if member == raiser else "intake" if not raiser else "worker"
                content = messages.suggestion(kind, subject, self.url, told)
            issued += await self._issue(
                ctx, UUID(member), kind, subject, period, None, True, content
            )
        warn = self.settings.deadline_warning_days
        for (
            sid,
            holder,
            tier,
            status,
            arrived_at,
            level,
            recorded_text,
        ) in await self.queries.waiting_suggestions():
            arrived = datetime.fromisoformat(arrived_at)
            # The rule the holder's clock started under, as its event recorded it.
            recorded = load_recorded(recorded_text)
            due = self.deadlines.recorded_due(status, tier, arrived, recorded)
            unit = self.deadlines.recorded_unit(arrived, recorded)
            # The warning counts as the deadline does: in working days, one working day before.
            if due is None or not (
                self.deadlines.warn_from(arrived, due[0], warn, unit) <= now < due[0]
            ):
                continue
            days_left = self.deadlines.days_left(arrived, now, due[0], unit)
            working = unit == "working"
            content = messages.deadline_warning(sid, days_left, self.url, working)
            issued += await self._issue(
                ctx,
                UUID(holder),
                "suggestion_deadline",
                sid,
                f"L{level}:{due[1]}",
                self.clock.date_at(due[0]),
                True,
                content,
            )
        return issued + await self.department_deadlines(now, ctx)

    async def department_deadlines(self, now: datetime, ctx: CommandContext) -> int:
        """Warn the members acting for a department before its step's deadline, counted in
        the step's recorded unit (a working day before, in working days)."""
        issued, warn = 0, self.settings.deadline_warning_days
        for sid, member, text, started in await self.queries.department_steps():
            step = DepartmentDeadline.model_validate_json(text)
            due, unit = step.due_by, step.unit
            if not self.deadlines.warn_from(due, due, warn, unit) <= now < due:
                continue
            days_left = self.deadlines.days_left(due, now, due, unit)
            content = messages.department_deadline(sid, days_left, self.url, unit == "working")
            issued += await self._issue(
                ctx,
                UUID(member),
                "suggestion_deadline",
                sid,
                started,
                self.clock.date_at(due),
                True,
                content,
            )
        return issued

    async def tick(self, now: datetime | None = None) -> tuple[int, int]:
        """Issue what is due at ``now`` (default: the clock) and send; (issued, delivered)."""
        moment = now or self.clock.now()
        await self.catch_up()
        await self.feed.catch_up(0)  # what the replica has not applied waits for a later tick
        if self.quiet.quiet(moment):
            return 0, 0
        ctx = CommandContext(actor=SCHEDULER_ACTOR, correlation_id=uuid.uuid4())
        issued = (
            await self.contacts(moment, ctx)
            + await self.suggestions(moment, ctx)
            + await self.units(moment, ctx)
        )
        if issued:
            await self.catch_up()
            log.info("notify.issued", count=issued, now=moment.isoformat())
        delivered = await self.sender.send_due(moment)
        return issued, delivered

    async def run(self, stop: asyncio.Event) -> None:
        """Tick every ``scheduler_interval_seconds`` until ``stop`` is set; a failed tick is
        logged and the next one tries again."""
        while not stop.is_set():
            try:
                await self.tick()
            except Exception:
                log.exception("notify.scheduler_failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.settings.scheduler_interval_seconds)
