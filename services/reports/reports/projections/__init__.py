"""The reports' projections: the rows the compliance view and the escalation queue read.

Both read other services' events, typed by their published contracts (:mod:`contracts`):
the reports never import another service.
"""

from reports.projections.compliance import ComplianceProjection
from reports.projections.suggestions import SuggestionProjection

__all__ = ["ComplianceProjection", "SuggestionProjection"]
