"""A PostgreSQL cluster and a Kafka broker of the fault tests' own, which they may stop.

The suite's ordinary servers are shared with every other test run on the machine, so a test
that stops a broker or restarts a database must never touch them. These run from the same
``deploy/local`` scripts on other ports (and, for Kafka, in a state directory of their own).
"""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
SCRIPTS = ROOT / "deploy" / "local"

FAULTS_PG_PORT = 55433
"""Default port of the fault tests' PostgreSQL cluster (``SANLIAN_FAULTS_PG_PORT``)."""


def free_port() -> int:
    """A TCP port nobody listens on right now (on 127.0.0.1)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class OwnServer:
    """One server run by a ``deploy/local`` script with its own ``SANLIAN_*`` settings."""

    def __init__(self, script: str, address_command: str, env: dict[str, str]) -> None:
        self.script = script
        self.address_command = address_command
        self.env = env

    def _run(self, command: str, timeout: float = 900) -> str:
        result = subprocess.run(
            [str(SCRIPTS / self.script), command],
            env={**os.environ, **self.env},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if result.returncode != 0:
            pytest.fail(
                f"deploy/local/{self.script} {command} failed ({result.returncode}):\n"
                f"{result.stderr[-3000:]}",
                pytrace=False,
            )
        return result.stdout.strip()

    def start(self) -> None:
        """Start it (idempotent) and wait until it serves."""
        self._run("start")

    def stop(self) -> None:
        """Stop it (idempotent)."""
        self._run("stop", timeout=180)

    @property
    def address(self) -> str:
        """A DSN (PostgreSQL) or ``host:port`` (Kafka)."""
        return self._run(self.address_command, timeout=30)

    @property
    def version(self) -> str:
        """The server's version as the script reports it."""
        return self._run("version", timeout=30)


def own_kafka(state_dir: Path) -> OwnServer:
    """A single-node broker on free ports, its data under ``state_dir``."""
    return OwnServer(
        "kafka.sh",
        "bootstrap",
        {
            "SANLIAN_KAFKA_PORT": str(free_port()),
            "SANLIAN_KAFKA_CONTROLLER_PORT": str(free_port()),
            "SANLIAN_STATE_DIR": str(state_dir),
            # A small heap: the machine runs the suite's shared broker beside it.
            "SANLIAN_KAFKA_HEAP_OPTS": "-Xmx384m -Xms128m",
        },
    )


def own_postgres(state_dir: Path) -> OwnServer:
    """A dedicated cluster on ``SANLIAN_FAULTS_PG_PORT`` (created by the script on first use)."""
    port = os.environ.get("SANLIAN_FAULTS_PG_PORT", str(FAULTS_PG_PORT))
    return OwnServer(
        "postgres.sh", "dsn", {"SANLIAN_PG_PORT": port, "SANLIAN_STATE_DIR": str(state_dir)}
    )
