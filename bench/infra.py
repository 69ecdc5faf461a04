"""Find or provision PostgreSQL and Kafka for a benchmark run (as the tests do)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _script(name: str, *args: str) -> str:
    result = subprocess.run(
        [str(ROOT / "deploy" / "local" / name), *args],
        capture_output=True,
        text=True,
        timeout=900,
        check=True,
    )
    return result.stdout.strip()


def pg_dsn() -> str:
    """``SANLIAN_PG_DSN`` or the local PostgreSQL (started if needed)."""
    if dsn := os.environ.get("SANLIAN_PG_DSN"):
        return dsn
    _script("postgres.sh", "start")
    return _script("postgres.sh", "dsn")


def kafka_bootstrap() -> str:
    """``SANLIAN_KAFKA_BOOTSTRAP`` or the local broker (started if needed)."""
    if bootstrap := os.environ.get("SANLIAN_KAFKA_BOOTSTRAP"):
        return bootstrap
    _script("kafka.sh", "start")
    return _script("kafka.sh", "bootstrap")


def versions() -> str:
    """The server versions, as far as the local scripts know them."""
    try:
        postgres = _script("postgres.sh", "version")
        kafka = _script("kafka.sh", "version")
    except (subprocess.CalledProcessError, OSError):
        return "external servers"
    return f"PostgreSQL {postgres}, Kafka {kafka}"
