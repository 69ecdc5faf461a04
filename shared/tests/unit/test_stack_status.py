"""``sanlian-stack status``: what the supervisor writes of each process to ``stack.json``, the
rows status makes of it (instances, the balancer's fronts, the relays' roles) and its table."""

from __future__ import annotations

import io
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from typer.testing import CliRunner

from topology.cli import app
from topology.status import Row, print_whole, relay_role, rows, table
from topology.supervisor import describe
from topology.table import Addresses, Process, by_name, enabled, scaled, service_of

ADDRESSES = Addresses("postgresql://x@h/db", "k:9092", "127.0.0.1", 18100, "127.0.0.1")
SCALED = scaled(enabled(), 2, Process("balancer", "balancer", ()))


def _state(processes: list[Process]) -> dict[str, Any]:
    """A ``stack.json`` as the supervisor writes it, pids numbered from 1000."""
    details = describe(processes, ADDRESSES)
    for detail in details.values():
        detail.update(restarts=0, exits=[], restarting=False)
    return {
        "supervisor": 999,
        "processes": {p.name: 1000 + n for n, p in enumerate(processes)},
        "details": details,
    }


def _line(role: str, at: float, event: str = "relay.active") -> str:
    stamp = datetime.fromtimestamp(at, UTC).isoformat().replace("+00:00", "Z")
    return json.dumps({"event": event, "role": role, "timestamp": stamp, "level": "info"})


def test_the_state_names_each_instance_port_and_the_balancers_fronts() -> None:
    details = describe(SCALED, ADDRESSES)
    assert details["roster-1"] == {"kind": "service", "service": "roster", "port": 18111}
    assert details["roster-2"]["port"] == 18121
    assert details["web-2"] == {"kind": "web", "service": "web", "port": 18120}
    assert details["contacts-relay-standby"] == {"kind": "relay", "service": "contacts"}
    # The balancer listens where each single process would have.
    assert details["balancer"]["pools"] == {p.name: ADDRESSES.port(p) for p in enabled() if p.http}
    assert details["balancer"]["pools"]["web"] == 18100
    # One instance of each: no balancer, every process of the table on its own port.
    single = describe(enabled(), ADDRESSES)
    assert single["roster"] == {"kind": "service", "service": "roster", "port": 18101}
    assert "balancer" not in single
    assert service_of(by_name("notify-relay")) == "notify"


def test_rows_group_instances_balancer_and_relays_and_tell_who_is_dead(tmp_path: Path) -> None:
    state = _state(SCALED)
    dead = state["processes"]["roster-2"]
    state["details"]["roster-2"].update(restarts=1, exits=[-9], restarting=True)
    logs = tmp_path / "logs"
    logs.mkdir()
    started = datetime(2026, 3, 1, 9, 0, tzinfo=UTC).timestamp()
    (logs / "roster-relay.log").write_text(
        "\n".join(
            [
                _line("standby", started + 1, "relay.started"),
                _line("active", started + 2),
                '{"event": "relay.batch", "count": 3}',
                "a line that is not JSON",
            ]
        )
        + "\n"
    )
    (logs / "roster-relay-standby.log").write_text(
        _line("standby", started + 1, "relay.started")
        + "\n"
        + _line("standby", started + 1.5, "relay.standby")
        + "\n"
    )
    asked: list[str] = []

    def is_ready(url: str) -> bool:
        asked.append(url)
        return True

    found = rows(
        state,
        tmp_path,
        port_base=18100,
        is_alive=lambda pid: pid != dead,
        is_ready=is_ready,
        since=lambda pid: started,
    )
    roster = [r for r in found if r.service == "roster"]
    assert [r.process for r in roster] == [
        "roster-1",
        "roster-2",
        "balancer",
        "roster-relay",
        "roster-relay-standby",
    ]
    one, two, front, relay, standby = roster
    assert (one.port, one.alive, one.ready) == (18111, True, True)
    assert (two.alive, two.ready, two.restarting, two.restarts, two.last_exit) == (
        False,
        False,
        True,
        1,
        -9,
    )
    assert "http://127.0.0.1:18121" not in asked  # a dead process is not asked
    assert (front.port, front.pid, front.ready) == (18101, state["processes"]["balancer"], True)
    assert (relay.role, relay.ready, relay.port) == ("active", None, None)
    assert standby.role == "standby"
    # The groups follow the table (roster first, the frontend last); the balancer has a front
    # for each balanced process.
    services = list(dict.fromkeys(r.service for r in found))
    assert services == ["roster", "contacts", "feedback", "reports", "notify", "web"]
    assert sum(r.process == "balancer" for r in found) == 6
    assert [r.process for r in found if r.service == "reports"] == [
        "reports-1",
        "reports-2",
        "balancer",
    ]


