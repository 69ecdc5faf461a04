"""``docker-compose.yml``, written from the process table.

The file is generated (``sanlian-stack compose --write``) and committed; a test fails when the
committed file differs from what the table gives, and ``deploy/local/compose.sh check``
validates it with docker-compose without a Docker engine.
"""

from __future__ import annotations

import json
import re
from typing import Any

from topology.table import Addresses, argv_of, enabled, settings_of

COMPOSE_ADDRESSES = Addresses(
    pg_dsn="postgresql://sanlian:sanlian@postgres:5432/sanlian?sslmode=disable",
    kafka_bootstrap="kafka:19092",
    host="0.0.0.0",
    port_base=18100,
)
"""Inside the Compose network: infrastructure by service name, the same ports as the stack."""

HEADER = """\
# The full Sanlian topology with Docker: PostgreSQL, a single-node Apache Kafka (KRaft, no
# ZooKeeper), every service and every relay, each its own container.
#
# GENERATED from shared/topology/table.py by `sanlian-stack compose --write`: edit the table,
# not this file (a test fails when they differ). `make stack` runs the same processes
# without Docker.
#
#   docker compose -p sanlian up --build -d        # everything
#   docker compose -p sanlian up -d postgres kafka # only the infrastructure, for tests
#
# From the host, the infrastructure has the addresses deploy/local/up.sh gives
# (postgresql://sanlian:sanlian@127.0.0.1:5432/sanlian, 127.0.0.1:9092) and the services the
# ports of `make stack` (roster 18101, contacts 18102, feedback 18103, reports 18104), all on
# loopback. Do not run both ways at once on the same ports.
"""

HEALTHY = {"condition": "service_healthy"}

_POSTGRES: dict[str, Any] = {
    "image": "postgres:15",
    "environment": {
        "POSTGRES_USER": "sanlian",
        "POSTGRES_PASSWORD": "sanlian",
        "POSTGRES_DB": "sanlian",
    },
    "ports": ["127.0.0.1:${SANLIAN_PG_PORT:-5432}:5432"],
    "volumes": ["pgdata:/var/lib/postgresql/data"],
    # Over TCP: during first-run initialisation the server listens on its Unix socket only.
    "healthcheck": {
        "test": ["CMD-SHELL", "pg_isready -h 127.0.0.1 -U sanlian -d sanlian"],
        "interval": "2s",
        "timeout": "5s",
        "retries": 30,
        "start_period": "10s",
    },
}

_KAFKA: dict[str, Any] = {
    "image": "apache/kafka:4.1.1",
    # Setting any KAFKA_* variable replaces the image's default config: all of it is here.
    "environment": {
        "CLUSTER_ID": "c2FubGlhbi1sb2NhbC0wMQ",
        "KAFKA_NODE_ID": "1",
        "KAFKA_PROCESS_ROLES": "broker,controller",
        "KAFKA_CONTROLLER_QUORUM_VOTERS": "1@localhost:9093",
        "KAFKA_CONTROLLER_LISTENER_NAMES": "CONTROLLER",
        # INTERNAL for containers, HOST for clients on the host (published on loopback).
        "KAFKA_LISTENERS": "INTERNAL://:19092,HOST://:9092,CONTROLLER://localhost:9093",
        "KAFKA_ADVERTISED_LISTENERS": (
            "INTERNAL://kafka:19092,HOST://127.0.0.1:${SANLIAN_KAFKA_PORT:-9092}"
        ),
        "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP": (
            "INTERNAL:PLAINTEXT,HOST:PLAINTEXT,CONTROLLER:PLAINTEXT"
        ),
        "KAFKA_INTER_BROKER_LISTENER_NAME": "INTERNAL",
        "KAFKA_LOG_DIRS": "/var/lib/kafka/data",
        "KAFKA_AUTO_CREATE_TOPICS_ENABLE": "false",
        "KAFKA_NUM_PARTITIONS": "3",
        "KAFKA_DEFAULT_REPLICATION_FACTOR": "1",
        "KAFKA_MIN_INSYNC_REPLICAS": "1",
        "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR": "1",
        "KAFKA_OFFSETS_TOPIC_NUM_PARTITIONS": "10",
        "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR": "1",
        "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR": "1",
        "KAFKA_TRANSACTION_STATE_LOG_NUM_PARTITIONS": "10",
        "KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR": "1",
        "KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR": "1",
        "KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS": "0",
        "KAFKA_HEAP_OPTS": "-Xmx512m -Xms256m",
    },
    "ports": ["127.0.0.1:${SANLIAN_KAFKA_PORT:-9092}:9092"],
    "volumes": ["kafkadata:/var/lib/kafka/data"],
    # A real request over the listener the services use, not just an open port.
    "healthcheck": {
        "test": [
            "CMD-SHELL",
            "/opt/kafka/bin/kafka-broker-api-versions.sh --bootstrap-server kafka:19092 "
            ">/dev/null 2>&1",
        ],
        "interval": "5s",
        "timeout": "20s",
        "retries": 30,
        "start_period": "15s",
    },
}

