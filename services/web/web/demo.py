"""Demo data shaped like the report: a city of 15510 links, a year of contacts, suggestions.

Everything goes through the services' ordinary commands, so the demo is valid history (it
verifies, replays and can be migrated like any other). The same seed gives the same people,
units, links, contact dates and suggestions.

    python -m web.demo --dir var/demo [--seed 15510] [--scale 1.0]
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from uuid import UUID

import typer

from contacts import bootstrap as contacts_bootstrap
from contacts import commands as ccmd
from eventspine.config import Settings
from eventspine.store.base import CommandContext, utc_now
from feedback import bootstrap as feedback_bootstrap
from feedback import commands as fcmd
from feedback.settings import FeedbackSettings
from roster import bootstrap as roster_bootstrap
from roster import commands as rcmd

STAFF = CommandContext(actor="staff:demo")
COUNTIES = ("城区", "矿区", "郊区", "平定县", "盂县")
ENTERPRISES = ("煤业公司", "化工厂", "机械厂", "电力公司", "建材公司", "运输公司")
SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国志红文斌宇鹏辉玉兰春梅海燕"
SIZES = {"leader": 10, "committee": 59, "representative": 300, "worker": 3000}
TOPICS = (
    ("training", "作为代表，常遇到职工提出的问题答不上来，市总工会能否培训职工代表？"),
    ("safety", "井下通风设备老化，希望尽快检修。"),
    ("wages_and_welfare", "夜班补贴标准多年未调整，职工希望提高。"),
    ("rights", "劳务派遣职工希望与正式职工同工同酬。"),
    ("union_work", "希望工会活动多安排在倒班职工方便的时间。"),
)


@dataclass
class Demo:
    """What was generated."""

    units: int = 0
    members: dict[str, int] = field(default_factory=dict)
    links: int = 0
    contacts: int = 0
    suggestions: int = 0


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


async def generate(
    settings: Settings,
    *,
    seed: int = 15510,
    scale: float = 1.0,
    clock: Callable[[], datetime] = utc_now,
) -> Demo:
    """Fill the embedded stores in ``settings.sqlite_dir`` with a demo city."""
    rng = random.Random(seed)
    ns = uuid.UUID(int=seed)
    demo = Demo()
    settings = settings.model_copy(update={"store_backend": "sqlite"})
    roster = await roster_bootstrap.build(settings, clock)
    try:
        members = await _roster(roster.handlers, rng, ns, scale, demo)
        await roster.catch_up()
    finally:
        await roster.close()
    contacts = await contacts_bootstrap.build(settings, clock)
    try:
        await contacts.feed.catch_up(60)
        await _contacts(contacts.handlers, rng, members, clock().date(), demo)
        await contacts.catch_up()
    finally:
        await contacts.close()
    config = FeedbackSettings(scheduler_enabled=False)
    feedback = await feedback_bootstrap.build(settings, clock, config)
    try:
        await feedback.feed.catch_up(60)
        await _suggestions(feedback.commands, rng, ns, members, demo)
        await feedback.catch_up()
    finally:
        await feedback.close()
    return demo


async def _roster(
    service: Any, rng: random.Random, ns: UUID, scale: float, demo: Demo
) -> dict[str, list[tuple[UUID, UUID | None]]]:
    city = uuid.uuid5(ns, "unit:city")
    await service.register_unit(
        rcmd.RegisterUnit(unit_id=city, name="阳泉市总工会", kind="city_federation"), STAFF
    )
    units = [city]
    for county_name in COUNTIES:
        county = uuid.uuid5(ns, f"unit:{county_name}")
        await service.register_unit(
            rcmd.RegisterUnit(
                unit_id=county,
                name=f"{county_name}总工会",
                kind="county_union",
                parent_unit_id=city,
            ),
            STAFF,
        )
        for kind in rng.sample(ENTERPRISES, 2):
            enterprise = uuid.uuid5(ns, f"unit:{county_name}{kind}")
            await service.register_unit(
                rcmd.RegisterUnit(
                    unit_id=enterprise,
                    name=f"{county_name}{kind}工会",
                    kind="enterprise_union",
                    parent_unit_id=county,
                ),
                STAFF,
            )
            units.append(enterprise)
    demo.units = 1 + len(COUNTIES) * 3
    members: dict[str, list[tuple[UUID, UUID | None]]] = {}
    number = 0
    for tier, size in SIZES.items():
        members[tier] = []
        for _ in range(max(1, round(size * scale))):
            number += 1
            member = uuid.uuid5(ns, f"member:{number}")
            await service.register_member(
                rcmd.RegisterMember.model_validate(
                    {
                        "member_id": member,
                        "unit_id": city if tier == "leader" else rng.choice(units),
                        "tier": tier,
                        "name": _name(rng),
                        "phone": f"139{rng.randrange(10**8):08d}",
                        "external_number": f"YQ{number:05d}",
                        "registered_on": "2025-01-02",
                    }
                ),
                STAFF,
            )
            members[tier].append((member, None))
        demo.members[tier] = len(members[tier])
    for upper_tier, lower_tier in (
        ("leader", "committee"),
        ("committee", "representative"),
        ("representative", "worker"),
    ):
        uppers = members[upper_tier]
        linked: list[tuple[UUID, UUID | None]] = []
        for index, (lower, _) in enumerate(members[lower_tier]):
            upper = uppers[index % len(uppers)][0]
            await service.link(
                rcmd.LinkMember(
                    upper_member_id=upper,
                    lower_member_id=lower,
                    assigned_on=date(2025, 3, 1),
                    span_override_reason="名册人数超出目标，经联席会议同意",
                ),
                STAFF,
            )
            linked.append((lower, upper))
            demo.links += 1
        members[lower_tier] = linked
    return members


async def _contacts(
    service: Any,
    rng: random.Random,
    members: dict[str, list[tuple[UUID, UUID | None]]],
    today: date,
    demo: Demo,
) -> None:
    start = date(today.year, 1, 1)
    span = max(1, (today - start).days)
    methods = ("meeting", "visit", "phone", "online")
    for tier in ("committee", "representative", "worker"):
        for lower, upper in members[tier]:
            # A realistic spread: most links met, some behind, some never contacted.
            count = rng.choices((2, 1, 0), weights=(60, 25, 15))[0]
            for _ in range(count):
                day = start + timedelta(days=rng.randrange(span))
                await service.log_contact(
                    ccmd.LogContact(
                        upper_member_id=upper,
                        lower_member_id=lower,
                        contacted_on=day,
                        method=rng.choice(methods),
                    ),
                    STAFF,
                )
                demo.contacts += 1


async def _suggestions(
    commands: Any,
    rng: random.Random,
    ns: UUID,
    members: dict[str, list[tuple[UUID, UUID | None]]],
    demo: Demo,
) -> None:
    workers = members["worker"]
    for index in range(max(1, len(workers) // 50)):
        worker, representative = rng.choice(workers)
        assert representative is not None
        category, text = TOPICS[index % len(TOPICS)]
        suggestion = uuid.uuid5(ns, f"suggestion:{index}")
        if rng.random() < 0.6:
            # The representative raises it for the worker and answers it or passes it up now.
            ctx = CommandContext(actor=f"member:{representative}")
            choice: dict[str, Any] = (
                {"then": "answer", "answer": "已了解情况，正在协调解决。"}
                if rng.random() < 0.5
                else {"then": "pass_up", "reason": "需要上级协调"}
            )
            raised = fcmd.RaiseSuggestion(
                suggestion_id=suggestion,
                text=text,
                category=category,
                channel="online",
                on_behalf_of=worker,
                **choice,
            )
            await commands.run(raised, ctx, actor_id=representative)
        else:
            # The worker raises it: it waits for the representative, their upper contact.
            ctx = CommandContext(actor=f"member:{worker}")
            raised = fcmd.RaiseSuggestion(
                suggestion_id=suggestion, text=text, category=category, channel="online"
            )
            await commands.run(raised, ctx, actor_id=worker)
        demo.suggestions += 1


app = typer.Typer(help="Generate the demo city into an embedded data folder.")


@app.command()
def main(
    folder: Annotated[Path, typer.Option("--dir", help="the embedded data folder to fill")],
    seed: Annotated[int, typer.Option(help="same seed, same demo")] = 15510,
    scale: Annotated[
        float, typer.Option(min=0.001, max=1.0, help="1.0: the report's size (10/59/300/3,000)")
    ] = 1.0,
) -> None:
    """Generate the demo unless the folder already holds a roster."""
    if (folder / "roster-events.sqlite").exists():
        typer.echo(f"{folder} already holds data; leaving it as it is")
        return
    settings = Settings(store_backend="sqlite", sqlite_dir=str(folder))
    demo = asyncio.run(generate(settings, seed=seed, scale=scale, clock=lambda: datetime.now(UTC)))
    typer.echo(
        f"demo: {demo.units} units, {demo.members} members, {demo.links} links, "
        f"{demo.contacts} contacts, {demo.suggestions} suggestions in {folder}"
    )


if __name__ == "__main__":
    app()
