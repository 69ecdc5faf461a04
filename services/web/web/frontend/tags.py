"""The federation's tags as the pages show them: codes with the words in the user's language
(the feedback service's vocabulary, ``GET /tags``)."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from web.frontend.deps import Api, as_list
from web.frontend.rendering import language_of


async def tag_options(api: Api, request: Request) -> list[tuple[str, str]]:
    """``(code, words)`` of every tag, in the vocabulary's order."""
    chinese = language_of(request).code.startswith("zh")
    tags: list[dict[str, Any]] = await api.get("feedback", "/tags")
    return [(t["code"], t["name"] if chinese else t["name_en"]) for t in tags]


def chosen_tags(form: dict[str, Any]) -> list[str]:
    """The tags a form's checkboxes chose (none: an empty list)."""
    return [str(code) for code in as_list(form.get("tags")) if code]
