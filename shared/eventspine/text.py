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
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, GetCoreSchemaHandler, GetJsonSchemaHandler, model_validator
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

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
            raise PydanticCustomError(
                "unstorable_text",
                "{field}: a NUL character or an unpaired surrogate cannot be stored",
                {"field": where or "the body"},
            )
        return data


# C0 and C1 control characters and DEL. A one-line value (a name) holds none of them, nor a
# line or paragraph separator; free text (a note, a reason) may keep its tabs and line breaks.
# Both are valid JSON and storable, but the others render as nothing, or as another line, on
# every page and export that shows the text, so they are refused where the text comes in.
_LINE_CONTROLS = "\\x00-\\x1f\\x7f-\\x9f\\u2028\\u2029"
_TEXT_CONTROLS = "\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f"


@dataclass(frozen=True)
class NoControl:
    """Refuses text holding one of ``controls`` (a regex character range) with the field code
    ``control_character``, and says so in the JSON Schema: a pattern of text with at least one
    character that is not white space (what stripping leaves) and none of ``controls``."""

    controls: str

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        found = re.compile(f"[{self.controls}]")

        def check(value: str) -> str:
            if (hit := found.search(value)) is not None:
                char = f"U+{ord(hit.group()):04X}"
                raise PydanticCustomError(
                    "control_character",
                    "holds a control character ({char}) at position {position}; remove it",
                    {"char": char, "position": hit.start()},
                )
            return value

        return core_schema.no_info_after_validator_function(check, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        described = handler(schema)
        c = self.controls
        described["pattern"] = f"^[^{c}]*[^\\s{c}][^{c}]*$"
        return described


ONE_LINE = NoControl(_LINE_CONTROLS)
"""Refuses a value holding a control character, a line break or a tab (names)."""
FREE_TEXT = NoControl(_TEXT_CONTROLS)
"""Refuses a value holding a control character other than a tab or a line break (notes,
reasons, a suggestion's text)."""
