"""What each kind of notification says, in Chinese (DOMAIN.md's words, full-width punctuation).

A message is a title and a plain text; :func:`html_of` makes the HTML part of an email from
them. Where a text names someone it holds a mark (:mod:`notify.names`) and the ids it names
(``named``), never the name: names are filled in from the roster when the text is read or
sent. The texts are sealed before they are stored.
"""

from __future__ import annotations

import html
from datetime import date
from uuid import UUID

from compliance.rule import Period
from notify.domain import Owing, digest_text, due_phrase
from notify.names import listing, person


def _md(day: date) -> str:
    return f"{day.month}月{day.day}日"


def contacts_due(
    owing: list[Owing], period: Period, today: date, names: dict[UUID, str], url: str
) -> dict[str, str | None]:
    """The contacts-due digest: the sentence, then each link soonest first."""
    people = len(owing)
    said = digest_text(owing, period, today, names)
    lines = [said[:-1] + listing(i.lower_member_id for i in owing) + "。", ""]
    for item in owing:
        who = names.get(item.lower_member_id) or person(item.lower_member_id, "联系人")
        lines.append(
            f"· {who}：还需联系 {item.owed} 次，{due_phrase(item.next_due, today)}"
            f"（{_md(item.next_due)}）"
        )
    lines += ["", f"记录联系：{url}/contacts"]
    # Who, soonest first, by id: the frontend shows their names to the member (the roster's
    # names stay in the roster).
    members = ",".join(str(item.lower_member_id) for item in owing)
    return {
        "title": f"联系提醒：还需联系 {people} 人",
        "text": "\n".join(lines),
        "members": members,
        "named": members,
    }


def contact_overdue(
    item: Owing, today: date, names: dict[UUID, str], url: str
) -> dict[str, str | None]:
    """A link's contact became overdue."""
    who = names.get(item.lower_member_id) or person(item.lower_member_id, "一名联系人")
    text = (
        f"与{who}的联系{due_phrase(item.next_due, today)}（{_md(item.next_due)}到期），"
        f"还需联系 {item.owed} 次，请尽快联系。\n\n记录联系：{url}/contacts"
    )
    return {"title": "联系已逾期", "text": text, "named": str(item.lower_member_id)}


SUGGESTION_TEXTS = {
    "suggestion_arrived": ("收到一条意见建议", "有一条意见建议待您确认和答复。"),
    "suggestion_escalated": ("一条意见建议已上报给您", "一条意见建议已上报给您，请及时处理。"),
    "suggestion_answered": ("您的意见建议已答复", "您反映的意见建议已有答复，请查看并确认。"),
    "suggestion_resolved": ("您的意见建议已办理", "您反映的意见建议已办理，请查看结果并确认。"),
}


FOR_WORKER = {
    "suggestion_answered": ("为您反映的意见建议已答复", "为您反映的意见建议已有答复。"),
    "suggestion_resolved": ("为您反映的意见建议已办理", "为您反映的意见建议已办理。"),
}
"""What the worker a suggestion was raised for is told (the raiser confirms, not them)."""
BY_INTAKE = {
    "suggestion_answered": (
        "您的意见建议已答复",
        "您扫码反映的意见建议已有答复，请凭回执码查看并评价。",
    ),
    "suggestion_resolved": (
        "您的意见建议已办理",
        "您扫码反映的意见建议已办理，请凭回执码查看结果并评价。",
    ),
}
"""What a worker who raised it by an intake link is told (they follow it by receipt code)."""


def suggestion(
    kind: str, suggestion_id: str, url: str, told: str = "raiser"
) -> dict[str, str | None]:
    """A suggestion's step, for its holder or its raiser; ``told``: ``worker`` for the worker
    a representative raised it for, ``intake`` for the worker who raised it by an intake link
    (who follows it with their receipt code)."""
    if told == "intake" and kind in BY_INTAKE:
        title, text = BY_INTAKE[kind]
        return {"title": title, "text": f"{text}\n\n查看：{url}/f"}
    title, text = (
        FOR_WORKER[kind] if told == "worker" and kind in FOR_WORKER else SUGGESTION_TEXTS[kind]
    )
    return {"title": title, "text": f"{text}\n\n查看：{url}/suggestions/{suggestion_id}"}


