"""Text every store and read model can hold: no NUL character, no unpaired surrogate.

Both are valid in JSON (``"\\u0000"``, ``"\\ud800"``) and so pass request parsing, but
PostgreSQL keeps no NUL in ``text`` or ``jsonb`` and UTF-8 encodes no lone surrogate. A
command carrying one must be refused before anything is stored: an event appended with it
would be stored (sealed personal data hides it from the store) and then fail every read
model that holds the clear text, for good.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, model_validator

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def unstorable_at(value: Any, path: str = "") -> str | None:
    """The dotted path of the first string in ``value`` that cannot be stored, if any."""
    if isinstance(value, str):
        return path if _UNSTORABLE.search(value) else None
    if isinstance(value, dict):
        items: Any = value.items()
    elif isinstance(value, list | tuple):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        where = f"{path}.{key}" if path else str(key)
        if isinstance(key, str) and _UNSTORABLE.search(key):
            return where
        if (found := unstorable_at(item, where)) is not None:
            return found
    return None


class StorableText(BaseModel):
    """Base of request bodies: refuses text holding a NUL character or an unpaired surrogate
    (a 422 naming the field), before a command can store it."""

    @model_validator(mode="before")
    @classmethod
    def _storable(cls, data: Any) -> Any:
        if (where := unstorable_at(data)) is not None:
            raise ValueError(
                f"{where or 'the body'}: a NUL character or an unpaired surrogate cannot be stored"
            )
        return data
