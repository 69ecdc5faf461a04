"""An import report's problems in the user's language.

The roster reports each problem in English words of its own (the same for every file, some
with a value inside); this module turns the ones it knows into catalogue messages, and leaves
any other as the roster wrote it.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from web.frontend.i18n import N_, Language
from web.frontend.labels import TIER_LABELS, UNIT_KIND_LABELS

SHEET_LABELS = {
    "units": N_("Units sheet"),
    "members": N_("Members sheet"),
    "links": N_("Links sheet"),
}
EXACT = {
    "a value is required": N_("A value is required."),
    "a date is written YYYY-MM-DD": N_("Write the date as YYYY-MM-DD, for example 2026-03-15."),
    "missing column": N_("This column is missing."),
    "the column appears twice": N_("The column appears twice."),
    "a value outside the header's columns": N_("A value stands outside the header's columns."),
    "unknown sheet: a workbook holds one sheet each named units, members and links": N_(
        "Unknown sheet: a workbook holds the sheets 单位, 成员 and 结对 "
        "(or units, members and links)."
    ),
    "no union organisation has this code in the file or the roster": N_(
        "No union organisation has this code in the file or the roster."
    ),
    "no member has this unit code and external number in the file or the roster": N_(
        "No member has this unit code and number in the file or the roster."
    ),
    "the roster holds a union organisation with this code under another name, kind or parent; "
    "an import adds, it never changes": N_(
        "The roster holds a union organisation with this code under another name, kind or "
        "parent; an import adds, it never changes."
    ),
    "this number is already used by a member of the unit": N_(
        "This number is already used by a member of the unit."
    ),
    "a city federation has no parent organisation": N_(
        "A city federation has no parent organisation."
    ),
    "a member cannot keep in contact with themself": N_(
        "A member cannot keep in contact with themself."
    ),
    "is in the future": N_("The date is in the future."),
}
Translate = Callable[[Language, re.Match[str]], str]


def _tier(lang: Language, name: str) -> str:
    codes = {"leadership member": "leader", "committee member": "committee"}
    code = codes.get(name, name)
    return lang.gettext(TIER_LABELS[code]) if code in TIER_LABELS else name


def _kind(lang: Language, name: str) -> str:
    return lang.gettext(UNIT_KIND_LABELS[name]) if name in UNIT_KIND_LABELS else name


def _options(lang: Language, text: str) -> str:
    """``'leader', 'committee' or 'worker'`` in the page's words (班子成员、全委会委员或职工)."""
    codes = re.findall(r"'([^']*)'", text)
    names = [_kind(lang, c) if c in UNIT_KIND_LABELS else _tier(lang, c) for c in codes]
    if len(names) < 2:
        return "".join(names)
    comma = lang.gettext(N_(", "))
    return comma.join(names[:-1]) + lang.gettext(N_(" or ")) + names[-1]


