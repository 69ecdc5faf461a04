"""Events of the feedback service: a suggestion's life, from raised to closed.

The models are the feedback topic's published contract, :mod:`contracts.feedback`; this module
is the feedback service's own name for them (its catalogue is the ``sanlian.events`` entry
point).
"""

from contracts.feedback import (
    CATALOGUE,
    Category,
    Channel,
    Deadline,
    EscalationReason,
    HolderTier,
    IntakeLinkIssued,
    IntakeLinkRevoked,
    IntakeOwner,
    Rating,
    Route,
    SetAsideMark,
    SuggestionAcknowledged,
    SuggestionAnswered,
    SuggestionAssigned,
    SuggestionClosed,
    SuggestionEscalated,
    SuggestionRaised,
    SuggestionRated,
    SuggestionReceived,
    SuggestionReopened,
    SuggestionResolved,
    SuggestionSetAside,
    Verification,
)

__all__ = [
    "CATALOGUE",
    "Category",
    "Channel",
    "Deadline",
    "EscalationReason",
    "HolderTier",
    "IntakeLinkIssued",
    "IntakeLinkRevoked",
    "IntakeOwner",
    "Rating",
    "Route",
    "SetAsideMark",
    "SuggestionAcknowledged",
    "SuggestionAnswered",
    "SuggestionAssigned",
    "SuggestionClosed",
    "SuggestionEscalated",
    "SuggestionRaised",
    "SuggestionRated",
    "SuggestionReceived",
    "SuggestionReopened",
    "SuggestionResolved",
    "SuggestionSetAside",
    "Verification",
]
