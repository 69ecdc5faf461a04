"""``sanlian-audit``: the auditor's command line.

Exit codes: 0 clean, 1 findings (verify), 2 bad input (unknown topic, malformed date, a
truncated or corrupt export file...). Settings come from ``SANLIAN_*`` variables (the same as
the services'); results go to standard output, progress bars to standard error.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Coroutine
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn

from audit import exportfile, render, timeline
from audit.crosscheck import verify as run_verify
from audit.loading import Source, load, parse_moment
from audit.replay import replay as run_replay
from audit.sources import AuditInputError
from audit.verify import SCHEMAS_DIR
from eventspine.config import Settings
from eventspine.schemas import installed_registry
from reports.bootstrap import contact_rule
from reports.exports import to_csv, to_xlsx

app = typer.Typer(
    help="Replay, verify and export the Sanlian event history (read-only). "
    "Exit codes: 0 clean, 1 findings, 2 bad input.",
    no_args_is_help=True,
)
out = Console(width=160)
err = Console(stderr=True)
T = TypeVar("T")


class VerifySource(StrEnum):
    """Where verify reads."""

    stores = "stores"
    topics = "topics"
    both = "both"
    file = "file"


SOURCE_HELP = (
    "stores: each service's event store (SANLIAN_STORE_BACKEND postgres or sqlite); "
    "topics: the Kafka topics from offset 0; file: an export file (--file)"
)
FileOpt = Annotated[
    Path | None, typer.Option("--file", help="export file to read when --source file")
]


def _run(coro: Coroutine[Any, Any, T]) -> T:
    try:
        return asyncio.run(coro)
    except AuditInputError as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from None


def _moment(text: str | None, option: str, *, end_of_day: bool) -> datetime | None:
    if text is None:
        return None
    try:
        return parse_moment(text, option, end_of_day=end_of_day)
    except AuditInputError as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from None


def _progress() -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=err,
        transient=True,
    )


@app.command()
def verify(
    source: Annotated[
        VerifySource,
        typer.Option(help=SOURCE_HELP + "; both: stores and topics, compared with each other"),
    ] = VerifySource.both,
    file: FileOpt = None,
    schemas: Annotated[
        Path, typer.Option(help="folder of the committed JSON Schemas (schemas/events)")
    ] = SCHEMAS_DIR,
    as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
) -> None:
    """Check every stream: versions gapless, hash chains intact, data valid against the
    committed JSON Schemas, positions and topic offsets consistent between stores and topics.
    Exit 1 on any finding, naming the stream, version and reason."""
    sources = [Source.stores, Source.topics] if source is VerifySource.both else [Source(source)]

    async def work() -> Any:
        with _progress() as bar:
            task = bar.add_task("reading the history", total=len(sources))
            histories = []
            for one in sources:
                histories.append(await load(one, Settings(), file))
                bar.advance(task)
        return run_verify(histories, installed_registry(), schemas)

    report = _run(work())
    if as_json:
        out.print_json(json.dumps(report.as_dict()))
    else:
        render.verify_tables(out, report)
    raise typer.Exit(0 if report.ok else 1)


@app.command()
def replay(
    source: Annotated[Source, typer.Option(help=SOURCE_HELP)] = Source.stores,
    file: FileOpt = None,
    as_of: Annotated[
        str | None,
        typer.Option(
            help="replay up to this moment (ISO 8601 with offset, e.g. 2026-06-30T23:59:59+00:00, "
            "or a date meaning its end, UTC); stops at the first event after it"
        ),
    ] = None,
    period: Annotated[
        str | None,
        typer.Option(help="compliance period: 2026, 2026-H1 or 2026-Q3 (default: as-of year)"),
    ] = None,
    out_file: Annotated[
        Path | None, typer.Option("--out", help="write the compliance links as .csv or .xlsx")
    ] = None,
    queue_out: Annotated[
        Path | None, typer.Option(help="write the escalation queue as .csv or .xlsx")
    ] = None,
    db: Annotated[
        Path | None, typer.Option(help="keep the rebuilt projections in this SQLite file")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the views as JSON")] = False,
) -> None:
    """Rebuild the reports' projections from the history (as of a date if given) and print
    the compliance view and escalation queue as they stood then, or export them."""
    moment = _moment(as_of, "--as-of", end_of_day=True)
    for target in (out_file, queue_out):
        if target is not None and target.suffix not in (".csv", ".xlsx"):
            err.print(f"[red]error:[/] {target}: the output must end in .csv or .xlsx")
            raise typer.Exit(2)
    settings = Settings()
    label = period or str((moment.year if moment else None) or "")

    async def work() -> Any:
        history = await load(source, settings, file)
        total = sum(len(v) for v in history.events.values())
        with _progress() as bar:
            task = bar.add_task("replaying", total=total)
            return await run_replay(
                history,
                installed_registry(),
                contact_rule(settings),
                label or _last_year(history),
                moment,
                db,
                lambda n: bar.advance(task, n),
            )

    result = _run(work())
    if out_file is not None:
        _write(out_file, result.compliance.data, "compliance")
    if queue_out is not None:
        _write(queue_out, result.queue.data, "queue")
    if as_json:
        out.print_json(json.dumps(result.as_dict(), sort_keys=True))
    else:
        render.replay_tables(out, result)


def _last_year(history: Any) -> str:
    times = [e.time for e in history.all_events()]
    return str(max(times).year) if times else "2026"


def _write(path: Path, rows: Any, title: str) -> None:
    content = to_xlsx(rows, title) if path.suffix == ".xlsx" else to_csv(rows)
    exportfile.write_atomic(path, content)
    err.print(f"wrote {path}")


@app.command()
def export(
    out_file: Annotated[Path, typer.Option("--out", help="the JSON lines file to write")],
    source: Annotated[Source, typer.Option(help=SOURCE_HELP)] = Source.stores,
    file: FileOpt = None,
    start: Annotated[
        str | None, typer.Option("--from", help="first moment (ISO 8601, or a date: its start)")
    ] = None,
    end: Annotated[
        str | None, typer.Option("--to", help="last moment (ISO 8601, or a date: its end)")
    ] = None,
    member: Annotated[str | None, typer.Option(help="only events naming this member id")] = None,
    suggestion: Annotated[str | None, typer.Option(help="only this suggestion's events")] = None,
) -> None:
    """Export the history (a date range, optionally one member or one suggestion) as
    CloudEvents JSON lines, ending with a trailer that lets replay detect truncation."""
    lower = _moment(start, "--from", end_of_day=False)
    upper = _moment(end, "--to", end_of_day=True)
    history = _run(load(source, Settings(), file))
    events = timeline.in_range(history.all_events(), lower, upper)
    if member:
        events = timeline.about_member(events, member)
    if suggestion:
        events = timeline.about_suggestion(events, suggestion)
    exportfile.write_atomic(out_file, exportfile.render(events))
    err.print(f"wrote {len(events)} events to {out_file}")


@app.command()
def history(
    member: Annotated[str | None, typer.Option(help="a member id")] = None,
    suggestion: Annotated[str | None, typer.Option(help="a suggestion id")] = None,
    link: Annotated[
        str | None, typer.Option(help="a link id (its MemberAssigned event id)")
    ] = None,
    source: Annotated[Source, typer.Option(help=SOURCE_HELP)] = Source.stores,
    file: FileOpt = None,
) -> None:
    """The timeline of one member, one link or one suggestion: every event, actor and time."""
    chosen = [
        (k, v) for k, v in (("member", member), ("suggestion", suggestion), ("link", link)) if v
    ]
    if len(chosen) != 1:
        err.print("[red]error:[/] give exactly one of --member, --suggestion, --link")
        raise typer.Exit(2)
    kind, ident = chosen[0]
    events = _run(load(source, Settings(), file)).all_events()
    pick = {"member": timeline.about_member, "suggestion": timeline.about_suggestion}
    found = pick.get(kind, timeline.about_link)(events, ident)
    render.history_table(out, f"{kind} {ident}: {len(found)} events", found)