def test_a_relays_role_is_its_last_since_it_started(tmp_path: Path) -> None:
    log = tmp_path / "feedback-relay.log"
    assert relay_role(log, None) == "unknown"  # no log yet
    start = 1_700_000_000.0
    log.write_text(
        "\n".join(
            [
                _line("active", start - 60),  # before a restart: the earlier process's
                _line("standby", start + 1, "relay.started"),
                _line("active", start + 5),
                _line("standby", start + 9, "relay.lease_lost"),
            ]
        )
        + "\n"
    )
    assert relay_role(log, start) == "standby"
    assert relay_role(log, None) == "standby"
    # Started again after that: until the new process says, its role is not known.
    assert relay_role(log, start + 30) == "unknown"
    # A long log: only its tail is read, and a line cut at the tail's start is skipped.
    padding = '{"event": "relay.batch", "count": 1}\n' * 20_000
    log.write_text(_line("active", start + 1) + "\n" + padding)
    assert relay_role(log, start) == "unknown"
    log.write_text(padding + _line("active", start + 1) + "\n" + padding[: 100 * 37])
    assert relay_role(log, start) == "active"


def test_a_state_without_details_is_read_as_the_table_scaled_as_its_names_say(
    tmp_path: Path,
) -> None:
    state = {"supervisor": 1, "processes": {p.name: 10 for p in SCALED}}
    found = rows(
        state, tmp_path, port_base=20000, is_alive=lambda pid: True, is_ready=lambda url: False
    )
    ports = {r.process: r.port for r in found if r.process != "balancer"}
    assert ports["roster-2"] == 20021
    assert {r.port for r in found if r.process == "balancer"} == {20000 + n for n in range(6)}
    single = {"supervisor": 1, "processes": {p.name: 10 for p in enabled()}}
    found = rows(
        single, tmp_path, port_base=20000, is_alive=lambda pid: True, is_ready=lambda url: True
    )
    assert {r.process: r.port for r in found}["contacts"] == 20002


def _rendered(found: list[Row]) -> list[str]:
    text = io.StringIO()
    Console(file=text, width=200).print(table(found, 999, supervisor_alive=True))
    return text.getvalue().splitlines()


def test_the_table_says_what_each_process_is_doing_in_a_section_per_service() -> None:
    found = [
        Row("roster", "roster-1", 18111, 1001, alive=True, ready=True, role=None),
        Row(
            "roster",
            "roster-2",
            18121,
            1002,
            alive=False,
            ready=False,
            role=None,
            restarts=1,
            last_exit=-9,
            restarting=True,
        ),
        Row("roster", "balancer", 18101, 1009, alive=True, ready=True, role=None),
        Row("roster", "roster-relay-standby", None, 1003, alive=True, ready=None, role="active"),
        Row("feedback", "feedback-relay-standby", None, 1004, alive=False, ready=None, role=None),
    ]
    lines = _rendered(found)

    def line_of(name: str) -> list[str]:
        [line] = [line for line in lines if f" {name} " in line]
        return line.replace("│", " ").split()

    assert line_of("roster-1") == ["roster-1", "18111", "1001", "yes", "yes", "-", "0"]
    assert line_of("roster-2") == [
        "roster-2",
        "18121",
        "1002",
        "restarting",
        "no",
        "-",
        "1",
        "(last",
        "SIGKILL)",
    ]
    assert line_of("balancer") == ["balancer", "(roster)", "18101", "1009", "yes", "yes", "-", "0"]
    assert line_of("roster-relay-standby")[1:] == ["-", "1003", "yes", "-", "active", "0"]
    assert line_of("feedback-relay-standby")[3:6] == ["no", "-", "-"]
    # A rule between the roster's processes and the feedback's.
    rule = next(n for n, line in enumerate(lines) if "roster-relay-standby" in line) + 1
    assert lines[rule].startswith("├")
    assert "supervisor 999: running" in "\n".join(lines)


def test_the_command_reads_the_state_dir_and_says_when_no_stack_runs(tmp_path: Path) -> None:
    runner = CliRunner()
    stopped = runner.invoke(app, ["status", "--state-dir", str(tmp_path)])
    assert stopped.exit_code == 3
    folder = tmp_path / "stack"
    folder.mkdir()
    processes = [by_name("roster"), by_name("roster-relay")]
    state = _state(processes)
    # This test's own process stands for both, on a port nobody answers /ready on.
    state["supervisor"] = os.getpid()
    state["processes"] = {p.name: os.getpid() for p in processes}
    state["details"]["roster"]["port"] = 9
    (folder / "stack.json").write_text(json.dumps(state))
    shown = runner.invoke(app, ["status", "--state-dir", str(tmp_path)], env={"COLUMNS": "40"})
    assert shown.exit_code == 0, shown.output
    lines = shown.output.splitlines()
    # Not a terminal: the table keeps its lines whole rather than wrap them at the width.
    assert len({len(line) for line in lines[:5]}) == 1, shown.output
    assert len(lines[0]) > 40, shown.output
    roster = next(line for line in lines if " roster " in line).replace("│", " ").split()
    assert roster == ["roster", "9", str(os.getpid()), "yes", "no", "-", "0"]
    relay = next(line for line in lines if " roster-relay " in line).replace("│", " ").split()
    assert relay[4:6] == ["-", "unknown"]  # no log: its role is not known


def test_a_table_printed_into_a_file_keeps_its_cells_whole() -> None:
    text = io.StringIO()
    wide = Table("process", "log")
    wide.add_row("contacts-relay-standby", "/a/state/dir/that/is/long/stack/logs/x.log" * 2)
    print_whole(Console(file=text, width=80), wide)
    assert "/a/state/dir/that/is/long/stack/logs/x.log" * 2 in text.getvalue()
