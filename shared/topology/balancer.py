"""The load balancer in front of several instances of each HTTP process: HAProxy's config.

Each balanced process keeps its address (the balancer listens where the single process would),
and its instances listen on ports of their own. HAProxy asks every instance's ``/ready`` each
second; two failures take it out of the rotation, two successes bring it back. A request whose
connection to an instance failed, or whose instance closed the connection without an answer
(it was killed mid-request), is sent to another instance: commands carry an
``Idempotency-Key``, so a command the dead instance had already stored is answered from its
record, not stored twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

CHECK_INTERVAL_MS = 1000
"""How often each instance's ``/ready`` is asked."""


@dataclass(frozen=True)
class Pool:
    """One balanced HTTP process: where the balancer listens and where its instances do."""

    name: str
    listen: tuple[str, int]
    instances: tuple[tuple[str, int], ...]


def haproxy_config(pools: Sequence[Pool], nameserver: str | None = None) -> str:
    """The HAProxy configuration of ``pools`` (one ``listen`` section each).

    ``nameserver`` (``host:port``): instances are named, not numbered, and looked up there
    while running (Compose's DNS, where a restarted container may get another address); an
    instance not resolvable yet starts out of the rotation instead of failing the start."""
    if not pools:
        raise ValueError("pools: at least one balanced process is needed")
    lines = [
        "# Written by the Sanlian topology (topology.balancer); edit that, not this file.",
        "global",
        "    maxconn 4096",
        "    nbthread 1",
        "",
        "defaults",
        "    mode http",
        "    timeout connect 2s",
        "    timeout client 65s",
        "    timeout server 65s",
        "    timeout queue 10s",
        "    timeout http-keep-alive 10s",
        # A failed connection or an instance that died before answering: another one.
        "    retries 3",
        "    option redispatch 1",
        "    retry-on conn-failure empty-response",
        "    option httpchk GET /ready",
        "    http-check expect status 200",
        # A busy instance answers /ready late, not never: a slow answer is not a failure.
        "    timeout check 5s",
        f"    default-server inter {CHECK_INTERVAL_MS}ms fastinter 500ms downinter "
        f"{CHECK_INTERVAL_MS}ms fall 2 rise 2",
        # No instance ready at all (every one restarting): a 503 a client may retry, as the
        # services' own 503s, rather than HAProxy's bare page.
        '    http-error status 503 content-type "application/problem+json" string '
        '"{\\"type\\":\\"about:blank\\",\\"title\\":\\"Service Unavailable\\",'
        '\\"status\\":503,\\"code\\":\\"unavailable\\"}" hdr Retry-After 1',
    ]
    lookup = ""
    if nameserver is not None:
        lines += ["", "resolvers names", f"    nameserver dns {nameserver}", "    hold valid 5s"]
        lookup = " resolvers names init-addr none"
    for pool in pools:
        if not pool.instances:
            raise ValueError(f"pools: {pool.name} has no instance")
        host, port = pool.listen
        lines += ["", f"listen {pool.name}", f"    bind {host}:{port}", "    balance roundrobin"]
        lines += [
            f"    server {pool.name}-{index} {address}:{instance_port} check{lookup}"
            for index, (address, instance_port) in enumerate(pool.instances, start=1)
        ]
    return "\n".join(lines) + "\n"
