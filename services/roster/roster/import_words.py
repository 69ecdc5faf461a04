"""The words of an import file in Chinese: sheet names, column headers and the values of the
``kind`` and ``tier`` columns, as the template writes them and the import reads them.

The English names (``units``, ``code``, ``county_union``...) stay accepted: a file may use
either, column by column.
"""

from __future__ import annotations

from typing import Literal

Kind = Literal["units", "members", "links"]

SHEET_NAMES: dict[Kind, str] = {"units": "单位", "members": "成员", "links": "结对"}
"""Each kind's sheet, as the template names it."""
HELP_SHEETS = frozenset({"说明", "现有单位", "instructions", "existing units"})
"""Sheets of the template that explain; the import reads past them."""

COLUMN_NAMES: dict[Kind, dict[str, str]] = {
    "units": {
        "code": "单位代码",
        "name": "单位名称",
        "kind": "单位类型",
        "parent_code": "上级单位代码",
    },
    "members": {
        "unit_code": "单位代码",
        "external_number": "编号",
        "tier": "层级",
        "name": "姓名",
        "phone": "电话",
        "wechat_id": "微信号",
        "registered_on": "登记日期",
    },
    "links": {
        "upper_unit_code": "上级联系人单位代码",
        "upper_external_number": "上级联系人编号",
        "lower_unit_code": "联系对象单位代码",
        "lower_external_number": "联系对象编号",
        "assigned_on": "结对日期",
        "span_override_reason": "超出联系范围的原因",
    },
}
"""Each column's Chinese header, by its English name."""

KIND_VALUES = {
    "市总工会": "city_federation",
    "县（区）总工会": "county_union",
    "县(区)总工会": "county_union",
    "县区总工会": "county_union",
    "企业工会": "enterprise_union",
}
TIER_VALUES = {
    "市总工会班子成员": "leader",
    "班子成员": "leader",
    "全委会委员": "committee",
    "委员": "committee",
    "市工代会代表": "representative",
    "工会代表": "representative",
    "代表": "representative",
    "职工": "worker",
}
VALUES = {"kind": KIND_VALUES, "tier": TIER_VALUES}
"""The Chinese values a column accepts beside its codes."""


def column_of(kind: Kind, header: str) -> str:
    """The English name of a header (Chinese or English, any case)."""
    text = header.strip()
    for name, chinese in COLUMN_NAMES[kind].items():
        if text == chinese:
            return name
    return text.lower()


def kind_of_sheet(title: str) -> Kind | None:
    """The kind a sheet holds by its name (Chinese or English), or None."""
    text = title.strip()
    for kind, chinese in SHEET_NAMES.items():
        if text in (chinese, kind) or text.lower() == kind:
            return kind
    return None


def value_of(column: str, text: str) -> str:
    """A cell's value as the command takes it: a Chinese kind or tier as its code."""
    return VALUES.get(column, {}).get(text, text)
