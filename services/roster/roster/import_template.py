"""The import template: an XLSX workbook people fill in, with Chinese headers, a sheet that
explains each column, and the union organisations the roster holds with their codes."""

from __future__ import annotations

import io
from collections.abc import Sequence

from openpyxl import Workbook
from openpyxl.styles import Font

from roster.import_rows import KINDS, OPTIONAL, REQUIRED
from roster.import_words import COLUMN_NAMES, SHEET_NAMES
from roster.models import UnitPublic

EXPLAINED: dict[str, str] = {
    "code": "单位代码（自定，文件和名册中唯一），如 YQ、YQ-PD；已有单位的代码见“现有单位”。",
    "name": "名称或姓名，与证件一致。",
    "kind": "市总工会、县（区）总工会或企业工会。",
    "parent_code": "上级工会组织的代码；只有市总工会不填。",
    "unit_code": "所在工会组织的代码（本文件“单位”表或“现有单位”表中的代码）。",
    "external_number": "本单位内的人员编号（如工号），同一单位内不重复。",
    "tier": "市总工会班子成员、全委会委员、工会代表或职工。",
    "phone": "手机号码，例如 13912345678。",
    "wechat_id": "微信号。",
    "registered_on": "登记日期，写作 2026-03-15；不填为当天。",
    "upper_unit_code": "上级联系人所在单位的代码。",
    "upper_external_number": "上级联系人的编号。",
    "lower_unit_code": "联系对象所在单位的代码。",
    "lower_external_number": "联系对象的编号；每人只有一名上级联系人。",
    "assigned_on": "结对日期，写作 2026-03-15；不填为当天。",
    "span_override_reason": "上级联系人超出目标联系人数时必须说明原因。",
}
"""What each column holds, in the template's explanation sheet."""
KIND_NAMES = {
    "city_federation": "市总工会",
    "county_union": "县（区）总工会",
    "enterprise_union": "企业工会",
}
BOLD = Font(bold=True)


def _sheet(
    book: Workbook, title: str, rows: Sequence[Sequence[object]], widths: Sequence[int]
) -> None:
    sheet = book.create_sheet(title)
    for row in rows:
        sheet.append(list(row))
    for cell in sheet[1]:
        cell.font = BOLD
    for index, width in enumerate(widths):
        sheet.column_dimensions[chr(ord("A") + index)].width = width
    sheet.freeze_panes = "A2"


def template(units: Sequence[UnitPublic]) -> bytes:
    """The workbook: 说明 (each column explained), 单位, 成员 and 结对 (headers only, ready
    to fill in) and 现有单位 (the roster's organisations with their codes)."""
    book = Workbook()
    default = book.active
    if default is not None:
        book.remove(default)
    explained: list[list[object]] = [["工作表", "列", "必填", "说明"]]
    for kind in KINDS:
        for column in REQUIRED[kind] + OPTIONAL[kind]:
            required = "是" if column in REQUIRED[kind] else "否"
            explained.append(
                [SHEET_NAMES[kind], COLUMN_NAMES[kind][column], required, EXPLAINED[column]]
            )
    explained.append([])
    explained.append(["", "", "", "第一行是表头，请勿修改；每行一条记录；空行会被跳过。"])
    explained.append(
        ["", "", "", "先用“试导入”检查：它不保存任何内容，并按工作表、行和列列出问题。"]
    )
    explained.append(["", "", "", "CSV 文件可用 UTF-8 或 GBK（中文 Excel 的默认）保存。"])
    _sheet(book, "说明", explained, (10, 22, 6, 70))
    for kind in KINDS:
        header = [COLUMN_NAMES[kind][c] for c in REQUIRED[kind] + OPTIONAL[kind]]
        _sheet(book, SHEET_NAMES[kind], [header], [18] * len(header))
    by_id = {u.unit_id: u for u in units}
    existing: list[list[object]] = [["单位代码", "单位名称", "单位类型", "上级单位"]]
    for unit in sorted(units, key=lambda u: (u.code is None, u.code or "", u.name)):
        parent = by_id.get(unit.parent_unit_id) if unit.parent_unit_id else None
        existing.append(
            [
                unit.code or "（无代码：文件中无法引用）",
                unit.name + ("（已撤销）" if unit.closed else ""),
                KIND_NAMES[unit.kind],
                parent.name if parent else "",
            ]
        )
    _sheet(book, "现有单位", existing, (22, 30, 16, 30))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
