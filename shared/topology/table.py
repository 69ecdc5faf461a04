"""Every process of the full topology, once: what it runs, where it listens, what it reads.

Both ways of running the full topology come from this table: the local supervisor
(``make stack``) and ``docker-compose.yml`` (``sanlian-stack compose``). They differ only in
where the infrastructure is (``127.0.0.1`` on the host, service names inside Compose), which
:class:`Addresses` holds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Literal

Kind = Literal["service", "relay", "web", "balancer"]

DEFAULT_PORT_BASE = 18100
"""Ports of the HTTP processes are this plus the process's offset (web +0, roster +1...)."""

COMMON_SETTINGS: Mapping[str, str] = {
    "SANLIAN_STORE_BACKEND": "postgres",
    "SANLIAN_LOG_FORMAT": "json",
}
"""Settings every process of the full topology gets (besides the infrastructure addresses)."""


@dataclass(frozen=True)
class Process:
    """One process of the full topology.

    ``command`` runs after ``python`` (``-m uvicorn ...`` or ``-m servicekit ...``); an HTTP
    process (``port_offset`` set) gets ``--host`` and ``--port`` appended. ``calls`` names the
    HTTP processes it sends requests to: each gets the setting ``url_setting`` names
    (``SANLIAN_<NAME>_URL`` unless the process reads another). A disabled process is in
    neither the stack nor the Compose file.
    """

    name: str
    kind: Kind
    command: tuple[str, ...]
    port_offset: int | None = None
    settings: Mapping[str, str] = field(default_factory=dict)
    calls: tuple[str, ...] = ()
    enabled: bool = True
    url_setting: str = "SANLIAN_{}_URL"
    program: str | None = None
    """What runs ``command`` (``None``: this Python); the balancer is HAProxy."""

    @property
    def http(self) -> bool:
        """Whether it serves HTTP (and answers /ready)."""
        return self.port_offset is not None


@dataclass(frozen=True)
class Service:
    """One service of the system: the one list every other list of services comes from."""

    name: str
    port_offset: int
    event_store: bool = True
    """Whether it keeps an event store (and so has a relay to its topic); reports only reads."""
    calls: tuple[str, ...] = ()
    """The services it reads over HTTP (``SANLIAN_<NAME>_<OTHER>_URL``); notify asks the
    roster for the names it shows."""

    @property
    def factory(self) -> str:
        """Its FastAPI app factory, ``<name>.main:create_app``."""
        return f"{self.name}.main:create_app"


SERVICES: tuple[Service, ...] = (
    Service("roster", 1),
    Service("contacts", 2),
    Service("feedback", 3),
    Service("reports", 4, event_store=False),
    Service("notify", 5, calls=("roster",)),
)
"""Every service, roster first (the others replicate its events), in start-up order."""


def event_stores() -> tuple[str, ...]:
    """The services that keep an event store, roster first."""
    return tuple(service.name for service in SERVICES if service.event_store)


def _service(service: Service) -> Process:
    command = ("-m", "uvicorn", "--factory", service.factory)
    return Process(
        service.name,
        "service",
        command,
        service.port_offset,
        calls=service.calls,
        url_setting=f"SANLIAN_{service.name.upper()}_{{}}_URL",
    )


def _relay(service: str, suffix: str = "") -> Process:
    command = ("-m", "servicekit", "relay", "--service", service)
    return Process(f"{service}-relay{suffix}", "relay", command)


PROCESSES: tuple[Process, ...] = (
    *(_service(service) for service in SERVICES),
    # Each store's outbox to its topic. The consumers (contacts' and feedback's roster
    # replicas, the roster's contact dates, the reports projections) run inside their
    # services and need no process.
    *(_relay(name) for name in event_stores()),
    # A second relay per store waits for the store's lease and takes over when the first is
    # gone (eventspine.relay.RelayLease): only one of the two publishes at a time.
    *(_relay(name, "-standby") for name in event_stores()),
    # The staff frontend (a backend-for-frontend over the services' HTTP APIs); its settings
    # carry the SANLIAN_WEB_ prefix.
    Process(
        "web",
        "web",
        ("-m", "uvicorn", "--factory", "web.main:create_app"),
        port_offset=0,
        calls=tuple(service.name for service in SERVICES),
        url_setting="SANLIAN_WEB_{}_URL",
    ),
)


