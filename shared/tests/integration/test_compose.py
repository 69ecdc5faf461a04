"""docker-compose.yml is valid, and runs the same processes with the same settings as the
stack (both come from the process table)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from topology import compose
from topology.table import DEFAULT_PORT_BASE, Addresses, argv_of, enabled, settings_of

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
ADDRESS_SETTINGS = {"SANLIAN_PG_DSN", "SANLIAN_KAFKA_BOOTSTRAP"}


def _compose_sh(*args: str) -> subprocess.CompletedProcess[str]:
    # The script installs Debian's docker-compose on first use (no Docker engine needed).
    return subprocess.run(
        [str(ROOT / "deploy" / "local" / "compose.sh"), *args],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_the_committed_file_is_what_the_table_gives() -> None:
    committed = (ROOT / "docker-compose.yml").read_text("utf-8")
    assert committed == compose.render(), "run: sanlian-stack compose --write"


def test_docker_compose_accepts_the_file_and_sees_every_process() -> None:
    checked = _compose_sh("check", str(ROOT / "docker-compose.yml"))
    assert checked.returncode == 0, checked.stderr
    listed = _compose_sh("services", str(ROOT / "docker-compose.yml"))
    assert listed.returncode == 0, listed.stderr
    expected = {"postgres", "kafka"} | {process.name for process in enabled()}
    assert set(listed.stdout.split()) == expected


def test_compose_and_the_stack_give_each_process_the_same_settings_and_command() -> None:
    stack = Addresses("postgresql://h/db", "h:9092", "127.0.0.1", DEFAULT_PORT_BASE, "127.0.0.1")
    services = compose.document()["services"]
    for process in enabled():
        in_compose = services[process.name]
        in_stack = settings_of(process, stack)
        assert set(in_compose["environment"]) == set(in_stack), process.name
        for name, value in in_stack.items():
            if name not in ADDRESS_SETTINGS and not name.endswith("_URL"):
                assert in_compose["environment"][name] == value, (process.name, name)
        # The same command, but for the interface it listens on.
        assert in_compose["command"][1:] == [
            "0.0.0.0" if part == "127.0.0.1" else part for part in argv_of(process, stack)
        ]
        if process.http:
            assert in_compose["depends_on"]["postgres"] == {"condition": "service_healthy"}
            assert "/ready" in " ".join(in_compose["healthcheck"]["test"])


def test_every_target_the_file_builds_is_a_stage_of_the_dockerfile() -> None:
    dockerfile = (ROOT / compose.DOCKERFILE).read_text("utf-8")
    stages = set(re.findall(r"^FROM \S+ AS (\S+)$", dockerfile, flags=re.MULTILINE))
    targets = {
        entry["build"]["target"]
        for entry in compose.document()["services"].values()
        if "build" in entry
    }
    assert targets <= stages
    assert "\nUSER sanlian\n" in dockerfile  # every stage inherits the unprivileged user


def test_the_cluster_file_has_three_brokers_and_two_instances_behind_the_balancer() -> None:
    committed = (ROOT / compose.CLUSTER_FILE).read_text("utf-8")
    assert committed == compose.render(cluster=True), "run: sanlian-stack compose --cluster --write"
    config = (ROOT / compose.BALANCER_CONFIG).read_text("utf-8")
    assert config == compose.balancer_config()
    checked = _compose_sh("check", str(ROOT / compose.CLUSTER_FILE))
    assert checked.returncode == 0, checked.stderr
    listed = _compose_sh("services", str(ROOT / compose.CLUSTER_FILE))
    assert listed.returncode == 0, listed.stderr
    http = [p.name for p in enabled() if p.http]
    expected = (
        {"postgres", "kafka-1", "kafka-2", "kafka-3", "balancer"}
        | {p.name for p in enabled() if not p.http}
        | {f"{name}-{n}" for name in http for n in (1, 2)}
    )
    assert set(listed.stdout.split()) == expected
    services = compose.document(cluster=True)["services"]
    roster = services["roster-2"]["environment"]
    assert roster["SANLIAN_KAFKA_BOOTSTRAP"] == "kafka-1:19092,kafka-2:19092,kafka-3:19092"
    assert roster["SANLIAN_TOPIC_REPLICATION"] == "3"
    assert roster["SANLIAN_TOPIC_MIN_INSYNC_REPLICAS"] == "2"
    assert services["web-1"]["environment"]["SANLIAN_WEB_ROSTER_URL"] == "http://roster:18101"
    assert set(services["balancer"]["networks"]["default"]["aliases"]) == set(http)
    for name in http:
        assert f"server {name}-2 {name}-2:" in config
