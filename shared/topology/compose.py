"""``docker-compose.yml``, written from the process table.

The file is generated (``sanlian-stack compose --write``) and committed; a test fails when the
committed file differs from what the table gives, and ``deploy/local/compose.sh check``
validates it with docker-compose without a Docker engine.
"""

from __future__ import annotations

import json
import re
from typing import Any

from topology.balancer import Pool, haproxy_config
from topology.table import (
    Addresses,
    Process,
    argv_of,
    enabled,
    instances_of,
    scaled,
    settings_of,
)

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


CLUSTER_FILE = "docker-compose.cluster.yml"
BALANCER_CONFIG = "deploy/docker/haproxy.cluster.cfg"
BROKERS = 3
INSTANCES = 2

CLUSTER_ADDRESSES = Addresses(
    pg_dsn=COMPOSE_ADDRESSES.pg_dsn,
    kafka_bootstrap=",".join(f"kafka-{n}:19092" for n in range(1, BROKERS + 1)),
    host="0.0.0.0",
    port_base=18100,
)
"""The cluster's Compose network: three brokers; ``roster`` etc. name the balancer."""

CLUSTER_SETTINGS = {
    "SANLIAN_TOPIC_REPLICATION": str(BROKERS),
    "SANLIAN_TOPIC_MIN_INSYNC_REPLICAS": "2",
}

CLUSTER_HEADER = """\
# The full Sanlian topology outgrown one machine, with Docker: a three-broker Apache Kafka
# cluster (KRaft; event topics with three replicas, min.insync.replicas 2), two containers of
# each HTTP process behind HAProxy (health-checked on /ready), two relays per store.
#
# GENERATED from shared/topology/table.py by `sanlian-stack compose --cluster --write`, with
# deploy/docker/haproxy.cluster.cfg: edit the table, not these files (a test fails when they
# differ). `make stack INSTANCES=2` with SANLIAN_KAFKA_BROKERS=3 is the same without Docker.
#
#   docker compose -f docker-compose.cluster.yml -p sanlian-cluster up --build -d
#
# From the host: brokers on 127.0.0.1:9092-9094, the services through the balancer on the
# ports of `make stack`.
"""


def _broker(number: int) -> dict[str, Any]:
    name = f"kafka-{number}"
    voters = ",".join(f"{n}@kafka-{n}:9093" for n in range(1, BROKERS + 1))
    environment = {
        **_KAFKA["environment"],
        "KAFKA_NODE_ID": str(number),
        "KAFKA_CONTROLLER_QUORUM_VOTERS": voters,
        "KAFKA_LISTENERS": "INTERNAL://:19092,HOST://:9092,CONTROLLER://:9093",
        "KAFKA_ADVERTISED_LISTENERS": (f"INTERNAL://{name}:19092,HOST://127.0.0.1:{9091 + number}"),
        "KAFKA_DEFAULT_REPLICATION_FACTOR": "3",
        "KAFKA_MIN_INSYNC_REPLICAS": "2",
        "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR": "3",
        "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR": "3",
        "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR": "2",
        "KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR": "3",
        "KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR": "2",
        "KAFKA_UNCLEAN_LEADER_ELECTION_ENABLE": "false",
        "KAFKA_HEAP_OPTS": "-Xmx320m -Xms128m",
    }
    probe = (
        f"/opt/kafka/bin/kafka-broker-api-versions.sh --bootstrap-server {name}:19092 "
        ">/dev/null 2>&1"
    )
    return {
        **_KAFKA,
        "environment": environment,
        "ports": [f"127.0.0.1:{9091 + number}:9092"],
        "volumes": [f"kafkadata{number}:/var/lib/kafka/data"],
        "healthcheck": {**_KAFKA["healthcheck"], "test": ["CMD-SHELL", probe]},
    }


def _cluster_processes() -> list[Process]:
    return scaled(enabled(), INSTANCES, Process("balancer", "balancer", ()))


