"""Command bodies refuse text no store or read model can hold (NUL, unpaired surrogates)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from contacts.commands import RetractContact
from eventspine.text import unstorable_at


def test_the_first_unstorable_string_is_named_by_its_path() -> None:
    assert unstorable_at({"a": "fine", "b": [{"c": "ok"}, {"d": "NUL\x00"}]}) == "b.1.d"
    assert unstorable_at({"note": "lone \ud800"}) == "note"
    assert unstorable_at({"text": "职工 👷 '; DROP TABLE events; -- <script>"}) is None
    assert unstorable_at({"k\x00": 1}) == "k\x00"


def test_a_command_with_a_nul_character_is_refused_naming_the_field() -> None:
    with pytest.raises(ValidationError, match="reason: a NUL character"):
        RetractContact.model_validate({"reason": "typo\x00"})
    assert RetractContact.model_validate({"reason": "<b>typo</b>'--"}).reason == "<b>typo</b>'--"
