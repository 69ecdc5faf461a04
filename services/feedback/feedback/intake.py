"""The workers' door: intake links, suggestions that arrive by them, and the worker's rating.

Pure rules, as in :mod:`feedback.domain`: each ``decide_*`` takes the state and the facts the
handler found and returns the events to append (or raises a ``DomainError`` naming the field).

An intake link belongs to an owner: a representative (what arrives is held by them) or an
enterprise union (held by the member the link names). One link per owner is live; issuing a
new one revokes the old in the same append, so a lost poster is withdrawn by printing a new
one. The links of one owner are one stream (``intake-<owner>-<id>``), so "one live link" is
checked inside one append.

A worker's suggestion (:class:`~feedback.events.SuggestionReceived`) has no raiser in the
roster: whoever holds its follow-up code follows it, rates it and may reopen it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from uuid import UUID

from eventspine.errors import DomainError, NotFoundError, NotPermittedError, StateConflictError
from eventspine.events import DomainEvent
from feedback import events as ev
from feedback.domain import Decision, Unsealed
from feedback.events import IntakeOwner
from feedback.state import HOLDER_TIERS, MemberInfo, Routing, Suggestion


class LinkRevokedError(StateConflictError):
    """A signed link that was revoked (or replaced): it opens nothing any more."""

    code = "intake_link_revoked"

    def __init__(self) -> None:
        super().__init__("link", "this link was revoked")


class LinkInvalidError(NotFoundError):
    """A token this installation did not sign, or names no link: a forged or mistyped link."""

    code = "intake_link_invalid"

    def __init__(self) -> None:
        super().__init__("link", "this link is not valid")


class TooManyError(DomainError):
    """A link (or a client) sent more than its limit allows: retry later (HTTP 429)."""

    status = 429
    code = "intake_rate_limited"


class DuplicateSuggestionError(StateConflictError):
    """The same text arrived by the same link lately."""

    code = "intake_duplicate"

    def __init__(self) -> None:
        super().__init__("text", "the same suggestion arrived by this link already")


@dataclass(frozen=True)
class IntakeOwnerState:
    """The links of one owner: the live one (None: none is live) and every one issued."""

    live: UUID | None = None
    holder_id: UUID | None = None
    issued: frozenset[UUID] = field(default_factory=frozenset)


def evolve_owner(state: IntakeOwnerState, event: DomainEvent) -> IntakeOwnerState:
    """Apply one event of an owner's link stream."""
    match event:
        case ev.IntakeLinkIssued():
            return IntakeOwnerState(event.link_id, event.holder_id, state.issued | {event.link_id})
        case ev.IntakeLinkRevoked():
            if state.live == event.link_id:
                return replace(state, live=None, holder_id=None)
    return state


@dataclass(frozen=True)
class LinkInfo:
    """An intake link as the read model knows it."""

    link_id: UUID
    owner: IntakeOwner
    owner_id: UUID
    unit_id: UUID
    holder_id: UUID
    revoked: bool


def _active_holder(member: MemberInfo | None, field_name: str) -> MemberInfo:
    if member is None or not member.active or member.tier not in HOLDER_TIERS:
        raise StateConflictError(
            field_name,
            "must be an active representative, committee or leadership member",
            code="holder_not_eligible",
        )
    return member


def decide_issue(
    state: IntakeOwnerState,
    link_id: UUID,
    owner: IntakeOwner,
    actor: MemberInfo,
    actor_unit: UUID | None,
    holder: MemberInfo | None,
    holder_unit: UUID | None,
    unit_id: UUID | None,
) -> list[DomainEvent]:
    """Issue a new link for ``owner`` (the actor themself, or ``unit_id`` with ``holder``
    receiving), revoking the live one."""
    if not actor.active:
        raise NotPermittedError(
            "actor", "the acting member is not an active member", code="actor_not_active"
        )
    if owner == "representative":
        if actor.tier not in HOLDER_TIERS:
            raise NotPermittedError(
                "actor",
                "a representative, committee or leadership member issues their own link",
                code="intake_link_not_permitted",
            )
        holder_id, unit = actor.member_id, actor_unit
    else:
        if actor.tier not in ("leader", "committee"):
            raise NotPermittedError(
                "actor",
                "a committee or leadership member issues an enterprise union's link",
                code="intake_link_not_permitted",
            )
        if unit_id is None:
            raise DomainError(
                "unit_id", "an enterprise union's link names the unit", code="required"
            )
        chosen = _active_holder(holder, "holder_id")
        if holder_unit != unit_id:
            raise StateConflictError(
                "holder_id",
                "the member who receives must belong to the unit",
                code="holder_not_in_unit",
            )
        holder_id, unit = chosen.member_id, unit_id
    if unit is None:
        raise StateConflictError(
            "actor", "the roster replica has not caught up yet; retry", code="replica_behind"
        )
    if link_id in state.issued:
        raise StateConflictError("link_id", "a link with this id exists", code="intake_link_exists")
    events: list[DomainEvent] = []
    if state.live is not None:
        events.append(
            ev.IntakeLinkRevoked(link_id=state.live, revoked_by=actor.member_id, reissued=True)
        )
    events.append(
        ev.IntakeLinkIssued(
            link_id=link_id,
            owner=owner,
            unit_id=unit,
            holder_id=holder_id,
            issued_by=actor.member_id,
        )
    )
    return events


