"""Rows of the benchmark table: measured values, their same-run baseline, ratio and target."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Row:
    """One workload measured against a baseline measured in the same run.

    ``ours`` and ``baseline`` are rates (higher is better) unless ``unit`` is ``s``, where they
    are delays (lower is better). A rate row meets its target when ``ours / baseline`` is at
    least ``target``; a delay row when ``ours`` (the p99) is at most ``target`` seconds.
    """

    key: str
    workload: str
    unit: str
    ours: float
    baseline: float
    baseline_name: str
    target: float | None
    detail: dict[str, float] = field(default_factory=dict)
    quantile: str = "p99"
    """The delay a delay row's target bounds (``p99``, or ``p95`` for pages)."""

    @property
    def is_delay(self) -> bool:
        """A latency row (lower is better)."""
        return self.unit == "s"

    @property
    def ratio(self) -> float:
        """Ours over the baseline (for delays: the baseline over ours, so higher is better)."""
        if self.is_delay:
            return self.baseline / self.ours if self.ours else float("inf")
        return self.ours / self.baseline if self.baseline else float("inf")

    @property
    def met(self) -> bool | None:
        """Whether the target is met; ``None`` without a target."""
        if self.target is None:
            return None
        if self.is_delay:
            return self.ours <= self.target
        return self.ratio >= self.target

    def target_text(self) -> str:
        """The target, as printed."""
        if self.target is None:
            return "-"
        if self.is_delay:
            return f"{self.quantile} <= {self.target:g} s"
        return f"ratio >= {self.target:g}"

    def verdict(self) -> str:
        """met / NOT MET / -."""
        return {True: "met", False: "NOT MET", None: "-"}[self.met]

    def as_json(self) -> dict[str, Any]:
        """A JSON object for the result file."""
        return {**asdict(self), "ratio": self.ratio, "met": self.met}


def _value(row: Row, value: float, p50: float | None, p99: float | None) -> str:
    if row.is_delay:
        tail = f"{row.quantile} {value * 1000:,.0f} ms"
        return f"p50 {p50 * 1000:,.0f} ms, {tail}" if p50 is not None else tail
    text = f"{value:,.0f} {row.unit}"
    if p50 is not None and p99 is not None:
        text += f" (p50 {p50 * 1000:,.1f} ms, p99 {p99 * 1000:,.1f} ms)"
    return text


def cells(row: Row) -> list[str]:
    """The printed cells of one row."""
    d = row.detail
    return [
        row.workload,
        _value(row, row.ours, d.get("p50"), d.get("p99")),
        f"{row.baseline_name}: "
        + _value(row, row.baseline, d.get("baseline_p50"), d.get("baseline_p99")),
        f"{row.ratio:.2f}",
        row.target_text(),
        row.verdict(),
    ]


HEADER = ["workload", "ours", "baseline (same run)", "ratio", "target", "met"]


def text_table(rows: list[Row]) -> str:
    """A fixed-width table for the terminal."""
    body = [HEADER, *(cells(r) for r in rows)]
    widths = [max(len(line[i]) for line in body) for i in range(len(HEADER))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) for line in body]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def markdown_table(rows: list[Row]) -> str:
    """The same table in Markdown."""
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(cells(r)) + " |" for r in rows]
    return "\n".join(lines)


def write_json(path: Path, meta: dict[str, Any], rows: list[Row]) -> None:
    """One result file per run."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps({**meta, "rows": [r.as_json() for r in rows]}, indent=2, default=str) + "\n"
    )