def deadline_left(days_left: int, working: bool) -> str:
    """How long is left, as the deadline's unit counts it: "还剩 1 个工作日", "还剩 2 天"."""
    if days_left <= 0:
        return "今天"
    return f"还剩 {days_left} 个工作日" if working else f"还剩 {days_left} 天"


def deadline_warning(
    suggestion_id: str, days_left: int, url: str, working: bool = False
) -> dict[str, str | None]:
    """The holder's deadline is near: "还剩 1 天将自动上报" ("还剩 1 个工作日…" in working days)."""
    left = deadline_left(days_left, working)
    text = (
        f"有一条意见建议{left}将自动上报，请及时确认或答复。\n\n"
        f"查看：{url}/suggestions/{suggestion_id}"
    )
    return {"title": f"意见建议{left}将自动上报", "text": text}


def department_deadline(
    suggestion_id: str, days_left: int, url: str, working: bool = False
) -> dict[str, str | None]:
    """A department's deadline is near: "还剩 1 个工作日办结期限届满"."""
    left = deadline_left(days_left, working)
    text = (
        f"交办给本部门的一条意见建议{left}到办结期限，逾期将退回交办人（超期）。"
        f"请及时办理并记录结果。\n\n查看：{url}/suggestions/{suggestion_id}"
    )
    return {"title": f"交办的意见建议{left}到期", "text": text}


def department_overdue(suggestion_id: str, url: str) -> dict[str, str | None]:
    """A department's step lapsed and came back to the one who assigned it."""
    text = (
        "您交办的一条意见建议，部门未在期限内办结（超期），已退回您处。"
        f"请督办或改派。\n\n查看：{url}/suggestions/{suggestion_id}"
    )
    return {"title": "交办的意见建议超期未办结", "text": text}


def html_of(title: str, text: str) -> str:
    """The HTML part of an email: the title as a heading, each line a paragraph."""
    paragraphs = "".join(f"<p>{html.escape(line)}</p>" for line in text.split("\n") if line)
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title></head><body><h1>{html.escape(title)}</h1>"
        f"{paragraphs}</body></html>"
    )


TIER_WORDS = {"leader": "班子成员", "committee": "全委会委员", "representative": "工会代表"}


Behind = list[tuple[UUID, str, list[Owing]]]
"""A unit's members who still owe contacts: (member, tier, their links owing), most behind
first."""


def unit_digest(
    unit: str, behind: Behind, period: Period, today: date, url: str
) -> dict[str, str | None]:
    """A unit's monthly digest (for its group robot and its staff): how many of its members
    still owe contacts, the most behind first, by name and tier."""
    left = (period.end - today).days
    people = sum(len(items) for _, _, items in behind)
    times = sum(item.owed for _, _, items in behind for item in items)
    lines = [
        f"{unit}：本年度还剩 {left} 天，"
        f"本单位 {len(behind)} 名成员还需联系 {people} 人共 {times} 次。",
        "最落后的：",
    ]
    for rank, (member, tier, items) in enumerate(behind[:5], start=1):
        owed = sum(item.owed for item in items)
        word = TIER_WORDS.get(tier, "成员")
        lines.append(
            f"{rank}. {person(member, f'一名{word}', f'（{word}）')}："
            f"还需联系 {len(items)} 人共 {owed} 次，"
            f"最早{due_phrase(items[0].next_due, today)}"
        )
    lines += ["", f"查看：{url}/compliance"]
    named = ",".join(str(member) for member, _, _ in behind[:5])
    return {"title": f"{unit}联系月报", "text": "\n".join(lines), "named": named}


def urge_member(owing: list[Owing], period: Period, today: date, url: str) -> dict[str, str | None]:
    """督办 to a member: what they still owe."""
    said = "本期的联系已完成，感谢。"
    if owing:
        listed = listing(item.lower_member_id for item in owing)
        said = digest_text(owing, period, today, {})[:-1] + listed + "。"
    text = f"市总工会督办：请尽快完成联系工作。{said}\n\n记录联系：{url}/contacts"
    named = ",".join(str(item.lower_member_id) for item in owing)
    return {"title": "督办提醒", "text": text, "named": named}


def urge_unit(unit: str, members: int, times: int, url: str) -> dict[str, str | None]:
    """督办 to a unit's group."""
    text = (
        f"市总工会督办：{unit}还有 {members} 名成员未完成本期联系（共还需 {times} 次），"
        f"请督促落实。\n\n查看：{url}/compliance"
    )
    return {"title": f"督办提醒：{unit}", "text": text}
