"""Test infrastructure: real PostgreSQL and real Kafka, found or provisioned once per run.

Order (ARCHITECTURE.md, "Infrastructure"): addresses in the environment (``SANLIAN_PG_DSN``,
``SANLIAN_KAFKA_BOOTSTRAP``), then testcontainers when a Docker engine answers, then the local
provisioning scripts under ``deploy/local/``. A test whose infrastructure cannot be reached
fails; it is never skipped.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent
_versions: dict[str, str] = {}


def _docker_answers() -> bool:
    try:
        import docker  # testcontainers' dependency

        docker.from_env(timeout=3).ping()
    except Exception:
        return False
    return True


def _pg_version(dsn: str) -> str:
    import asyncio

    import asyncpg

    async def ask() -> str:
        conn = await asyncpg.connect(dsn)
        try:
            return str(await conn.fetchval("SHOW server_version"))
        finally:
            await conn.close()

    # A session fixture may first be asked for inside the tests' running event loop, where
    # asyncio.run cannot start another: ask from a thread of its own.
    from concurrent.futures import ThreadPoolExecutor

    try:
        with ThreadPoolExecutor(1) as pool:
            return pool.submit(asyncio.run, ask()).result()
    except Exception as exc:
        pytest.fail(f"PostgreSQL at SANLIAN_PG_DSN does not answer: {exc}", pytrace=False)


def _script(name: str, *args: str) -> str:
    result = subprocess.run(
        [str(ROOT / "deploy" / "local" / name), *args],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(
            f"deploy/local/{name} {' '.join(args)} failed ({result.returncode}):\n"
            f"{result.stderr[-3000:]}",
            pytrace=False,
        )
    return result.stdout.strip()


@pytest.fixture(scope="session")
def pg_dsn() -> Iterator[str]:
    """DSN of a real PostgreSQL server."""
    if dsn := os.environ.get("SANLIAN_PG_DSN"):
        _versions["PostgreSQL"] = _pg_version(dsn)
        yield dsn
    elif _docker_answers():
        from testcontainers.postgres import PostgresContainer

        with PostgresContainer("postgres:15", driver=None) as container:
            _versions["PostgreSQL"] = "postgres:15 (testcontainers)"
            yield container.get_connection_url()
    else:
        _script("postgres.sh", "start")
        _versions["PostgreSQL"] = _script("postgres.sh", "version")
        yield _script("postgres.sh", "dsn")


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    """``host:port`` of a real Apache Kafka broker."""
    if bootstrap := os.environ.get("SANLIAN_KAFKA_BOOTSTRAP"):
        _versions.setdefault("Kafka", "from SANLIAN_KAFKA_BOOTSTRAP")
        yield bootstrap
    elif _docker_answers():
        from testcontainers.kafka import KafkaContainer

        with KafkaContainer("apache/kafka:4.1.1").with_kraft() as container:
            _versions["Kafka"] = "apache/kafka:4.1.1 (testcontainers)"
            yield container.get_bootstrap_server()
    else:
        _script("kafka.sh", "start")
        _versions["Kafka"] = _script("kafka.sh", "version")
        yield _script("kafka.sh", "bootstrap")


def record_server_version(name: str, version: str) -> None:
    """Note the version a server reported itself, for the run's summary."""
    _versions[name] = version


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Print the server versions the integration tests ran against."""
    if _versions:
        terminalreporter.section("infrastructure")
        for name, version in sorted(_versions.items()):
            terminalreporter.write_line(f"{name}: {version}")
