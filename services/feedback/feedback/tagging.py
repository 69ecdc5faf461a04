"""Tags: the federation's vocabulary (stable codes, Chinese and English words, keywords) and
the pure rules that decide a suggestion's tags.

A raiser chooses tags on the form; when they choose none, the vocabulary's keywords suggest
some from the text (:func:`suggest`), so that themes do not depend on every worker ticking
boxes. A holder can set them again. What is recorded (``SuggestionTagged``) holds codes only:
the text stays sealed.
"""

from __future__ import annotations

import tomllib
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from uuid import UUID

from eventspine.errors import DomainError
from feedback import events as ev
from feedback.domain import _holder
from feedback.state import MemberInfo, Suggestion

MAX_TAGS = 10
SUGGESTED_AT_MOST = 3
"""A text that hits many keywords is vague, not about everything: keep the first few."""


@dataclass(frozen=True)
class Tag:
    """One tag of the vocabulary."""

    code: str
    zh: str
    en: str
    keywords: tuple[str, ...] = ()


@dataclass(frozen=True)
class Vocabulary:
    """The federation's tags, in the order people see them."""

    tags: tuple[Tag, ...]

    def codes(self) -> tuple[str, ...]:
        """Every code, in order."""
        return tuple(t.code for t in self.tags)


def parse(text: str) -> Vocabulary:
    """A vocabulary from its TOML text (``[[tag]]`` tables: code, zh, en, keywords)."""
    data = tomllib.loads(text)
    tags = []
    for row in data.get("tag", []):
        code = str(row["code"])
        if not _is_code(code):
            raise ValueError(f"tag code {code!r}: lowercase letters, digits and _")
        keywords = tuple(_fold(str(k)) for k in row.get("keywords", []) if str(k).strip())
        tags.append(Tag(code, str(row["zh"]), str(row.get("en", code)), keywords))
    codes = [t.code for t in tags]
    if len(codes) != len(set(codes)):
        raise ValueError("a tag code is listed twice")
    return Vocabulary(tuple(tags))


def load(path: str | None = None) -> Vocabulary:
    """The vocabulary of ``path``, or the one committed beside this module."""
    if path:
        return parse(Path(path).read_text(encoding="utf-8"))
    return parse(files("feedback").joinpath("tags.toml").read_text(encoding="utf-8"))


def _is_code(code: str) -> bool:
    return (
        2 <= len(code) <= 40
        and code[0].isascii()
        and code[0].islower()
        and all(c.isascii() and (c.islower() or c.isdigit() or c == "_") for c in code)
    )


def _fold(text: str) -> str:
    # Full-width letters and digits as their ASCII forms, letters in lower case.
    return unicodedata.normalize("NFKC", text).casefold()


def suggest(text: str, vocabulary: Vocabulary) -> tuple[str, ...]:
    """The tags whose keywords the text contains, in the vocabulary's order (a few at most)."""
    folded = _fold(text)
    found = [t.code for t in vocabulary.tags if any(k in folded for k in t.keywords)]
    return tuple(found[:SUGGESTED_AT_MOST])


def chosen(codes: Sequence[str], vocabulary: Vocabulary) -> tuple[str, ...]:
    """The codes a form sent, checked against the vocabulary, repeats dropped, in order."""
    known = vocabulary.codes()
    for code in codes:
        if code not in known:
            raise DomainError(
                "tags", f"no such tag: {code!r}", code="tag_unknown", tag=str(code)[:40]
            )
    return tuple(dict.fromkeys(codes))[:MAX_TAGS]


def on_arrival(
    suggestion_id: UUID,
    codes: Sequence[str],
    text: str,
    vocabulary: Vocabulary,
    raised_by: UUID | None,
) -> list[ev.SuggestionTagged]:
    """The tags a new suggestion carries: those chosen, or else those its text suggests
    (nothing when neither gives any)."""
    picked = chosen(codes, vocabulary)
    source: ev.TagSource = "chosen"
    if not picked:
        picked, source = suggest(text, vocabulary), "suggested"
    if not picked:
        return []
    return [
        ev.SuggestionTagged(
            suggestion_id=suggestion_id, tags=list(picked), source=source, tagged_by=raised_by
        )
    ]


def decide_retag(
    state: Suggestion,
    current: Sequence[str],
    actor: MemberInfo,
    codes: Sequence[str],
    vocabulary: Vocabulary,
) -> list[ev.SuggestionTagged]:
    """A holder sets the tags again: the member who holds it, or (at the top of the chain)
    a leadership member. The same tags again change nothing."""
    _holder(state, actor)  # the same rule as every holder's step
    picked = chosen(codes, vocabulary)
    if list(picked) == list(current):
        return []
    return [
        ev.SuggestionTagged(
            suggestion_id=state.suggestion_id,
            tags=list(picked),
            source="retagged",
            tagged_by=actor.member_id,
        )
    ]


def current_tags(events: Sequence[object]) -> list[str]:
    """The tags as the suggestion's decoded events leave them."""
    tags: list[str] = []
    for event in events:
        if isinstance(event, ev.SuggestionTagged):
            tags = list(event.tags)
    return tags
