"""A member's calendar feed (RFC 5545, the ``icalendar`` package): what they owe, with alarms.

Phone calendars subscribe to the member's secret URL and fetch it now and then. The feed holds
one all-day event per link still owing contacts (on its next due date, an alarm the morning
before) and one per suggestion the member holds with a running deadline (at the deadline, an
alarm a day before). A due contact's summary names the person to contact, as the roster has
the name when the calendar is fetched (so a forgotten member is gone at the next fetch); a
suggestion's names no one. Each event's UID is stable, so a client updates it in place as
dates move.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from uuid import UUID

from icalendar import Alarm, Calendar, Event

from compliance.rule import Period
from notify.domain import Owing
from notify.names import Names

PRODID = "-//Sanlian//notify//ZH"


def _alarm(description: str, before: timedelta) -> Alarm:
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", description)
    alarm.add("trigger", -before)
    return alarm


def feed(
    member_id: UUID,
    owing: list[Owing],
    period: Period,
    deadlines: Sequence[tuple[str, datetime, str, datetime, str]],
    now: datetime,
    url: str,
    names: Names | None = None,
) -> bytes:
    """The iCalendar document: ``owing`` links of ``period``, and ``deadlines`` as
    (suggestion id, when, which deadline, when to warn, how long is left then); ``names``
    the lower members' names (unknown ones are not named)."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", "三联系统待办")
    calendar.add("x-wr-timezone", "Asia/Shanghai")
    for item in owing:
        event = Event()
        event.add("uid", f"contact-{item.link_id}-{period.label}@notify.sanlian")
        event.add("dtstamp", now)
        event.add("dtstart", item.next_due)
        event.add("dtend", item.next_due + timedelta(days=1))
        name = (names or {}).get(item.lower_member_id)
        who = f"{name}，" if name else ""
        event.add("summary", f"联系到期：{who}还需联系 {item.owed} 次")
        event.add("description", f"记录联系：{url}/contacts")
        event.add("url", f"{url}/contacts")
        event.add_component(_alarm("明天联系到期", timedelta(hours=15)))
        calendar.add_component(event)
    for sid, when, which, warn_at, left in deadlines:
        word = "确认" if which == "acknowledge" else "答复"
        event = Event()
        event.add("uid", f"suggestion-{sid}-{which}@notify.sanlian")
        event.add("dtstamp", now)
        event.add("dtstart", when)
        event.add("dtend", when + timedelta(minutes=30))
        event.add("summary", f"意见建议{word}期限：逾期将自动上报")
        event.add("description", f"查看：{url}/suggestions/{sid}")
        event.add("url", f"{url}/suggestions/{sid}")
        event.add_component(_alarm(f"{left}将自动上报", when - warn_at))
        calendar.add_component(event)
    document: bytes = calendar.to_ical()
    return document


def due_dates(owing: list[Owing]) -> list[date]:
    """The due dates the feed shows (for tests and the page)."""
    return [item.next_due for item in owing]
