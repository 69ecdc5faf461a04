"""The tags each suggestion carries now (``r_suggestion_tags``), kept by the suggestion
projection from ``SuggestionTagged``: the latest tagging replaces the earlier ones."""

from __future__ import annotations

from contracts.feedback import SuggestionTagged
from eventspine.projection import Tx

TABLE = "r_suggestion_tags"
COLUMNS = "suggestion_id TEXT NOT NULL, tag TEXT NOT NULL, PRIMARY KEY (suggestion_id, tag)"


async def apply(tx: Tx, prefix: str, event: SuggestionTagged) -> None:
    """Replace the suggestion's tags with the event's."""
    sid = str(event.suggestion_id)
    await tx.execute(f"DELETE FROM {prefix}{TABLE} WHERE suggestion_id = $1", sid)
    for tag in dict.fromkeys(event.tags):
        await tx.execute(f"INSERT INTO {prefix}{TABLE} VALUES ($1, $2)", sid, tag)
