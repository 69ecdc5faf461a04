"""A scripted city for the aggregates' tests: two years of links and contacts with the
changes a roster lives through (relinks, departures, moves, tier changes, corrected and
retracted contacts), appended through an event store in the order they happen."""

from __future__ import annotations

import random
import uuid
from datetime import date, timedelta
from typing import Any
from uuid import UUID

from contracts.contacts import ContactCorrected, ContactMade, ContactRetracted
from contracts.roster import (
    MemberAssigned,
    MemberDeparted,
    MemberMoved,
    MemberRegistered,
    MemberTierChanged,
    MemberUnassigned,
    UnitRegistered,
)
from eventspine.envelope import RecordedEvent
from eventspine.events import DomainEvent
from eventspine.store.base import AppendRequest, CommandContext, EventStore

CTX = CommandContext(actor="staff:script")


def registered(member: UUID, unit: UUID, tier: str) -> MemberRegistered:
    """A member registered in ``unit`` at ``tier``, its personal data a sealed placeholder."""
    return MemberRegistered.model_validate(
        {
            "member_id": member,
            "unit_id": unit,
            "tier": tier,
            "personal_data": "v1.x",
            "number_index": "0" * 64,
            "registered_on": "2025-01-01",
        }
    )


class ScriptedCity:
    """Appends the script to a roster and a contacts store; ``log`` keeps the order."""

    def __init__(self, roster: EventStore, contacts: EventStore, seed: int = 23) -> None:
        self.roster = roster
        self.contacts = contacts
        self.rng = random.Random(seed)
        self.log: list[tuple[str, list[RecordedEvent]]] = []
        self.units: dict[str, UUID] = {}
        self.versions: dict[str, int] = {}

    async def _append(self, service: str, stream: str, *events: DomainEvent) -> list[RecordedEvent]:
        store = self.roster if service == "roster" else self.contacts
        version = self.versions.get(stream, 0)
        recorded = await store.append_many([AppendRequest(stream, version, list(events))], CTX)
        self.versions[stream] = version + len(events)
        self.log.append((service, recorded))
        return recorded

    async def build(self) -> dict[str, Any]:
        """The whole script; returns who is who."""
        rng = self.rng
        city = uuid.uuid4()
        await self._append(
            "roster",
            f"unit-{city}",
            UnitRegistered(unit_id=city, name="市总", kind="city_federation"),
        )
        counties, enterprises = [uuid.uuid4() for _ in range(2)], []
        for county in counties:
            await self._append(
                "roster",
                f"unit-{county}",
                UnitRegistered(unit_id=county, name="县", kind="county_union", parent_unit_id=city),
            )
            for _ in range(2):
                enterprise = uuid.uuid4()
                enterprises.append(enterprise)
                await self._append(
                    "roster",
                    f"unit-{enterprise}",
                    UnitRegistered(
                        unit_id=enterprise,
                        name="企业",
                        kind="enterprise_union",
                        parent_unit_id=county,
                    ),
                )
        unit_of: dict[UUID, UUID] = {}
        tiers: dict[str, list[UUID]] = {}
        for tier, count in (
            ("leader", 2),
            ("committee", 5),
            ("representative", 12),
            ("worker", 80),
        ):
            tiers[tier] = [uuid.uuid4() for _ in range(count)]
            for member in tiers[tier]:
                unit_of[member] = city if tier == "leader" else rng.choice(enterprises)
                await self._append(
                    "roster", f"member-{member}", registered(member, unit_of[member], tier)
                )
        links: dict[UUID, tuple[UUID, UUID, date]] = {}  # lower -> (link, upper, since)
        uppers = {"committee": "leader", "representative": "committee", "worker": "representative"}

        async def assign(lower: UUID, tier: str, upper: UUID, on: date) -> None:
            recorded = await self._append(
                "roster",
                f"link-{lower}",
                MemberAssigned(member_id=lower, upper_member_id=upper, tier=tier, assigned_on=on),
            )
            links[lower] = (recorded[0].id, upper, on)

        async def unassign(lower: UUID, on: date, reason: str) -> None:
            _, upper, _ = links.pop(lower)
            await self._append(
                "roster",
                f"link-{lower}",
                MemberUnassigned.model_validate(
                    {
                        "member_id": lower,
                        "upper_member_id": upper,
                        "unassigned_on": on,
                        "reason": reason,
                    }
                ),
            )

        start = date(2025, 1, 1)
        for tier in ("committee", "representative", "worker"):
            for lower in tiers[tier]:
                # Links start through 2025 (partial first periods), a few only in 2026.
                on = start + timedelta(days=rng.choice((0, 0, 0, 59, 181, 200, 400, 500)))
                await assign(lower, tier, rng.choice(tiers[uppers[tier]]), on)
        contacts: list[UUID] = []
        day = date(2025, 1, 1)
        while day <= date(2026, 11, 30):
            for lower in rng.sample(sorted(links), 6):
                link, upper, since = links[lower]
                if since > day:
                    continue
                contact = uuid.uuid4()
                contacts.append(contact)
                await self._append(
                    "contacts",
                    f"contact-{contact}",
                    ContactMade(
                        contact_id=contact,
                        link_id=link,
                        upper_member_id=upper,
                        lower_member_id=lower,
                        contacted_on=day,
                        method=rng.choice(("visit", "phone", "meeting", "online")),
                        initiated_by="upper",
                    ),
                )
            event = rng.random()
            workers = [w for w in tiers["worker"] if w in links and links[w][2] < day]
            if event < 0.15 and workers:  # a relink to another representative
                lower = rng.choice(workers)
                await unassign(lower, day, "relinked")
                await assign(lower, "worker", rng.choice(tiers["representative"]), day)
            elif event < 0.22 and workers:  # a departure
                lower = rng.choice(workers)
                await unassign(lower, day, "departed")
                await self._append(
                    "roster",
                    f"member-{lower}",
                    MemberDeparted(member_id=lower, departed_on=day),
                )
            elif event < 0.30 and workers:  # a move to another enterprise, keeping the link
                lower = rng.choice(workers)
                to = rng.choice([e for e in enterprises if e != unit_of[lower]])
                await self._append(
                    "roster",
                    f"member-{lower}",
                    MemberMoved.model_validate(
                        {
                            "member_id": lower,
                            "from_unit_id": unit_of[lower],
                            "to_unit_id": to,
                            "number_index": "0" * 64,
                            "moved_on": day,
                        }
                    ),
                )
                unit_of[lower] = to
            elif event < 0.33 and contacts:  # a contact corrected (maybe into another year)
                corrected = rng.choice(contacts)
                await self._append(
                    "contacts",
                    f"contact-{corrected}",
                    ContactCorrected(
                        contact_id=corrected,
                        contacted_on=day - timedelta(days=rng.choice((1, 40, 300))),
                        method="phone",
                        reason="日期有误",
                    ),
                )
            elif event < 0.36 and len(contacts) > 1:  # a contact retracted
                retracted = contacts.pop(rng.randrange(len(contacts)))
                await self._append(
                    "contacts",
                    f"contact-{retracted}",
                    ContactRetracted(contact_id=retracted, reason="误记"),
                )
            elif event < 0.38:  # a representative becomes a committee member
                member = rng.choice(tiers["representative"])
                await self._append(
                    "roster",
                    f"member-{member}",
                    MemberTierChanged(
                        member_id=member,
                        from_tier="representative",
                        to_tier="committee",
                        changed_on=day,
                    ),
                )
                tiers["representative"].remove(member)
                tiers["committee"].append(member)
            day += timedelta(days=5)
        return {"city": city, "counties": counties, "enterprises": enterprises, "tiers": tiers}
