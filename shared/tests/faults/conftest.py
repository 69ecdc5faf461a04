"""The fault tier: a PostgreSQL cluster and a Kafka broker of its own, the full topology as
separate processes, and the report printed at the end of the run.

The servers the rest of the suite uses are shared with other runs, so the scenarios that stop
a broker or restart a database use their own (``support.own_servers``). The tier is left out
of a plain ``pytest`` run (``-m 'not faults'`` in the settings): ``make test-faults`` runs it
with ``-m faults``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from support import tally
from support.cluster import OwnCluster
from support.own_servers import OwnServer, own_kafka, own_postgres


@pytest.fixture(scope="session")
def own_kafka_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OwnServer]:
    """A broker only the fault tier uses (and stops)."""
    server = own_kafka(tmp_path_factory.mktemp("own-kafka"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def own_kafka_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OwnCluster]:
    """Three brokers (KRaft) only the cluster scenarios use (and kill)."""
    cluster = OwnCluster(tmp_path_factory.mktemp("own-kafka-cluster"))
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def own_pg_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OwnServer]:
    """A PostgreSQL cluster only the fault tier uses (and restarts)."""
    server = own_postgres(tmp_path_factory.mktemp("own-postgres"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Print the fault tier's report (figures computed by the scenarios)."""
    if tally.RESULTS:
        terminalreporter.section("fault tier report")
        for line in tally.render():
            terminalreporter.write_line(line)