def decide_revoke(state: IntakeOwnerState, link: LinkInfo, actor: MemberInfo) -> list[DomainEvent]:
    """Withdraw a live link: its holder or a leadership member does."""
    allowed = actor.active and (actor.member_id == link.holder_id or actor.tier == "leader")
    if not allowed:
        raise NotPermittedError(
            "actor",
            "only the link's holder or a leadership member revokes it",
            code="intake_revoke_not_permitted",
        )
    if state.live != link.link_id:
        raise StateConflictError(
            "link_id", "this link is already revoked", code="intake_link_revoked"
        )
    return [ev.IntakeLinkRevoked(link_id=link.link_id, revoked_by=actor.member_id, reissued=False)]


@dataclass(frozen=True)
class Arrival:
    """A suggestion to receive: ``build(text, contact)`` makes the event once the text (and
    the name and phone, if given) are sealed under the suggestion's key."""

    text: str
    contact: dict[str, str | None] | None
    build: Callable[[str, str | None], DomainEvent]


def decide_receive(
    link: LinkInfo,
    suggestion_id: UUID,
    existing: Suggestion | None,
    *,
    category: ev.Category,
    text: str,
    name: str | None,
    phone: str | None,
    worker_id: UUID | None,
    follow_up_index: str,
    routing: Routing,
    recent: int,
    per_hour: int,
    duplicate: bool,
) -> Arrival:
    """Receive a worker's suggestion by a live link, unless the link took ``per_hour`` in the
    last hour (``recent``) or the same text arrived by it lately (``duplicate``)."""
    if link.revoked:
        raise LinkRevokedError()
    if existing is not None:
        raise StateConflictError(
            "suggestion_id", "a suggestion with this id exists", code="suggestion_exists"
        )
    if recent >= per_hour:
        raise TooManyError(
            "link", f"this link took {per_hour} suggestions in the last hour; try again later"
        )
    if duplicate:
        raise DuplicateSuggestionError()
    contact = {"name": name, "phone": phone} if (name or phone) else None
    verification: ev.Verification = (
        "anonymous" if not phone else ("matched" if worker_id else "unverified")
    )

    def build(sealed_text: str, sealed_contact: str | None) -> DomainEvent:
        return ev.SuggestionReceived(
            suggestion_id=suggestion_id,
            link_id=link.link_id,
            unit_id=link.unit_id,
            category=category,
            text=sealed_text,
            contact=sealed_contact,
            verification=verification,
            worker_id=worker_id,
            follow_up_index=follow_up_index,
            holder_id=routing.holder_id,
            holder_tier=routing.holder_tier,
            passed_over=list(routing.passed_over),
        )

    return Arrival(text, contact, build)


def decide_rate(
    state: Suggestion,
    rated_by: UUID | None,
    rating: ev.Rating,
    comment: str | None,
    reopen: bool,
) -> Decision:
    """The raiser (``rated_by``; None: the worker who holds the follow-up code, checked by
    the handler) rates an answered or resolved suggestion; not solved, they may reopen it."""
    if rated_by is not None and state.raised_by != rated_by:
        raise NotPermittedError(
            "actor", "only the member who raised the suggestion may rate it", code="raiser_only"
        )
    if state.status not in ("answered", "resolved"):
        raise StateConflictError(
            "status",
            f"cannot rate a suggestion that is {state.status}; it must be answered or resolved",
            code="wrong_status",
        )
    if reopen and rating != "dissatisfied":
        raise DomainError(
            "reopen",
            "only a dissatisfied rating reopens the suggestion",
            code="reopen_needs_dissatisfied",
        )

    def build(sealed: str | None) -> DomainEvent:
        return ev.SuggestionRated(
            suggestion_id=state.suggestion_id,
            rating=rating,
            comment=sealed,
            rated_by=rated_by,
            reopened=reopen,
            holder_id=state.holder_id,
            holder_tier=state.holder_tier,
            level=state.level,
        )

    if comment:
        return [Unsealed("comment", comment, build)]
    return [build(None)]


def decide_set_aside(
    state: Suggestion,
    actor: MemberInfo,
    mark: ev.SetAsideMark,
    reason: str,
    duplicate_of: UUID | None,
    original: Suggestion | None,
) -> Decision:
    """The holder sets a waiting suggestion aside as spam, or as a duplicate of
    ``duplicate_of`` (``original``: that suggestion, None if unknown)."""
    if state.holder_id is None:
        if not (actor.active and actor.tier == "leader"):
            raise NotPermittedError(
                "actor",
                "the suggestion is with the federation leadership: a leadership member acts",
                code="leadership_acts",
            )
    elif state.holder_id != actor.member_id:
        raise NotPermittedError("actor", "you do not hold this suggestion", code="not_holder")
    if state.status not in ("held", "acknowledged"):
        raise StateConflictError(
            "status",
            f"cannot set aside a suggestion that is {state.status}; it must be held or "
            "acknowledged",
            code="wrong_status",
        )
    if mark == "duplicate":
        if duplicate_of is None:
            raise DomainError(
                "duplicate_of", "name the suggestion this one repeats", code="required"
            )
        if original is None or duplicate_of == state.suggestion_id:
            raise NotFoundError(
                "duplicate_of", "no such other suggestion", code="suggestion_not_found"
            )
    elif duplicate_of is not None:
        raise DomainError(
            "duplicate_of",
            "only a duplicate names another suggestion",
            code="duplicate_of_not_allowed",
        )
    return [
        Unsealed(
            "reason",
            reason,
            lambda sealed: ev.SuggestionSetAside(
                suggestion_id=state.suggestion_id,
                mark=mark,
                duplicate_of=duplicate_of,
                reason=sealed,
                set_aside_by=actor.member_id,
                level=state.level,
            ),
        )
    ]
