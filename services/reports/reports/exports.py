"""CSV and XLSX renderings of report rows (for staff who work in spreadsheets)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from openpyxl import Workbook
from pydantic import BaseModel


def _rows(items: Sequence[BaseModel]) -> tuple[list[str], list[list[str]]]:
    if not items:
        return [], []
    header = list(type(items[0]).model_fields)
    rows = [
        ["" if value is None else str(value) for value in item.model_dump(mode="json").values()]
        for item in items
    ]
    return header, rows


def to_csv(items: Sequence[BaseModel]) -> bytes:
    """UTF-8 CSV with a BOM, so spreadsheet programs show Chinese text correctly."""
    header, rows = _rows(items)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(items: Sequence[BaseModel], title: str) -> bytes:
    """An XLSX workbook with one sheet."""
    header, rows = _rows(items)
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = title[:31]
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
