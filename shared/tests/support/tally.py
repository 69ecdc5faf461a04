"""The fault tier's report: what each scenario did and found, computed by the scenarios."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ScenarioResult:
    """One scenario's figures; ``notes`` hold what is particular to it (kills, 503s...)."""

    name: str
    commands_sent: int = 0
    commands_acknowledged: int = 0
    events_checked: int = 0
    events_lost: int = 0
    duplicates_visible: int = 0
    notes: dict[str, object] = field(default_factory=dict)


RESULTS: list[ScenarioResult] = []
"""Filled by the scenarios as they finish, printed at the end of the run."""


def record(result: ScenarioResult) -> ScenarioResult:
    """Add a scenario's figures to the report."""
    RESULTS.append(result)
    return result


def render() -> list[str]:
    """The report as lines of text: one per scenario, then the totals."""
    header = f"{'scenario':<34}{'sent':>7}{'acked':>7}{'checked':>9}{'lost':>6}{'dupes':>7}"
    lines = [header]
    for r in RESULTS:
        lines.append(
            f"{r.name:<34}{r.commands_sent:>7}{r.commands_acknowledged:>7}"
            f"{r.events_checked:>9}{r.events_lost:>6}{r.duplicates_visible:>7}"
        )
        if r.notes:
            lines.append("    " + ", ".join(f"{k}: {v}" for k, v in r.notes.items()))
    lines.append(
        f"{'total (' + str(len(RESULTS)) + ' scenarios)':<34}"
        f"{sum(r.commands_sent for r in RESULTS):>7}"
        f"{sum(r.commands_acknowledged for r in RESULTS):>7}"
        f"{sum(r.events_checked for r in RESULTS):>9}"
        f"{sum(r.events_lost for r in RESULTS):>6}"
        f"{sum(r.duplicates_visible for r in RESULTS):>7}"
    )
    return lines
