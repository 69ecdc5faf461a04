"""``sanlian-stack status``: each process of a running stack, as ``stack.json`` names it.

One row per process, grouped by the process of the table it belongs to: roster's instances,
the balancer's front for the roster (``make stack INSTANCES=N``), then the relays of the
roster's store, which say whether they publish (``active``) or wait for the store's lease
(``standby``). Whether a process runs is asked of ``/proc``, whether it is ready of its
``/ready``, and a relay's role of the last line of its log that gives one.
"""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from topology.supervisor import alive, describe, ready
from topology.table import Addresses, Process, enabled, scaled

LOG_TAIL_BYTES = 256 * 1024
"""How much of a relay's log is read back for its role (its last few thousand lines)."""

_KIND_ORDER = {"service": 0, "web": 0, "balancer": 1, "relay": 2}


@dataclass(frozen=True)
class Row:
    """One line of the status table."""

    service: str
    process: str
    port: int | None
    pid: int
    alive: bool
    ready: bool | None
    """``/ready`` answered 200 (``None``: the process serves no HTTP)."""
    role: str | None
    """A relay's ``active``, ``standby`` or ``unknown`` (``None``: not a relay, or not running)."""
    restarts: int = 0
    """How often the supervisor started it again."""
    last_exit: int | None = None
    """How it last exited (a negative code: the signal), if it did."""
    restarting: bool = False
    """It exited and the supervisor starts it again after a pause."""


def started_at(pid: int) -> float | None:
    """When ``pid`` started (seconds since the epoch, at most a second early), or None."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()
        boot = next(
            int(line.split()[1])
            for line in Path("/proc/stat").read_text().splitlines()
            if line.startswith("btime ")
        )
    except (FileNotFoundError, ProcessLookupError, StopIteration):
        return None
    # Field 22 of stat (the 20th after the command's parentheses): clock ticks since boot.
    return boot + int(fields[19]) / os.sysconf("SC_CLK_TCK")


def relay_role(log: Path, since: float | None) -> str:
    """The role the relay logging to ``log`` last gave itself (``active`` once it holds its
    store's lease, ``standby`` while another relay does), counting only lines written at or
    after ``since`` (the process's start: the log is appended across restarts); ``unknown``
    when there is none."""
    try:
        with log.open("rb") as file:
            file.seek(max(0, file.seek(0, os.SEEK_END) - LOG_TAIL_BYTES))
            tail = file.read().decode("utf-8", errors="replace")
    except FileNotFoundError:
        return "unknown"
    for line in reversed(tail.splitlines()):
        if '"role"' not in line:
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:  # the first line of the tail may be cut
            continue
        role = record.get("role") if isinstance(record, dict) else None
        if not isinstance(role, str):
            continue
        if since is not None and _timestamp(record.get("timestamp")) < since:
            return "unknown"  # the line of an earlier process: this one has not said yet
        return role
    return "unknown"


def _timestamp(value: object) -> float:
    try:
        return datetime.fromisoformat(str(value)).timestamp()
    except ValueError:
        return 0.0


def rows(
    state: dict[str, Any],
    folder: Path,
    *,
    port_base: int,
    is_alive: Callable[[int], bool] = alive,
    is_ready: Callable[[str], bool] = ready,
    since: Callable[[int], float | None] = started_at,
) -> list[Row]:
    """The rows of the stack whose ``stack.json`` in ``folder`` is ``state``, grouped by the
    process of the table they belong to (in the table's order), instances first, then the
    balancer, then the relays. ``port_base`` places the ports of a state written without
    them (by an older supervisor)."""
    pids = {name: int(pid) for name, pid in state["processes"].items()}
    details: dict[str, dict[str, Any]] = state.get("details") or _guessed(pids, port_base)
    result: list[Row] = []
    for name, pid in pids.items():
        detail = details.get(name, {})
        kind, service = detail.get("kind", "service"), detail.get("service", name)
        running = pid > 0 and is_alive(pid)
        exits = detail.get("exits") or [None]
        common: dict[str, Any] = {
            "pid": pid,
            "alive": running,
            "restarts": int(detail.get("restarts", 0)),
            "last_exit": exits[-1],
            "restarting": not running and bool(detail.get("restarting")),
        }
        if kind == "balancer":
            for pool, port in detail.get("pools", {}).items():
                front = running and is_ready(f"http://127.0.0.1:{port}")
                result.append(Row(pool, name, port, ready=front, role=None, **common))
            continue
        port = detail.get("port")
        answers: bool | None = None
        if port is not None:
            answers = running and is_ready(f"http://127.0.0.1:{port}")
        role = None
        if kind == "relay" and running:
            role = relay_role(folder / "logs" / f"{name}.log", since(pid))
        result.append(Row(service, name, port, ready=answers, role=role, **common))
    order = [p.name for p in enabled()]

    def position(row: Row) -> tuple[int, int]:
        group = order.index(row.service) if row.service in order else len(order)
        return group, _KIND_ORDER.get(details.get(row.process, {}).get("kind", "service"), 0)

    return sorted(result, key=position)  # stable: the start order within a kind


def _guessed(pids: dict[str, int], port_base: int) -> dict[str, dict[str, Any]]:
    """The details of a state that has none: the table, scaled as its names say."""
    instances = max(
        (int(n.rsplit("-", 1)[1]) for n in pids if n.rsplit("-", 1)[-1].isdigit()), default=1
    )
    processes = scaled(enabled(), instances, Process("balancer", "balancer", ()))
    return describe(processes, Addresses("", "", "127.0.0.1", port_base, "127.0.0.1"))


def _exit(code: int | None) -> str:
    if code is None:
        return ""
    if code < 0:
        try:
            return signal.Signals(-code).name
        except ValueError:
            return f"signal {-code}"
    return f"exit {code}"


def table(found: list[Row], supervisor: int, supervisor_alive: bool) -> Table:
    """The status table: a section per process of the table."""
    caption = f"supervisor {supervisor}: {'running' if supervisor_alive else 'not running'}"
    result = Table(
        "process", "port", "pid", "running", "ready", "role", "restarts", caption=caption
    )
    previous: str | None = None
    for row in found:
        if previous is not None and row.service != previous:
            result.add_section()
        previous = row.service
        name = f"{row.process} ({row.service})" if row.process == "balancer" else row.process
        restarts = str(row.restarts)
        if row.last_exit is not None:
            restarts += f" (last {_exit(row.last_exit)})"
        result.add_row(
            name,
            "-" if row.port is None else str(row.port),
            str(row.pid),
            "yes" if row.alive else ("restarting" if row.restarting else "no"),
            "-" if row.ready is None else ("yes" if row.ready else "no"),
            row.role or "-",
            restarts,
        )
    return result


def print_whole(console: Console, shown: Table) -> None:
    """Print ``shown``; into a file or a pipe (no terminal's width to fit), as wide as its
    cells are rather than cut at the console's 80 columns."""
    if not console.is_terminal:
        unbounded = console.options.update_width(10_000)
        console.width = max(console.width, console.measure(shown, options=unbounded).maximum)
    console.print(shown)
