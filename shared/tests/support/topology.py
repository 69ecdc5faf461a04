"""The full topology as separate processes: each service under uvicorn, each store's relay.

Every process is a real child process, so a test can ``kill -9`` it and start it again; an app
keeps its port across restarts so clients keep their addresses.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from eventspine.config import Settings
from support.own_servers import ROOT, free_port

APPS = ("roster", "contacts", "feedback", "reports", "notify")
"""The services, each its own uvicorn process (``<name>.main:create_app``)."""

RELAYS = ("roster", "contacts", "feedback", "notify")
"""The services that own an event store, each with a relay process."""


def settings_env(settings: Settings) -> dict[str, str]:
    """The ``SANLIAN_*`` variables that make a process use ``settings``' servers and names."""
    return {
        "SANLIAN_STORE_BACKEND": "postgres",
        "SANLIAN_PG_DSN": settings.pg_dsn,
        "SANLIAN_PG_SCHEMA_PREFIX": settings.pg_schema_prefix,
        "SANLIAN_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "SANLIAN_TOPIC_PREFIX": settings.topic_prefix,
    }


class Topology:
    """Apps and relays by name: ``"contacts"`` is the app, ``"relay:contacts"`` its relay."""

    def __init__(self, settings: Settings, logs: Path, extra_env: dict[str, str] | None = None):
        self.settings = settings
        self.logs = logs
        self.env = {**os.environ, **settings_env(settings), **(extra_env or {})}
        self.ports = {app: free_port() for app in APPS}
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.kills = 0
        self.starts_seen: dict[str, int] = {}

    @property
    def names(self) -> list[str]:
        """Every process of the topology."""
        return [*APPS, *(f"relay:{service}" for service in RELAYS)]

    def url(self, app: str) -> str:
        """The base URL of an app."""
        return f"http://127.0.0.1:{self.ports[app]}"

    def _command(self, name: str) -> list[str]:
        if name.startswith("relay:"):
            return ["-m", "servicekit", "relay", "--service", name.removeprefix("relay:")]
        return [
            "-m",
            "uvicorn",
            "--factory",
            f"{name}.main:create_app",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.ports[name]),
            "--log-level",
            "warning",
        ]

    def log(self, name: str) -> Path:
        """Where a process writes its output (appended across restarts)."""
        return self.logs / f"{name.replace(':', '-')}.log"

    def _relay_starts(self, name: str) -> int:
        log = self.log(name)
        return log.read_text(errors="replace").count("relay.started") if log.exists() else 0

    def start(self, name: str) -> None:
        """Start one process (it must not be running)."""
        if name.startswith("relay:"):  # ready once its log says it started once more
            self.starts_seen[name] = self._relay_starts(name)
        with self.log(name).open("ab") as out:
            self.processes[name] = subprocess.Popen(
                [sys.executable, *self._command(name)],
                env=self.env,
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def kill(self, name: str) -> None:
        """SIGKILL one process: no cleanup, no flush, as a crash or an OOM kill would do."""
        process = self.processes.pop(name)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        self.kills += 1

    def alive(self, name: str) -> bool:
        """Whether the process runs."""
        process = self.processes.get(name)
        return process is not None and process.poll() is None

    async def ready(self, name: str, seconds: float = 120) -> None:
        """Wait until an app answers ``/health`` (a relay: until it logs that it started)."""
        deadline = time.monotonic() + seconds
        if name.startswith("relay:"):
            while time.monotonic() < deadline:
                self._check_alive(name)
                if self._relay_starts(name) > self.starts_seen.get(name, 0):
                    return
                await asyncio.sleep(0.2)
            raise AssertionError(f"{name} did not start within {seconds} s:\n{self.tail(name)}")
        async with httpx.AsyncClient(timeout=5) as client:
            while time.monotonic() < deadline:
                self._rebind_if_taken(name)
                self._check_alive(name)
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(f"{self.url(name)}/health")).status_code == 200:
                        # The answer must come from the process started here: one that could
                        # not bind its port exits, while another server may hold that port.
                        await asyncio.sleep(0.3)
                        self._rebind_if_taken(name)
                        if self.alive(name):
                            return
                await asyncio.sleep(0.2)
        raise AssertionError(f"{name} did not answer within {seconds} s:\n{self.tail(name)}")

    def _rebind_if_taken(self, name: str) -> None:
        """An app that exited because its port was taken meanwhile (a free port is only free
        when it is chosen) starts again on another one."""
        if self.alive(name) or name not in self.ports:
            return
        if "address already in use" not in self.tail(name)[-600:]:
            return
        self.ports[name] = free_port()
        self.start(name)

    def _check_alive(self, name: str) -> None:
        if not self.alive(name):
            raise AssertionError(f"{name} exited:\n{self.tail(name)}")

    def tail(self, name: str) -> str:
        """The end of a process's log, for failure messages."""
        log = self.log(name)
        return log.read_text(errors="replace")[-4000:] if log.exists() else ""

    async def restart(self, name: str) -> None:
        """Kill a process with SIGKILL, start it again and wait until it serves."""
        self.kill(name)
        self.start(name)
        await self.ready(name)

    async def start_all(self) -> None:
        """Start every app and relay, and wait until every app answers."""
        for name in self.names:
            self.start(name)
        for name in self.names:
            await self.ready(name)

    def stop_all(self) -> None:
        """SIGTERM everything still running and wait (SIGKILL after 30 s)."""
        for process in self.processes.values():
            with contextlib.suppress(ProcessLookupError):
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        self.processes.clear()
