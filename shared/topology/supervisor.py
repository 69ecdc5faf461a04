"""Runs the process table on this machine: one OS process each, logs in one folder.

Each process starts in a session of its own, so a Ctrl-C in the terminal reaches only the
supervisor, which then stops the processes in order: the HTTP processes first (no new
commands), the relays last (they publish what the services stored before stopping). A
process that exits on its own is started again after a pause that doubles each time (up to
30 s). ``stack.json`` in the state folder names the supervisor and its processes (their pids,
ports and restarts), for ``sanlian-stack down`` and ``status`` from another terminal.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from topology.table import Addresses, Process, argv_of, balanced, service_of, settings_of

STOP_SECONDS = 30.0
"""How long a process may take to stop after SIGTERM before it is killed."""


@dataclass
class Running:
    """A process of the table and its current OS process."""

    process: Process
    popen: subprocess.Popen[bytes]
    log: Path
    restarts: int = 0
    next_start: float | None = None
    backoff: float = 1.0
    exits: list[int] = field(default_factory=list)


def ready(url: str, timeout: float = 2.0) -> bool:
    """Whether ``GET <url>/ready`` answers 200."""
    try:
        with urllib.request.urlopen(f"{url}/ready", timeout=timeout) as answer:
            return bool(answer.status == 200)
    except (OSError, urllib.error.URLError):
        return False


class Stack:
    """The processes of one ``sanlian-stack up``."""

    def __init__(
        self,
        processes: list[Process],
        addresses: Addresses,
        state_dir: Path,
        *,
        environment: dict[str, str] | None = None,
        say: Callable[[str], None] = print,
    ) -> None:
        self.processes = processes
        self.addresses = addresses
        self.state_dir = state_dir
        self.log_dir = state_dir / "logs"
        self.environment = dict(os.environ if environment is None else environment)
        self.say = say
        self.running: dict[str, Running] = {}
        self._stopping = False

    @property
    def state_file(self) -> Path:
        """Where the pids are written."""
        return self.state_dir / "stack.json"

    def _spawn(self, process: Process) -> subprocess.Popen[bytes]:
        env = {**self.environment, **settings_of(process, self.addresses)}
        log = self.log_dir / f"{process.name}.log"
        out: IO[bytes]
        with log.open("ab") as out:
            return subprocess.Popen(
                [process.program or sys.executable, *argv_of(process, self.addresses)],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # the terminal's Ctrl-C is the supervisor's to handle
            )

    def start(self) -> None:
        """Start every process."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        for process in self.processes:
            popen = self._spawn(process)
            self.running[process.name] = Running(
                process, popen, self.log_dir / f"{process.name}.log"
            )
        self._write_state()

    def _write_state(self) -> None:
        details = describe(self.processes, self.addresses)
        for name, running in self.running.items():
            details[name].update(
                restarts=running.restarts,
                exits=running.exits[-5:],
                restarting=running.next_start is not None,
            )
        state = {
            "supervisor": os.getpid(),
            "processes": {name: r.popen.pid for name, r in self.running.items()},
            "details": details,
        }
        temporary = self.state_file.with_suffix(".tmp")
        temporary.write_text(json.dumps(state, indent=2) + "\n", "utf-8")
        temporary.replace(self.state_file)

    def urls(self) -> dict[str, str]:
        """The base URL of each HTTP process."""
        return {
            p.name: f"http://127.0.0.1:{self.addresses.port(p)}" for p in self.processes if p.http
        }

    def wait_ready(self, seconds: float) -> list[str]:
        """Wait until every HTTP process answers /ready with 200; return those that did not."""
        deadline = time.monotonic() + seconds
        pending = dict(self.urls())
        while pending and time.monotonic() < deadline and not self._stopping:
            for name, url in list(pending.items()):
                if ready(url):
                    del pending[name]
            self.supervise()
            if pending:
                time.sleep(0.5)
        return sorted(pending)

    def supervise(self) -> None:
        """Start again what exited on its own (after its pause)."""
        now = time.monotonic()
        for running in self.running.values():
            code = running.popen.poll()
            if code is None or self._stopping:
                continue
            if running.next_start is None:
                running.exits.append(code)
                running.next_start = now + running.backoff
                self.say(
                    f"{running.process.name} exited ({code}); starting it again in "
                    f"{running.backoff:.0f} s (log: {running.log})"
                )
                running.backoff = min(30.0, running.backoff * 2)
                self._write_state()  # status shows the exit while the process waits
            elif now >= running.next_start:
                running.popen = self._spawn(running.process)
                running.restarts += 1
                running.next_start = None
                self._write_state()

    def run(self, stop_requested: Callable[[], bool]) -> None:
        """Supervise until ``stop_requested()``."""
        while not stop_requested():
            self.supervise()
            time.sleep(0.5)

    def stop(self) -> dict[str, int | None]:
        """SIGTERM the HTTP processes, then the relays; SIGKILL what outlives STOP_SECONDS.

        Returns each process's exit code (``None``: it had to be killed)."""
        self._stopping = True
        codes: dict[str, int | None] = {}
        for group in (
            [r for r in self.running.values() if r.process.kind != "relay"],
            [r for r in self.running.values() if r.process.kind == "relay"],
        ):
            for running in group:
                if running.popen.poll() is None:
                    with contextlib.suppress(ProcessLookupError):
                        running.popen.send_signal(signal.SIGTERM)
            for running in group:
                try:
                    codes[running.process.name] = running.popen.wait(timeout=STOP_SECONDS)
                except subprocess.TimeoutExpired:
                    self.say(f"{running.process.name} did not stop in {STOP_SECONDS:.0f} s: killed")
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(running.popen.pid, signal.SIGKILL)
                    running.popen.wait(timeout=10)
                    codes[running.process.name] = None
        with contextlib.suppress(FileNotFoundError):
            self.state_file.unlink()
        return codes


