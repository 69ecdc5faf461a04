"""Spreadsheets people can use: a table's rows with headers in the user's language, names,
tiers, units and phones beside the ids, dates as dates, and a file name that says what and
when (``联系达标-平定县总工会-未联系-2026-12-03.xlsx``)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import quote

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from web.frontend.i18n import Language

Cell = str | int | float | date | None

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Column:
    """One column: its header (a catalogue id) and how a row gives its cell."""

    header: str
    cell: Callable[[dict[str, Any]], Cell]
    width: int = 14


@dataclass(frozen=True)
class Table:
    """A table to export: what it is (the file name's parts) and its rows as columns."""

    title: str
    columns: Sequence[Column]
    rows: Sequence[dict[str, Any]]
    parts: Sequence[str] = ()
    """What the page's filters chose (already in the user's language), for the file name."""


def as_date(value: Any) -> date | None:
    """An ISO date (or the date part of an ISO moment) as a date; None stays None."""
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def file_name(lang: Language, table: Table, today: date, extension: str) -> str:
    """``<what>-<filters...>-<day>.<ext>``, each part safe in a file name."""
    parts = [lang.gettext(table.title), *table.parts, today.isoformat()]
    clean = [_UNSAFE.sub("_", p).strip() for p in parts if p and p.strip()]
    return "-".join(clean) + "." + extension


def disposition(name: str, fallback: str) -> str:
    """``Content-Disposition`` with the name as RFC 6266 / RFC 5987 ``filename*`` (UTF-8) and
    an ASCII ``filename`` for programs that read only that."""
    ascii_name = fallback.encode("ascii", "replace").decode("ascii").replace('"', "")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


def _safe_text(value: Cell) -> Cell:
    # A cell a spreadsheet would run as a formula (a name typed "=HYPERLINK(...)") is text.
    if isinstance(value, str) and value.startswith(_FORMULA) and not _is_number(value):
        return "'" + value
    return value


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def to_csv(lang: Language, table: Table) -> bytes:
    """UTF-8 CSV with a BOM (so Excel shows Chinese text), dates as YYYY-MM-DD."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([lang.gettext(c.header) for c in table.columns])
    for row in table.rows:
        cells = [_safe_text(c.cell(row)) for c in table.columns]
        writer.writerow(
            ["" if v is None else v.isoformat() if isinstance(v, date) else v for v in cells]
        )
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(lang: Language, table: Table) -> bytes:
    """One sheet named after the table: a bold header row frozen above the rows, dates as
    spreadsheet dates (YYYY-MM-DD), numbers as numbers."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = _UNSAFE.sub("_", lang.gettext(table.title))[:31]
    sheet.append([lang.gettext(c.header) for c in table.columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in table.rows:
        sheet.append([_safe_text(c.cell(row)) for c in table.columns])
    for index, column in enumerate(table.columns, start=1):
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = column.width
        for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
            if isinstance(cell.value, date):
                cell.number_format = "yyyy-mm-dd"
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
