"""A bulk-import file on its own: read, each row made a command, repeats found.

The format is described in ``roster.importer``, which then checks the commands against the
roster. Nothing here reads the roster. A file that cannot be read at all (too large, not a
workbook, not UTF-8) raises ``DomainError("file", ...)``, which the API answers with 422; a
sheet, header or row that does not fit is an :class:`ImportProblem` of the report.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Literal, TypeVar
from uuid import UUID

import openpyxl
from openpyxl.worksheet._read_only import ReadOnlyWorksheet
from pydantic import BaseModel, ValidationError

from eventspine.errors import DomainError
from roster import commands as cmd
from roster.codes import member_id, unit_id
from roster.import_words import HELP_SHEETS, column_of, kind_of_sheet, value_of
from roster.models import ImportProblem

Kind = Literal["units", "members", "links"]
KINDS: tuple[Kind, ...] = ("units", "members", "links")
MAX_BYTES = 10 * 1024 * 1024
"""Largest accepted upload: 10 MiB (a workbook of the Yangquan roster is about 0.2 MiB)."""
MAX_ROWS = 100_000
"""Largest accepted sheet, in rows after the header."""
REQUIRED: dict[Kind, tuple[str, ...]] = {
    "units": ("code", "name", "kind"),
    "members": ("unit_code", "external_number", "tier", "name"),
    "links": (
        "upper_unit_code",
        "upper_external_number",
        "lower_unit_code",
        "lower_external_number",
    ),
}
OPTIONAL: dict[Kind, tuple[str, ...]] = {
    "units": ("parent_code",),
    "members": ("phone", "wechat_id", "registered_on"),
    "links": ("assigned_on", "span_override_reason"),
}
COLUMN_OF: dict[Kind, dict[str, str]] = {  # a command's field -> the column it comes from
    "units": {"unit_id": "code", "parent_unit_id": "parent_code"},
    "members": {"unit_id": "unit_code", "member_id": "external_number"},
    "links": {
        "upper_member_id": "upper_external_number",
        "lower_member_id": "lower_external_number",
    },
}
_REPEATED: dict[Kind, tuple[str, str]] = {  # column and message of a repeated key
    "units": ("code", "the code appears again"),
    "members": ("external_number", "the number appears again in this unit"),
    "links": ("lower_external_number", "a member has one upper member; it is linked again"),
}
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_XLSX_MAGIC = b"PK\x03\x04"
ENCODINGS = ("UTF-8", "GBK", "GB18030")
"""What a CSV file may be saved in (Chinese Excel saves GBK; GB18030 holds every character)."""
C = TypeVar("C", bound=BaseModel)


def problem(sheet: str, row: int | None, column: str | None, message: str) -> ImportProblem:
    """An :class:`ImportProblem` (shorthand)."""
    return ImportProblem(sheet=sheet, row=row, column=column, message=message)


@dataclass(frozen=True)
class Row:
    """One data row: its number as a spreadsheet shows it (header = 1) and its filled cells."""

    number: int
    cells: dict[str, str]

    def get(self, column: str) -> str | None:
        """The cell's text, or None when it is empty."""
        return self.cells.get(column)