def balancer_config() -> str:
    """HAProxy's configuration inside the cluster's Compose network."""
    processes = _cluster_processes()
    pools = [
        Pool(
            process.name,
            ("0.0.0.0", CLUSTER_ADDRESSES.port(process)),
            tuple(
                (copy.name, CLUSTER_ADDRESSES.port(copy))
                for copy in instances_of(process.name, processes)
            ),
        )
        for process in enabled()
        if process.http
    ]
    return haproxy_config(pools, nameserver="127.0.0.11:53")  # Docker's embedded DNS


def _ready_probe(port: int) -> list[str]:
    # The image has Python but no curl; urlopen raises on a 503, which fails the check.
    code = (
        f"import urllib.request; urllib.request.urlopen('http://127.0.0.1:{port}/ready', timeout=4)"
    )
    return ["CMD", "python", "-c", code]


def document(cluster: bool = False) -> dict[str, Any]:
    """The Compose file as data (``cluster``: the three-broker, balanced one)."""
    services: dict[str, Any] = {"postgres": _POSTGRES}
    addresses = CLUSTER_ADDRESSES if cluster else COMPOSE_ADDRESSES
    kafka = [f"kafka-{n}" for n in range(1, BROKERS + 1)] if cluster else ["kafka"]
    if cluster:
        services |= {name: _broker(n) for n, name in enumerate(kafka, start=1)}
    else:
        services["kafka"] = _KAFKA
    processes = [p for p in _cluster_processes() if p.kind != "balancer"] if cluster else enabled()
    for process in processes:
        entry: dict[str, Any] = {
            "image": f"sanlian-{process.kind}:dev",
            "build": {
                "context": ".",
                "dockerfile": DOCKERFILE,
                "target": process.kind,
            },
            "command": ["python", *argv_of(process, addresses)],
            "environment": settings_of(process, addresses) | (CLUSTER_SETTINGS if cluster else {}),
            "restart": "unless-stopped",
            "depends_on": {"postgres": HEALTHY} | {name: HEALTHY for name in kafka},
        }
        if not cluster:
            entry["depends_on"] |= {name: HEALTHY for name in process.calls}
        if process.http:
            port = addresses.port(process)
            if not cluster:  # in the cluster, the balancer has the host's ports
                entry["ports"] = [f"127.0.0.1:{port}:{port}"]
            entry["healthcheck"] = {
                "test": _ready_probe(port),
                "interval": "5s",
                "timeout": "5s",
                "retries": 30,
                "start_period": "20s",
            }
        services[process.name] = entry
    if not cluster:
        return {"services": services, "volumes": {"pgdata": {}, "kafkadata": {}}}
    balanced = [p for p in enabled() if p.http]
    services["balancer"] = {
        "image": "haproxy:2.6",
        "volumes": [f"./{BALANCER_CONFIG}:/usr/local/etc/haproxy/haproxy.cfg:ro"],
        "ports": [f"127.0.0.1:{addresses.port(p)}:{addresses.port(p)}" for p in balanced],
        "restart": "unless-stopped",
        # The others call "roster", "contacts"...: those names are the balancer's.
        "networks": {"default": {"aliases": [p.name for p in balanced]}},
        "depends_on": {
            copy.name: {"condition": "service_started"}
            for p in balanced
            for copy in instances_of(p.name, _cluster_processes())
        },
    }
    volumes: dict[str, Any] = {"pgdata": {}} | {f"kafkadata{n}": {} for n in range(1, BROKERS + 1)}
    return {"services": services, "volumes": volumes}


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


def render(cluster: bool = False) -> str:
    """The text of ``docker-compose.yml`` (``cluster``: of ``docker-compose.cluster.yml``)."""
    doc = document(cluster)
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
    return (CLUSTER_HEADER if cluster else HEADER) + "\n" + "\n".join(body).rstrip() + "\n"