def describe(processes: list[Process], addresses: Addresses) -> dict[str, dict[str, Any]]:
    """What ``stack.json`` says of each process besides its pid, for ``sanlian-stack status``:
    its kind, the process of the table it belongs to (``service``), the port an HTTP process
    listens on and, for the balancer, the port of each process it stands in for (``pools``)."""
    details: dict[str, dict[str, Any]] = {}
    for process in processes:
        detail: dict[str, Any] = {"kind": process.kind, "service": service_of(process)}
        if process.http:
            detail["port"] = addresses.port(process)
        if process.kind == "balancer":
            detail["pools"] = {p.name: addresses.port(p) for p in balanced(processes)}
        details[process.name] = detail
    return details


def read_state(state_dir: Path) -> dict[str, Any] | None:
    """The pids of a running stack, or None."""
    try:
        state: dict[str, Any] = json.loads((state_dir / "stack.json").read_text("utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    return state


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (and is not a zombie)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def _is_ours(pid: int, state_dir: Path | None = None) -> bool:
    """Whether ``pid`` is a Sanlian Python process, or the HAProxy running the config in
    ``state_dir`` (a pid may have been reused since)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except (FileNotFoundError, ProcessLookupError):
        return False
    names = (b"uvicorn", b"servicekit", b"topology", b"sanlian-stack")
    if any(part.rsplit(b"/", 1)[-1] in names for part in cmdline):
        return True
    if state_dir is None or cmdline[0].rsplit(b"/", 1)[-1] != b"haproxy":
        return False
    return os.fsencode((state_dir / "haproxy.cfg").resolve()) in cmdline


def down(state_dir: Path, seconds: float = STOP_SECONDS + 15) -> list[int]:
    """Stop the stack of ``state_dir`` from outside: SIGTERM its supervisor (which stops the
    processes in order) and wait; then SIGKILL whatever it left behind. Returns the pids that
    were still running when it gave up (none, normally)."""
    state = read_state(state_dir)
    if state is None:
        return []
    supervisor = int(state["supervisor"])
    children = [int(pid) for pid in state["processes"].values()]
    if alive(supervisor) and _is_ours(supervisor):
        os.kill(supervisor, signal.SIGTERM)
        deadline = time.monotonic() + seconds
        while alive(supervisor) and time.monotonic() < deadline:
            time.sleep(0.2)
    for pid in children:  # a supervisor that was killed leaves its processes behind
        if alive(pid) and _is_ours(pid, state_dir):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_SECONDS
    # Only this stack's: a pid taken by another program since is not waited for.
    while any(alive(pid) and _is_ours(pid, state_dir) for pid in children) and (
        time.monotonic() < deadline
    ):
        time.sleep(0.2)
    left = [pid for pid in children if alive(pid) and _is_ours(pid, state_dir)]
    for pid in left:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(FileNotFoundError):
        (state_dir / "stack.json").unlink()
    return left