@dataclass
class ImportRows:
    """A file on its own: the commands its rows make (with their row numbers) and problems."""

    counts: dict[Kind, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    units: list[tuple[int, cmd.RegisterUnit]] = field(default_factory=list)
    members: list[tuple[int, cmd.RegisterMember]] = field(default_factory=list)
    links: list[tuple[int, cmd.LinkMember]] = field(default_factory=list)
    refused: set[UUID] = field(default_factory=set)
    """Units and members whose row was refused: rows naming them are not checked further."""
    problems: list[ImportProblem] = field(default_factory=list)
    unread: set[Kind] = field(default_factory=set)
    """Sheets whose header does not fit: their rows were not read."""
    encoding: str | None = None
    """A CSV file's encoding as detected (``UTF-8``, ``UTF-8 BOM``, ``GBK``, ``GB18030``)."""
    headers: dict[Kind, dict[str, str]] = field(default_factory=dict)
    """Each sheet's headers as the file writes them (Chinese or English), by column name."""
    sheets: dict[Kind, str] = field(default_factory=dict)
    """Each kind's sheet name as the workbook writes it."""

    def in_file_words(self, found: Sequence[ImportProblem]) -> list[ImportProblem]:
        """The problems with their sheet and column named as the file names them."""
        out = []
        for p in found:
            kind = p.sheet if p.sheet in KINDS else None
            if kind is None:
                out.append(p)
                continue
            column = self.headers.get(kind, {}).get(p.column, p.column) if p.column else None
            out.append(
                p.model_copy(update={"sheet": self.sheets.get(kind, kind), "column": column})
            )
        return out

    def flag(self, kind: Kind, row: int, column: str | None, message: str) -> None:
        """Note a problem of a row."""
        self.problems.append(problem(kind, row, column, message))

    def command(
        self, model: type[C], kind: Kind, row: Row, values: Callable[[Row], dict[str, object]]
    ) -> C | None:
        """The row as a command (validated as the API validates it), or None and the row's
        problems noted. ``values`` gives the command's fields from a row with every required
        cell filled."""
        missing = [column for column in REQUIRED[kind] if row.get(column) is None]
        for column in missing:
            self.flag(kind, row.number, column, "a value is required")
        dates = [(c, row.get(c)) for c in ("registered_on", "assigned_on")]
        misspelt = [c for c, text in dates if text is not None and not _DATE.fullmatch(text)]
        for column in misspelt:
            self.flag(kind, row.number, column, "a date is written YYYY-MM-DD")
        if missing or misspelt:
            return None
        try:
            return model.model_validate({k: v for k, v in values(row).items() if v is not None})
        except ValidationError as exc:
            for error in exc.errors():
                name = str(error["loc"][0]) if error["loc"] else None
                at = COLUMN_OF[kind].get(name, name) if name else None
                self.flag(kind, row.number, at, error["msg"])
            return None


def read_rows(data: bytes, kind: Kind | None) -> ImportRows:
    """Read an uploaded file and make each row a command: an XLSX workbook when ``kind`` is
    None, else a CSV file of that kind. Raises ``DomainError("file", ...)`` when unreadable."""
    if not data:
        raise DomainError("file", "the file is empty", code="file_empty")
    if len(data) > MAX_BYTES:
        mib = MAX_BYTES // (1024 * 1024)
        raise DomainError(
            "file", f"the file is larger than {mib} MiB", code="file_too_large", max_mib=mib
        )
    found = ImportRows()
    if kind is None:
        tables = _xlsx_tables(data, found)
    else:
        table, found.encoding = _csv_table(data)
        tables = {kind: table}
    rows = {k: _rows(k, tables[k], found) if k in tables else [] for k in KINDS}
    found.counts = {k: len(rows[k]) for k in KINDS}
    found.units = _convert(found, "units", rows["units"], cmd.RegisterUnit, _unit_values)
    found.members = _convert(found, "members", rows["members"], cmd.RegisterMember, _member_values)
    found.links = _convert(found, "links", rows["links"], cmd.LinkMember, _link_values)
    return found


def _unit_values(row: Row) -> dict[str, object]:
    parent = row.get("parent_code")
    return {
        "unit_id": unit_id(row.cells["code"]),
        "code": row.cells["code"],
        "name": row.get("name"),
        "kind": row.get("kind"),
        "parent_unit_id": unit_id(parent) if parent else None,
    }


def _member_values(row: Row) -> dict[str, object]:
    code, number = row.cells["unit_code"], row.cells["external_number"]
    fields = ("tier", "name", "phone", "wechat_id", "registered_on")
    return {
        "member_id": member_id(code, number),
        "unit_id": unit_id(code),
        "external_number": number,
        **{name: row.get(name) for name in fields},
    }


def _link_values(row: Row) -> dict[str, object]:
    c = row.cells
    return {
        "upper_member_id": member_id(c["upper_unit_code"], c["upper_external_number"]),
        "lower_member_id": member_id(c["lower_unit_code"], c["lower_external_number"]),
        "assigned_on": row.get("assigned_on"),
        "span_override_reason": row.get("span_override_reason"),
    }


def _key(kind: Kind, row: Row) -> UUID | None:
    """What a row of ``kind`` may hold once: a unit, a member, a lower member's link."""
    c = row.cells
    if kind == "units":
        return unit_id(c["code"]) if "code" in c else None
    prefix = "" if kind == "members" else "lower_"
    code, number = c.get(prefix + "unit_code"), c.get(prefix + "external_number")
    return member_id(code, number) if code and number else None


def _convert(
    found: ImportRows,
    kind: Kind,
    rows: list[Row],
    model: type[C],
    values: Callable[[Row], dict[str, object]],
) -> list[tuple[int, C]]:
    commands: list[tuple[int, C]] = []
    first: dict[UUID, int] = {}
    for row in rows:
        key = _key(kind, row)
        if key is not None and key in first:
            column, message = _REPEATED[kind]
            found.flag(kind, row.number, column, f"{message} (first in row {first[key]})")
            continue
        if key is not None:
            first[key] = row.number
        command = found.command(model, kind, row, values)
        if command is not None:
            commands.append((row.number, command))
        elif key is not None and kind != "links":
            found.refused.add(key)
    return commands


def _xlsx_tables(data: bytes, found: ImportRows) -> dict[Kind, list[Sequence[object]]]:
    tables: dict[Kind, list[Sequence[object]]] = {}
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            for sheet in book.worksheets:
                if sheet.title.strip().lower() in HELP_SHEETS:
                    continue  # the template's explanations
                known = kind_of_sheet(sheet.title)
                if known is None or known in tables or not isinstance(sheet, ReadOnlyWorksheet):
                    message = "unknown sheet: a workbook holds one sheet each named units, "
                    found.problems.append(
                        problem(sheet.title, None, None, message + "members and links")
                    )
                    continue
                found.sheets[known] = sheet.title
                sheet.reset_dimensions()  # read the rows there are, not the size the file claims
                tables[known] = _bounded(f"{known} sheet", sheet.iter_rows(values_only=True))
        finally:
            book.close()
    except DomainError:
        raise
    except Exception as exc:  # openpyxl raises many kinds of error for what is not a workbook
        raise DomainError(
            "file",
            f"the file is not a readable XLSX workbook ({type(exc).__name__}: {exc}); "
            "for a CSV file give kind=units, members or links",
            code="file_not_xlsx",
        ) from None
    return tables


def _csv_table(data: bytes) -> tuple[list[Sequence[object]], str]:
    """The rows of a CSV file and the encoding it was read in."""
    if data.startswith(_XLSX_MAGIC):
        raise DomainError(
            "file", "the file is an XLSX workbook, not CSV: leave out kind", code="file_is_xlsx"
        )
    text, encoding = decode_csv(data)
    try:
        return _bounded("file", csv.reader(io.StringIO(text, newline=""))), encoding
    except csv.Error as exc:
        raise DomainError(
            "file", f"the file is not readable CSV: {exc}", code="file_not_csv"
        ) from None


def decode_csv(data: bytes) -> tuple[str, str]:
    """A CSV file's text and its encoding: UTF-8 (with or without a BOM), else GBK (what
    Chinese Excel saves), else GB18030. Raises ``DomainError("file", ...)`` for other bytes."""
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data[3:].decode("utf-8"), "UTF-8 BOM"
        except UnicodeDecodeError as exc:
            raise DomainError(
                "file",
                f"the file starts as UTF-8 but is not UTF-8 text (byte {exc.start + 3})",
                code="file_not_utf8",
                byte=exc.start + 3,
            ) from None
    for encoding in ENCODINGS:
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise DomainError(
        "file",
        "the file is not text in UTF-8, GBK or GB18030; save it as CSV UTF-8",
        code="file_not_text",
    )


def _bounded(what: str, rows: Iterable[Sequence[object]]) -> list[Sequence[object]]:
    table: list[Sequence[object]] = []
    for row in rows:
        if len(table) > MAX_ROWS:  # the header and MAX_ROWS rows are allowed
            raise DomainError(
                "file",
                f"the {what} has more than {MAX_ROWS} rows",
                code="too_many_rows",
                max_rows=MAX_ROWS,
            )
        table.append(row)
    return table


def _text(value: object) -> str:
    """A cell as text: numbers without a spurious ``.0``, dates as YYYY-MM-DD, trimmed."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def _header_problems(kind: Kind, header: list[str]) -> list[ImportProblem]:
    allowed = REQUIRED[kind] + OPTIONAL[kind]
    found: list[ImportProblem] = []
    for i, name in enumerate(header):
        if not name:
            found.append(problem(kind, 1, None, f"column {i + 1} has no header"))
        elif name in header[:i]:
            found.append(problem(kind, 1, name, "the column appears twice"))
        elif name not in allowed:
            message = f"unknown column; the columns are {', '.join(allowed)}"
            found.append(problem(kind, 1, name, message))
    missing = [name for name in REQUIRED[kind] if name not in header]
    return found + [problem(kind, 1, name, "missing column") for name in missing]


def _rows(kind: Kind, table: list[Sequence[object]], found: ImportRows) -> list[Row]:
    """The data rows of one sheet; none when its header does not fit (that is a problem)."""
    if not table:
        return []
    written = [_text(cell) for cell in table[0]]
    while written and not written[-1]:
        written.pop()
    header = [column_of(kind, text) if text else "" for text in written]
    found.headers[kind] = {name: text for name, text in zip(header, written, strict=True) if name}
    if bad := _header_problems(kind, header):
        found.problems.extend(bad)
        found.unread.add(kind)
        return []
    rows: list[Row] = []
    for number, raw in enumerate(table[1:], start=2):
        texts = [_text(cell) for cell in raw]
        if not any(texts):
            continue
        cells = zip(header, texts, strict=False)  # a longer row is a problem (below)
        rows.append(Row(number, {name: value_of(name, text) for name, text in cells if text}))
        if any(texts[len(header) :]):
            found.flag(kind, number, None, "a value outside the header's columns")
    return rows
