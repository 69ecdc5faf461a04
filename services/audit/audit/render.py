"""Rich tables of the audit's results; the same input always renders the same text."""

from __future__ import annotations

import json

from rich.console import Console
from rich.table import Table

from audit.replay import Replayed
from audit.verify import VerifyReport
from eventspine.envelope import RecordedEvent


def verify_tables(console: Console, report: VerifyReport) -> None:
    """Counts per event type, then the findings (or a clean bill) and the warnings."""
    counts = Table(title=f"Events verified ({', '.join(report.sources)})")
    for column in ("service", "event type", "events"):
        counts.add_column(column, justify="right" if column == "events" else "left")
    for (service, name), count in sorted(report.counts.items()):
        counts.add_row(service, name, str(count))
    counts.add_row("", f"{report.streams} streams", str(sum(report.counts.values())), style="bold")
    console.print(counts)
    for warning in report.warnings:
        console.print(f"[yellow]warning:[/] {warning}")
    if report.ok:
        console.print("[green]OK[/]: no findings")
        return
    findings = Table(title=f"{len(report.findings)} findings", title_style="bold red")
    for column in ("service", "stream", "version", "position", "reason"):
        findings.add_column(column)
    for f in report.findings:
        findings.add_row(
            f.service, f.stream_id, str(f.version or ""), str(f.position or ""), f.reason
        )
    console.print(findings)


def replay_tables(console: Console, result: Replayed) -> None:
    """Summary, the compliance roll-ups, the links, and the escalation queue."""
    summary = Table(title="Replay")
    summary.add_column("item")
    summary.add_column("value")
    summary.add_row("as of", result.as_of.isoformat() if result.as_of else "(end of history)")
    summary.add_row("views computed at", result.now.isoformat())
    for service, count in sorted(result.applied.items()):
        summary.add_row(f"{service} events replayed", str(count))
    for status, count in sorted(result.members.items()):
        summary.add_row(f"members {status}", str(count))
    console.print(summary)
    report = result.compliance
    tallies = Table(title=f"Compliance {report.period}")
    for column in ("group", "links", "met", "behind", "none", "compliance %"):
        tallies.add_column(column)
    groups = [("city", report.city)]
    groups += [(f"tier {g.key}", g.tally) for g in report.by_tier]
    groups += [(f"unit {g.key}", g.tally) for g in report.by_unit]
    for name, t in groups:
        tallies.add_row(
            name, *(str(v) for v in (t.links, t.met, t.behind, t.none)), str(t.compliance_pct)
        )
    console.print(tallies)
    links = Table(title=f"Links ({report.count})")
    for column in ("link", "upper", "lower", "required", "counted", "status", "next due"):
        links.add_column(column)
    for link in report.data:
        links.add_row(
            str(link.link_id),
            str(link.upper_member_id),
            str(link.lower_member_id),
            str(link.required),
            str(link.counted),
            link.status,
            str(link.next_due or ""),
        )
    console.print(links)
    queue = Table(title=f"Escalation queue ({result.queue.count}, {result.queue.overdue} overdue)")
    for column in ("suggestion", "status", "holder tier", "level", "age h", "to deadline h"):
        queue.add_column(column)
    for item in result.queue.data:
        queue.add_row(
            str(item.suggestion_id),
            item.status,
            str(item.holder_tier or "leadership"),
            str(item.level),
            str(item.age_hours),
            str(item.hours_to_deadline if item.hours_to_deadline is not None else ""),
        )
    console.print(queue)


def history_table(console: Console, title: str, events: list[RecordedEvent]) -> None:
    """One row per event: time, actor, type, stream and version, and its data."""
    table = Table(title=title)
    for column in ("time", "actor", "service", "event", "stream", "position", "data"):
        table.add_column(column, overflow="fold")
    for e in events:
        table.add_row(
            e.time.isoformat(),
            e.actor,
            e.service,
            f"{e.event_type} v{e.schema_version}",
            f"{e.stream_id} v{e.stream_version}",
            str(e.position),
            json.dumps(e.data, ensure_ascii=False, sort_keys=True)[:200],
        )
    console.print(table)