PATTERNS: list[tuple[re.Pattern[str], Translate]] = [
    (
        re.compile(r"^(?P<what>.+) \(first in row (?P<row>\d+)\)$"),
        lambda lang, m: (
            lang.gettext(N_("%(what)s (first in row %(row)s)"))
            % {"what": translate(lang, m["what"]).rstrip("。."), "row": m["row"]}
        ),
    ),
    (
        re.compile(r"^the code appears again$"),
        lambda lang, m: lang.gettext(N_("The code appears again.")),
    ),
    (
        re.compile(r"^the number appears again in this unit$"),
        lambda lang, m: lang.gettext(N_("The number appears again in this unit.")),
    ),
    (
        re.compile(r"^a member has one upper member; it is linked again$"),
        lambda lang, m: lang.gettext(N_("A member has one upper member; it is linked again.")),
    ),
    (
        re.compile(r"^column (?P<n>\d+) has no header$"),
        lambda lang, m: lang.gettext(N_("Column %(n)s has no header.")) % {"n": m["n"]},
    ),
    (
        re.compile(r"^unknown column; the columns are (?P<names>.+)$"),
        lambda lang, m: (
            lang.gettext(N_("Unknown column; the columns are %(names)s.")) % {"names": m["names"]}
        ),
    ),
    (
        re.compile(
            r"^the roster holds a member with this unit code and external number with "
            r"another (?P<what>[a-z_, ]+); an import adds, it never changes$"
        ),
        lambda lang, m: (
            lang.gettext(
                N_(
                    "The roster holds this member with another %(what)s; "
                    "an import adds, it never changes."
                )
            )
            % {"what": m["what"]}
        ),
    ),
    (
        re.compile(r"^the union organisation '(?P<name>.+)' is closed$"),
        lambda lang, m: (
            lang.gettext(N_("The union organisation %(name)s is closed.")) % {"name": m["name"]}
        ),
    ),
    (
        re.compile(r"^the member has (?P<status>\w+); the import does not bring members back$"),
        lambda lang, m: lang.gettext(
            N_("The member has left the roster; an import does not bring members back.")
        ),
    ),
    (
        re.compile(r"^a (?P<kind>\w+) needs a parent organisation$"),
        lambda lang, m: (
            lang.gettext(N_("A %(kind)s needs a parent organisation."))
            % {"kind": _kind(lang, m["kind"])}
        ),
    ),
    (
        re.compile(r"^a (?P<kind>\w+) belongs under a (?P<parents>.+)$"),
        lambda lang, m: (
            lang.gettext(N_("A %(kind)s belongs under a %(parents)s."))
            % {
                "kind": _kind(lang, m["kind"]),
                "parents": lang.gettext(N_(" or ")).join(
                    _kind(lang, p) for p in m["parents"].split(" or ")
                ),
            }
        ),
    ),
    (
        re.compile(
            r"^a (?P<lower>[a-z ]+) is linked under a (?P<upper>[a-z ]+), not a (?P<was>[a-z ]+)$"
        ),
        lambda lang, m: (
            lang.gettext(N_("A %(lower)s is linked under a %(upper)s, not a %(was)s."))
            % {
                "lower": _tier(lang, m["lower"]),
                "upper": _tier(lang, m["upper"]),
                "was": _tier(lang, m["was"]),
            }
        ),
    ),
    (
        re.compile(
            r"^the span of this (?P<tier>[a-z ]+) is full \((?P<n>\d+) of (?P<target>\d+)\); "
            r"give an override reason to exceed it$"
        ),
        lambda lang, m: (
            lang.gettext(
                N_(
                    "This %(tier)s already keeps in contact with %(n)s of %(target)s; "
                    "give a reason to exceed it."
                )
            )
            % {"tier": _tier(lang, m["tier"]), "n": m["n"], "target": m["target"]}
        ),
    ),
    (
        re.compile(r"^Input should be (?P<options>'.+)$"),
        lambda lang, m: (
            lang.gettext(N_("Please choose one of: %(options)s."))
            % {"options": _options(lang, m["options"])}
        ),
    ),
    (
        re.compile(r"^String should match pattern .+$"),
        lambda lang, m: lang.gettext(N_("The value is not written as expected.")),
    ),
    (
        re.compile(r"^String should have at most (?P<n>\d+) characters?$"),
        lambda lang, m: lang.gettext(N_("At most %(n)s characters.")) % {"n": m["n"]},
    ),
]


def translate(lang: Language, message: str) -> str:
    """One problem's message in ``lang``; a message this module does not know stays as is."""
    if message in EXACT:
        return lang.gettext(EXACT[message])
    for pattern, words in PATTERNS:
        found = pattern.match(message)
        if found:
            return words(lang, found)
    return message


def sheet_name(lang: Language, sheet: str) -> str:
    """A sheet as the report names it: a CSV file's kind in words, a workbook's sheet as is."""
    return lang.gettext(SHEET_LABELS[sheet]) if sheet in SHEET_LABELS else sheet
