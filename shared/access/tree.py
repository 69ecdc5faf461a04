"""A service's view of who is below whom, from its own replica of the roster's links."""

from __future__ import annotations

from uuid import UUID

from eventspine.projection import Tx


class LinkTree:
    """Answers "the member and everyone below them" from one query of current links.

    ``edges`` is a ``SELECT upper, lower`` over the service's own replica (only current,
    active links): each service decides access from what it already holds, never by asking
    the roster service.
    """

    def __init__(self, db: Tx, edges: str) -> None:
        self.db = db
        self.edges = edges

    async def reach(self, member_id: UUID) -> set[UUID]:
        """The member and everyone below them through current links."""
        rows = await self.db.fetch(
            f"WITH RECURSIVE edges(upper_id, lower_id) AS ({self.edges}), "
            "reach(id) AS (SELECT CAST($1 AS TEXT) UNION "
            "SELECT e.lower_id FROM edges e JOIN reach r ON e.upper_id = r.id) "
            "SELECT id FROM reach",
            str(member_id),
        )
        return {UUID(str(row[0])) for row in rows}