_NAMES = frozenset(process.name for process in PROCESSES)


def enabled() -> list[Process]:
    """The processes that run."""
    return [process for process in PROCESSES if process.enabled]


def by_name(name: str) -> Process:
    """The process called ``name``."""
    for process in PROCESSES:
        if process.name == name:
            return process
    raise KeyError(name)


@dataclass(frozen=True)
class Addresses:
    """Where the processes find the infrastructure and each other."""

    pg_dsn: str
    kafka_bootstrap: str
    host: str
    """Interface the HTTP processes listen on."""
    port_base: int
    """Port of an HTTP process = port_base + its offset (the same inside containers)."""
    url_host: str | None = None
    """Host name of the others' URLs (``None``: each process's own name, as in Compose)."""

    def port(self, process: Process) -> int:
        """The port ``process`` listens on."""
        if process.port_offset is None:
            raise ValueError(f"{process.name} does not serve HTTP")
        return self.port_base + process.port_offset

    def url(self, process: Process) -> str:
        """The base URL of an HTTP process."""
        return f"http://{self.url_host or process.name}:{self.port(process)}"


INSTANCE_PORT_STEP = 10
"""Instance ``k`` of an HTTP process listens on its port plus ``k`` times this (the balancer
on the port itself): roster's second instance on 18121 with the default base."""


def scaled(processes: list[Process], instances: int, balancer: Process) -> list[Process]:
    """``processes`` with each HTTP process run as ``instances`` copies (``roster-1``,
    ``roster-2``...) on ports of their own, and ``balancer`` in front of them where the single
    process listened; relays are left as they are (their lease keeps one active per store)."""
    if not 1 <= instances <= 9:
        raise ValueError(f"instances: between 1 and 9, got {instances}")
    if instances == 1:
        return list(processes)
    result: list[Process] = []
    for process in processes:
        if not process.http or process.port_offset is None:
            result.append(process)
            continue
        result += [
            replace(
                process,
                name=f"{process.name}-{k}",
                port_offset=process.port_offset + k * INSTANCE_PORT_STEP,
            )
            for k in range(1, instances + 1)
        ]
    return [*result, balancer]


def instances_of(name: str, processes: list[Process]) -> list[Process]:
    """The instances of the HTTP process ``name`` among ``processes`` (see :func:`scaled`)."""
    return [p for p in processes if p.http and p.name.rsplit("-", 1)[0] == name and p.name != name]


def service_of(process: Process) -> str:
    """The process of the table ``process`` belongs to: the one it is an instance of (see
    :func:`scaled`), the service whose store a relay publishes, else its own name."""
    if process.kind == "relay" and "--service" in process.command:
        return process.command[process.command.index("--service") + 1]
    base = process.name.rsplit("-", 1)[0]
    if process.http and process.name not in _NAMES and base in _NAMES:
        return base
    return process.name


def balanced(processes: list[Process]) -> list[Process]:
    """The processes of the table a balancer stands in for among ``processes``: those run as
    instances (see :func:`scaled`), in the table's order; the balancer listens on their ports."""
    copied = {service_of(p) for p in processes if p.http and p.name not in _NAMES}
    return [p for p in enabled() if p.name in copied]


def settings_of(process: Process, addresses: Addresses) -> dict[str, str]:
    """The ``SANLIAN_*`` environment of ``process``: common, its own, the addresses."""
    env = {
        **COMMON_SETTINGS,
        "SANLIAN_PG_DSN": addresses.pg_dsn,
        "SANLIAN_KAFKA_BOOTSTRAP": addresses.kafka_bootstrap,
        **process.settings,
    }
    for name in process.calls:
        env[process.url_setting.format(name.upper())] = addresses.url(by_name(name))
    return env


def argv_of(process: Process, addresses: Addresses) -> list[str]:
    """The arguments after ``python``."""
    argv = list(process.command)
    if process.http:
        argv += ["--host", addresses.host, "--port", str(addresses.port(process))]
    return argv
