"""Languages of the frontend: message catalogues (gettext .po, read with Babel at start) and
locale-aware formatting of dates and numbers.

Message ids are English; ``zh_CN`` is the default language, English the other choice. The
catalogues are read from the committed ``.po`` files, so no compile step is needed.
"""

from __future__ import annotations

import gettext
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from pathlib import Path

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent

LOCALE_DIR = Path(__file__).parent / "locale"
LANGUAGES = {"zh_CN": "中文", "en": "English"}
DEFAULT = "zh_CN"
COOKIE = "sanlian_lang"
PATTERNS = {
    "zh_CN": {"date": "y年M月d日", "day": "M月d日", "time": "HH:mm"},
    "en": {"date": "d MMM y", "day": "d MMM", "time": "HH:mm"},
}
"""One way of writing dates per language (``2026年12月3日``, ``3 Dec 2026``): every page, table
and deadline says a day the same way; a moment adds the 24-hour time."""


def N_(message: str) -> str:
    """Mark a message for extraction; it is translated where it is shown."""
    return message


class Said(str):
    """A catalogue message with values to fill into its ``%(name)s`` placeholders once it is
    translated: a label (itself a ``Said``) is translated, a date written as the language
    writes dates, a list joined, a number grouped. It is a ``str``, so it goes wherever a
    message id goes; ``Language.gettext`` (the templates' ``_``) fills it in."""

    params: dict[str, object]

    def __new__(cls, message: str, params: dict[str, object] | None = None) -> Said:
        said = super().__new__(cls, message)
        said.params = dict(params or {})
        return said


class _Values(dict[str, str]):
    # A value the service did not send reads as a dash rather than breaking the sentence.
    def __missing__(self, key: str) -> str:
        return "—"


class Catalogue(gettext.NullTranslations):
    """Translations read from a .po file; a missing or empty entry falls back to the id."""

    def __init__(self, messages: dict[str, str | tuple[str, ...]]) -> None:
        super().__init__()
        self.messages = messages

    def gettext(self, message: str) -> str:
        found = self.messages.get(message)
        return found if isinstance(found, str) and found else message

    def ngettext(self, msgid1: str, msgid2: str, n: int) -> str:
        found = self.messages.get(msgid1)
        if isinstance(found, tuple) and all(found):
            # Both our languages have at most two plural forms; Chinese has one.
            return found[0] if len(found) == 1 or n == 1 else found[1]
        return msgid1 if n == 1 else msgid2


def load_catalogue(language: str) -> Catalogue:
    """The catalogue of ``language`` (English, the ids' language, needs none)."""
    path = LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"
    if not path.exists():
        return Catalogue({})
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=language)
    messages: dict[str, str | tuple[str, ...]] = {}
    for message in catalog:
        if not message.id or message.fuzzy:
            continue
        key = message.id if isinstance(message.id, str) else message.id[0]
        string = message.string
        messages[key] = string if isinstance(string, str) else tuple(string or ())
    return Catalogue(messages)


def _local(moment: datetime, zone: tzinfo) -> datetime:
    """``moment`` in the time zone ``zone`` (a naive one is taken as UTC)."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(zone)


@dataclass(frozen=True)
class Language:
    """One language: its catalogue and its Babel locale."""

    code: str
    catalogue: Catalogue
    locale: Locale
    zone: tzinfo = UTC
    """The federation's time zone: moments are shown as its clocks read them."""

    @property
    def html_lang(self) -> str:
        """The ``lang`` attribute: ``zh-CN`` or ``en``."""
        return self.code.replace("_", "-")

    def gettext(self, message: str) -> str:
        """Translate one message; a :class:`Said` gets its values filled in."""
        translated = self.catalogue.gettext(message)
        if not isinstance(message, Said) or not message.params:
            return translated
        values = _Values({k: self._value(v) for k, v in message.params.items()})
        try:
            return translated % values
        except (TypeError, ValueError):  # a translation with a broken placeholder
            return translated

    def _value(self, value: object) -> str:
        if isinstance(value, Said):
            return self.gettext(value)
        if isinstance(value, date):
            return self.date(value)
        if isinstance(value, list | tuple):
            joiner = "、" if self.code.startswith("zh") else ", "
            return joiner.join(self._value(v) for v in value)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return self.number(value)
        return str(value)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        """Translate a message that depends on a count."""
        return self.catalogue.ngettext(singular, plural, n)

    def _pattern(self, kind: str) -> str:
        return PATTERNS.get(self.code, PATTERNS["en"])[kind]

    def day(self, value: date | str | None) -> str:
        """A day of the year without the year (``7月1日``, ``1 Jul``), where the year is said."""
        if value is None or value == "":
            return "—"
        if isinstance(value, str):
            value = date.fromisoformat(value[:10])
        return format_date(value, format=self._pattern("day"), locale=self.locale)

    def date(self, value: date | datetime | str | None) -> str:
        """A date, the one way this language writes dates (``2026年12月3日``, ``3 Dec 2026``);
        a moment is first turned into the federation's date."""
        if value is None or value == "":
            return "—"
        if isinstance(value, str):
            value = datetime.fromisoformat(value) if len(value) > 10 else date.fromisoformat(value)
        if isinstance(value, datetime):
            value = _local(value, self.zone).date()
        return format_date(value, format=self._pattern("date"), locale=self.locale)

    def datetime(self, value: datetime | str | None) -> str:
        """A moment in the federation's time zone: its date as :meth:`date` writes it, then
        the time (``2026年12月6日 10:52``, ``6 Dec 2026 10:52``)."""
        if value is None or value == "":
            return "—"
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        pattern = self._pattern("date") + " " + self._pattern("time")
        return format_datetime(_local(value, self.zone), format=pattern, locale=self.locale)

    def number(self, value: float | int | None, digits: int = 0) -> str:
        """A number with the locale's grouping."""
        if value is None:
            return "—"
        pattern = "#,##0" + ("." + "0" * digits if digits else "")
        return format_decimal(value, format=pattern, locale=self.locale)

    def percent(self, value: float | None) -> str:
        """A share given in percent (0 to 100), one decimal."""
        if value is None:
            return "—"
        return format_percent(value / 100, format="#,##0.0%", locale=self.locale)


class Languages:
    """Every language's catalogue, read once at start."""

    def __init__(self, zone: tzinfo = UTC) -> None:
        self.by_code = {
            code: Language(code, load_catalogue(code), Locale.parse(code), zone)
            for code in LANGUAGES
        }

    def pick(self, code: str | None) -> Language:
        """The language named by ``code``, or the default."""
        return self.by_code.get(code or "", self.by_code[DEFAULT])


CURRENT: ContextVar[Language] = ContextVar("language")
"""The language of the page being rendered (the templates' ``_`` reads it)."""


def current_gettext(message: str) -> str:
    """``_`` in templates: translate into the current page's language."""
    return CURRENT.get().gettext(message)


def current_ngettext(singular: str, plural: str, n: int) -> str:
    """``ngettext`` in templates."""
    return CURRENT.get().catalogue.ngettext(singular, plural, n)


Translate = Callable[[str], str]
