"""Text every store and read model can hold: no NUL character, no unpaired surrogate.

Both are valid in JSON (``"\\u0000"``, ``"\\ud800"``) and so pass request parsing, but
PostgreSQL keeps no NUL in ``text`` or ``jsonb`` and UTF-8 encodes no lone surrogate. A
command carrying one must be refused before anything is stored: an event appended with it
would be stored (sealed personal data hides it from the store) and then fail every read
model that holds the clear text, for good.

Free-text fields of commands also refuse control characters (:data:`ONE_LINE` for names,
:data:`FREE_TEXT` for notes and reasons), which can be stored but show as nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from pydantic import AfterValidator, BaseModel, model_validator

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


# C0 and C1 control characters and DEL. A one-line value (a name) holds none of them, nor a
# line or paragraph separator; free text (a note, a reason) may keep its tabs and line breaks.
# Both are valid JSON and storable, but the others render as nothing, or as another line, on
# every page and export that shows the text, so they are refused where the text comes in.
_CONTROL_IN_LINE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_CONTROL_IN_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _no_control(pattern: re.Pattern[str]) -> Callable[[str], str]:
    def check(value: str) -> str:
        if (found := pattern.search(value)) is not None:
            raise ValueError(
                f"holds a control character (U+{ord(found.group()):04X}) at position "
                f"{found.start()}; remove it"
            )
        return value

    return check


ONE_LINE = AfterValidator(_no_control(_CONTROL_IN_LINE))
"""Refuses a value holding a control character, a line break or a tab (names)."""

FREE_TEXT = AfterValidator(_no_control(_CONTROL_IN_TEXT))
"""Refuses a value holding a control character other than a tab or a line break (notes,
reasons, a suggestion's text)."""
