"""The topology outgrown one machine: a three-broker Kafka cluster, two instances of each
service behind HAProxy, two relays per store (one active, one standing by).

The cluster runs from ``deploy/local/kafka.sh`` with ``SANLIAN_KAFKA_BROKERS=3`` on free ports
and a state directory of its own; the balancer is Debian's HAProxy, configured by
:mod:`topology.balancer` as ``make stack --instances N`` configures it. Every process is a
child process, so a scenario can ``kill -9`` one broker, one instance or one relay.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import socket
import subprocess
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import httpx
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from eventspine.config import Settings
from support.load import City, Ledger, seed_city
from support.own_servers import SCRIPTS, OwnServer
from support.pg import topology_settings
from support.topology import APPS, RELAYS, Topology
from topology.balancer import Pool, haproxy_config

BROKERS = 3
INSTANCES = 2

CLUSTER_SETTINGS = {
    "SANLIAN_TOPIC_REPLICATION": str(BROKERS),
    "SANLIAN_TOPIC_MIN_INSYNC_REPLICAS": "2",
}
"""Every event topic on three brokers; a record is acknowledged once two of them hold it."""


QUIET_PORTS = (20000, 32000)
"""Ports below the kernel's ephemeral range (32768 and up by default): no outgoing connection
of another process is given one between the moment it is chosen and the moment it is bound."""

_chance = random.Random()


def free_port_range(count: int) -> int:
    """The first of ``count`` consecutive ports nobody listens on, below the ephemeral range."""
    for _ in range(500):
        first = _chance.randrange(QUIET_PORTS[0], QUIET_PORTS[1] - count)
        probes = []
        try:
            for port in range(first, first + count):
                probe = socket.socket()
                probes.append(probe)
                probe.bind(("127.0.0.1", port))
        except OSError:
            continue
        finally:
            for probe in probes:
                probe.close()
        return first
    raise RuntimeError(f"no {count} consecutive free ports found")


def quiet_port() -> int:
    """A free port below the ephemeral range (see :data:`QUIET_PORTS`)."""
    return free_port_range(1)


class OwnCluster(OwnServer):
    """Three brokers of the tests' own (``kafka.sh`` with ``SANLIAN_KAFKA_BROKERS=3``)."""

    def __init__(self, state_dir: Path) -> None:
        base = free_port_range(2 * BROKERS)
        super().__init__(
            "kafka.sh",
            "bootstrap",
            {
                "SANLIAN_KAFKA_BROKERS": str(BROKERS),
                "SANLIAN_KAFKA_PORT": str(base),
                "SANLIAN_KAFKA_CONTROLLER_PORT": str(base + BROKERS),
                "SANLIAN_STATE_DIR": str(state_dir),
                "SANLIAN_KAFKA_HEAP_OPTS": "-Xmx320m -Xms128m",
            },
        )

    def pid(self, broker: int) -> int:
        """The pid of broker ``broker`` (1..3)."""
        return int(self._run_args("pid", str(broker)))

    def controller(self) -> int:
        """The node id of the active KRaft controller."""
        return int(self._run_args("controller"))

    def kill(self, broker: int) -> None:
        """``kill -9`` one broker (no flush, no controlled shutdown)."""
        pid = self.pid(broker)
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
            time.sleep(0.1)

    def _run_args(self, *args: str) -> str:
        result = subprocess.run(
            [str(SCRIPTS / self.script), *args],
            env={**os.environ, **self.env},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if result.returncode != 0:
            raise AssertionError(f"kafka.sh {' '.join(args)} failed: {result.stderr[-2000:]}")
        return result.stdout.strip()


def haproxy_binary() -> str:
    """The HAProxy program (``deploy/local/haproxy.sh ensure`` installs it if missing)."""
    result = subprocess.run(
        [str(SCRIPTS / "haproxy.sh"), "ensure"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if result.returncode != 0:
        raise AssertionError(f"deploy/local/haproxy.sh ensure failed: {result.stderr[-2000:]}")
    return result.stdout.strip().splitlines()[-1]


STANDBY = "#standby"


def instance(app: str, number: int) -> str:
    """The process name of one instance of an app: ``contacts#1``."""
    return f"{app}#{number}"


class BalancedTopology(Topology):
    """``INSTANCES`` processes of each app behind HAProxy, two relays per store.

    ``url("contacts")`` is the balancer's address for contacts; ``url("contacts#2")`` the
    second instance's own. ``"relay:contacts"`` and ``"relay:contacts#standby"`` are the two
    relays on contacts' store (which of them is active is for the lease to decide)."""

    def __init__(
        self,
        settings: Settings,
        logs: Path,
        extra_env: dict[str, str] | None = None,
        instances: int = INSTANCES,
    ) -> None:
        super().__init__(settings, logs, extra_env)
        self.instances = instances
        # The balancer listens where a single app would; every port below the ephemeral range.
        self.balanced = {app: quiet_port() for app in APPS}
        self.ports = {}
        for name in (instance(app, n) for app in APPS for n in self._numbers):
            port = quiet_port()
            while port in {*self.ports.values(), *self.balanced.values()}:
                port = quiet_port()
            self.ports[name] = port
        self.haproxy = haproxy_binary()

    @property
    def _numbers(self) -> range:
        return range(1, self.instances + 1)

    @property
    def names(self) -> list[str]:
        """Every instance and relay (the balancer is not a target)."""
        return [
            *(instance(app, n) for app in APPS for n in self._numbers),
            *(f"relay:{service}" for service in RELAYS),
            *(f"relay:{service}{STANDBY}" for service in RELAYS),
        ]

    def url(self, app: str) -> str:
        """The balancer's address of an app, or an instance's own."""
        if app in self.balanced:
            return f"http://127.0.0.1:{self.balanced[app]}"
        return f"http://127.0.0.1:{self.ports[app]}"

    def _command(self, name: str) -> list[str]:
        if name.startswith("relay:"):
            service = name.removeprefix("relay:").removesuffix(STANDBY)
            return ["-m", "servicekit", "relay", "--service", service]
        app = name.split("#", 1)[0]
        return [
            "-m",
            "uvicorn",
            "--factory",
            f"{app}.main:create_app",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.ports[name]),
            "--log-level",
            "warning",
        ]

    def _rebind_if_taken(self, name: str) -> None:
        """An instance that exited because its port was taken meanwhile starts again on
        another; the balancer, if it runs, is started again with the new address."""
        if self.alive(name) or name not in self.ports:
            return
        if "address already in use" not in self.tail(name)[-600:]:
            return
        taken = {*self.ports.values(), *self.balanced.values()}
        port = quiet_port()
        while port in taken:
            port = quiet_port()
        self.ports[name] = port
        if self.alive("balancer"):
            self.kill("balancer")
            self.kills -= 1  # not a fault the scenario meant
            self.start_balancer()
        self.start(name)

    async def ready(self, name: str, seconds: float = 300) -> None:
        """As :meth:`Topology.ready`, with longer to wait: twenty processes start at once."""
        await super().ready(name, seconds)

    def instances_of(self, app: str) -> list[str]:
        """The instances of one app."""
        return [instance(app, n) for n in self._numbers]

    def write_balancer_config(self) -> Path:
        """HAProxy's configuration for the current ports."""
        pools = [
            Pool(
                app,
                ("127.0.0.1", self.balanced[app]),
                tuple(("127.0.0.1", self.ports[name]) for name in self.instances_of(app)),
            )
            for app in APPS
        ]
        config = self.logs / "haproxy.cfg"
        config.write_text(haproxy_config(pools), "utf-8")
        return config

    def start_balancer(self) -> None:
        """Start HAProxy in the foreground (a child process like the others)."""
        config = self.write_balancer_config()
        check = subprocess.run(
            [self.haproxy, "-c", "-q", "-f", str(config)], capture_output=True, text=True
        )
        assert check.returncode == 0, check.stdout + check.stderr
        with self.log("balancer").open("ab") as out:
            self.processes["balancer"] = subprocess.Popen(
                [self.haproxy, "-db", "-f", str(config)], stdout=out, stderr=subprocess.STDOUT
            )

    async def balanced_ready(self, seconds: float = 60) -> None:
        """Wait until the balancer answers ``/ready`` for every app."""
        deadline = time.monotonic() + seconds
        async with httpx.AsyncClient(timeout=5) as client:
            for app in APPS:
                while True:
                    with contextlib.suppress(httpx.HTTPError):
                        if (await client.get(f"{self.url(app)}/ready")).status_code == 200:
                            break
                    if time.monotonic() > deadline:
                        raise AssertionError(f"the balancer does not serve {app}")
                    await asyncio.sleep(0.2)

    async def start_all(self) -> None:
        """Start every instance and relay, then the balancer, and wait until it serves."""
        for name in self.names:
            self.start(name)
        for name in self.names:
            await self.ready(name)
        self.start_balancer()
        await self.balanced_ready()

    def active_relay(self, service: str) -> str:
        """Which of a store's two relays holds its lease, as their logs say (the last to
        become active, of those still running)."""
        latest: tuple[float, str] | None = None
        for name in (f"relay:{service}", f"relay:{service}{STANDBY}"):
            if not self.alive(name):
                continue
            text = self.log(name).read_text(errors="replace")
            at = text.rfind("relay.active")
            if at >= 0 and text.rfind("relay.lease_lost") < at:
                mtime = self.log(name).stat().st_mtime
                if latest is None or mtime > latest[0]:
                    latest = (mtime, name)
        if latest is None:
            raise AssertionError(f"no relay of {service} is active")
        return latest[1]


@asynccontextmanager
async def running_cluster_topology(
    dsn: str, bootstrap: str, logs: Path, extra_env: dict[str, str] | None = None
) -> AsyncIterator[tuple[BalancedTopology, City, asyncpg.Pool]]:
    """The balanced topology on the cluster, under names unique to the test, the city seeded
    through the balancer."""
    async with topology_settings(dsn, bootstrap, "c") as settings:
        topology = BalancedTopology(settings, logs, {**CLUSTER_SETTINGS, **(extra_env or {})})
        pool = await asyncpg.create_pool(dsn, min_size=1, max_size=4)
        try:
            await topology.start_all()
            replication = await topic_replication(settings, bootstrap)
            expected = {"replicas": BROKERS, "min.insync.replicas": 2}
            assert all(got == expected for got in replication.values()), replication
            async with httpx.AsyncClient(base_url=topology.url("roster"), timeout=30) as client:
                city = await seed_city(client)
            yield topology, city, pool
        finally:
            topology.stop_all()
            await pool.close()


async def topic_replication(settings: Settings, bootstrap: str) -> dict[str, dict[str, int]]:
    """Per event topic, as the brokers describe it: the fewest replicas any of its partitions
    has, and its ``min.insync.replicas`` (what the services created, read back)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="tests-replication")
    await admin.start()
    try:
        topics = [settings.topic(service) for service in RELAYS]
        described = {t["topic"]: t for t in await admin.describe_topics(topics)}
        answers = await admin.describe_configs(
            [
                ConfigResource(ConfigResourceType.TOPIC, topic, {"min.insync.replicas": None})
                for topic in topics
            ]
        )
        min_isr: dict[str, int] = {}
        for answer in answers:
            for _code, _message, _kind, name, entries in answer.resources:
                for entry in entries:
                    if entry[0] == "min.insync.replicas":
                        min_isr[name] = int(entry[1])
        return {
            topic: {
                "replicas": min(len(p["replicas"]) for p in described[topic]["partitions"]),
                "min.insync.replicas": min_isr.get(topic, 0),
            }
            for topic in topics
        }
    finally:
        await admin.close()


CREATIONS = {
    "contact": ("contacts", "ContactMade", "contact_id"),
    "suggestion": ("feedback", "SuggestionRaised", "suggestion_id"),
    "member": ("roster", "MemberRegistered", "member_id"),
}
"""Each kind of command the load sends: its store, the event it creates and the subject's id."""


async def stored_twice(pool: asyncpg.Pool, settings: Settings, ledger: Ledger) -> dict[str, int]:
    """Per kind of command: subjects the load created whose creating event is stored more than
    once, plus commands stored that no acknowledgement accounts for (a retry stored anew)."""
    found: dict[str, int] = {}
    for kind, (service, event_type, key) in CREATIONS.items():
        subjects = [a.subject for a in ledger.of_kind(kind)]
        stored = int(
            await pool.fetchval(
                f"SELECT count(*) FROM {settings.store_schema(service)}.events "
                f"WHERE event_type = $1 AND data->>'{key}' = ANY($2::text[])",
                event_type,
                subjects,
            )
        )
        found[kind] = stored - len(set(subjects))
    return found