DOCKERFILE = "deploy/docker/Dockerfile"


def _ready_probe(port: int) -> list[str]:
    # The image has Python but no curl; urlopen raises on a 503, which fails the check.
    code = (
        f"import urllib.request; urllib.request.urlopen('http://127.0.0.1:{port}/ready', timeout=4)"
    )
    return ["CMD", "python", "-c", code]


def document() -> dict[str, Any]:
    """The Compose file as data."""
    services: dict[str, Any] = {"postgres": _POSTGRES, "kafka": _KAFKA}
    addresses = COMPOSE_ADDRESSES
    for process in enabled():
        entry: dict[str, Any] = {
            "image": f"sanlian-{process.kind}:dev",
            "build": {
                "context": ".",
                "dockerfile": DOCKERFILE,
                "target": process.kind,
            },
            "command": ["python", *argv_of(process, addresses)],
            "environment": settings_of(process, addresses),
            "restart": "unless-stopped",
            "depends_on": {"postgres": HEALTHY, "kafka": HEALTHY}
            | {name: HEALTHY for name in process.calls},
        }
        if process.http:
            port = addresses.port(process)
            entry["ports"] = [f"127.0.0.1:{port}:{port}"]
            entry["healthcheck"] = {
                "test": _ready_probe(port),
                "interval": "5s",
                "timeout": "5s",
                "retries": 30,
                "start_period": "20s",
            }
        services[process.name] = entry
    return {"services": services, "volumes": {"pgdata": {}, "kafkadata": {}}}


_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_./-]*$")
_RESERVED = {"true", "false", "yes", "no", "on", "off", "null", "y", "n", "~"}


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        if _PLAIN.match(value) and value.lower() not in _RESERVED:
            return value
        return json.dumps(value, ensure_ascii=False)  # a JSON string is a YAML string
    raise TypeError(f"cannot write {value!r} to the Compose file")


def _lines(value: Any, indent: int) -> list[str]:
    pad = "  " * indent
    lines: list[str] = []
    for key, item in value.items():
        if isinstance(item, dict):
            if not item:
                lines.append(f"{pad}{key}: {{}}")
            else:
                lines.append(f"{pad}{key}:")
                lines.extend(_lines(item, indent + 1))
        elif isinstance(item, list):
            # Lists of scalars in flow style: a JSON array is a YAML flow sequence.
            lines.append(f"{pad}{key}: [{', '.join(_quoted(x) for x in item)}]")
        else:
            lines.append(f"{pad}{key}: {_scalar(item)}")
    return lines


def _quoted(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False) if isinstance(value, str) else _scalar(value)


def render() -> str:
    """The text of ``docker-compose.yml``."""
    doc = document()
    body: list[str] = []
    for section in ("services", "volumes"):
        body.append(f"{section}:")
        for name, entry in doc[section].items():
            if entry:
                body.append(f"  {name}:")
                body.extend(_lines(entry, 2))
            else:
                body.append(f"  {name}: {{}}")
            if section == "services":
                body.append("")
    return HEADER + "\n" + "\n".join(body).rstrip() + "\n"
