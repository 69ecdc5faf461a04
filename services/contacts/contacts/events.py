"""Events of the contacts service: contacts logged on roster links, and their corrections.

The models are the contacts topic's published contract, :mod:`contracts.contacts`; this module
is the contacts service's own name for them (its catalogue is the ``sanlian.events`` entry point).
"""

from contracts.contacts import (
    CATALOGUE,
    ContactCorrected,
    ContactMade,
    ContactRetracted,
    Initiator,
    Method,
    Topic,
)

__all__ = [
    "CATALOGUE",
    "ContactCorrected",
    "ContactMade",
    "ContactRetracted",
    "Initiator",
    "Method",
    "Topic",
]
