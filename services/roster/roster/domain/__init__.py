"""The roster's rules: state folded from events, and decisions that return new events.

No I/O here, and no clock: "today" comes in as a value. ``evolve_*`` apply one event to a
state; each ``decide_*`` function checks one command against the current states and returns
the events to append, or raises a ``DomainError`` that names the field and the reason. A
decision that stores personal data returns a :class:`Sealing`: what to seal, once accepted.

- :mod:`~roster.domain.units`: union organisations (registered, renamed, closed);
- :mod:`~roster.domain.members`: members (registered, details changed, moved) and the
  external numbers they hold in their unit;
- :mod:`~roster.domain.links`: links between adjacent tiers, the span policy, and when a link
  may end (not before it started, nor on or before a contact logged on it);
- :mod:`~roster.domain.departures`: a tier change, a departure, being forgotten.
"""

from roster.domain.departures import decide_change_tier, decide_depart_member, decide_forget_member
from roster.domain.handbook import Handbook, decide_publish_handbook, evolve_handbook
from roster.domain.links import (
    TIER_ABOVE,
    TIER_NAMES,
    LatestContacts,
    LinkChangeBeforeContactError,
    LinkChangeBeforeStartError,
    SpanPolicy,
    decide_change_span_policy,
    decide_link,
    decide_link_member,
    decide_relink_member,
    decide_unlink,
    decide_unlink_member,
    end_all_links,
    evolve_policy,
    require_link_may_end,
    require_links_may_end,
)
from roster.domain.members import (
    NUMBER_TAKEN,
    Member,
    NumberClaim,
    PersonalData,
    Sealing,
    Status,
    decide_change_details,
    decide_move_member,
    decide_register_member,
    effective_date,
    evolve_claim,
    evolve_member,
    require_active,
    require_readable,
)
from roster.domain.units import (
    PARENT_KINDS,
    Unit,
    decide_close_unit,
    decide_register_unit,
    decide_rename_unit,
    evolve_unit,
    require_unit,
)

__all__ = [
    "NUMBER_TAKEN",
    "PARENT_KINDS",
    "TIER_ABOVE",
    "TIER_NAMES",
    "Handbook",
    "LatestContacts",
    "LinkChangeBeforeContactError",
    "LinkChangeBeforeStartError",
    "Member",
    "NumberClaim",
    "PersonalData",
    "Sealing",
    "SpanPolicy",
    "Status",
    "Unit",
    "decide_change_details",
    "decide_change_span_policy",
    "decide_change_tier",
    "decide_close_unit",
    "decide_depart_member",
    "decide_forget_member",
    "decide_link",
    "decide_link_member",
    "decide_move_member",
    "decide_publish_handbook",
    "decide_register_member",
    "decide_register_unit",
    "decide_relink_member",
    "decide_rename_unit",
    "decide_unlink",
    "decide_unlink_member",
    "effective_date",
    "end_all_links",
    "evolve_claim",
    "evolve_handbook",
    "evolve_member",
    "evolve_policy",
    "evolve_unit",
    "require_active",
    "require_link_may_end",
    "require_links_may_end",
    "require_readable",
    "require_unit",
]
