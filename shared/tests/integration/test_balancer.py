"""``make stack INSTANCES=N``: the scaled process table and the HAProxy in front of it (Debian's
HAProxy, checking its configuration and balancing two real HTTP servers)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from support.cluster import haproxy_binary
from support.own_servers import free_port
from topology.balancer import Pool, haproxy_config
from topology.supervisor import down
from topology.table import Addresses, Process, by_name, enabled, instances_of, scaled, settings_of

pytestmark = pytest.mark.integration

ADDRESSES = Addresses("postgresql://x@h/db", "k:9092", "127.0.0.1", 18100, "127.0.0.1")


def test_each_http_process_runs_n_times_on_ports_of_its_own_and_the_others_call_the_balancer() -> (
    None
):
    processes = scaled(enabled(), 2, Process("balancer", "balancer", ()))
    names = [p.name for p in processes]
    assert "roster" not in names
    assert {"roster-1", "roster-2", "web-1", "web-2"} <= set(names)
    assert "balancer" in names
    # The relays are not copied: the standby relay and the lease already make two per store.
    assert names.count("roster-relay") == 1
    assert names.count("roster-relay-standby") == 1
    ports = [ADDRESSES.port(p) for p in processes if p.http]
    assert len(ports) == len(set(ports))
    assert ADDRESSES.port(by_name("roster")) not in ports  # that one is the balancer's
    assert [p.name for p in instances_of("roster", processes)] == ["roster-1", "roster-2"]
    web = next(p for p in processes if p.name == "web-2")
    assert settings_of(web, ADDRESSES)["SANLIAN_WEB_ROSTER_URL"] == "http://127.0.0.1:18101"
    assert scaled(enabled(), 1, Process("balancer", "balancer", ())) == enabled()
    with pytest.raises(ValueError, match="instances"):
        scaled(enabled(), 0, Process("balancer", "balancer", ()))


def test_haproxy_accepts_the_configuration() -> None:
    pools = [
        Pool(p.name, ("127.0.0.1", ADDRESSES.port(p)), (("127.0.0.1", 1), ("127.0.0.1", 2)))
        for p in enabled()
        if p.http
    ]
    with pytest.raises(ValueError, match="pools"):
        haproxy_config([Pool("roster", ("127.0.0.1", 1), ())])
    checked = subprocess.run(
        [haproxy_binary(), "-c", "-f", "/dev/stdin"],
        input=haproxy_config(pools),
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


SERVER = """
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = sys.argv[2].encode() if self.path != "/ready" or sys.argv[3] == "ready" else b"no"
        self.send_response(200 if body != b"no" else 503)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args): pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
"""


def test_the_balancer_spreads_requests_and_leaves_out_an_instance_that_is_not_ready(
    tmp_path: Path,
) -> None:
    ports = [free_port(), free_port(), free_port()]
    states = ["ready", "ready", "not-ready"]
    servers = [
        subprocess.Popen([sys.executable, "-c", SERVER, str(port), f"i{n}", state])
        for n, (port, state) in enumerate(zip(ports, states, strict=True))
    ]
    listen = free_port()
    config = tmp_path / "haproxy.cfg"
    config.write_text(
        haproxy_config(
            [Pool("roster", ("127.0.0.1", listen), tuple(("127.0.0.1", p) for p in ports))]
        )
    )
    balancer = subprocess.Popen([haproxy_binary(), "-db", "-f", str(config)])
    try:
        time.sleep(3.5)  # two failed checks of the instance that is not ready
        seen = []
        with httpx.Client(timeout=5) as client:
            for _ in range(12):
                seen.append(client.get(f"http://127.0.0.1:{listen}/x").text)
        assert set(seen) == {"i0", "i1"}, seen
        servers[0].kill()
        servers[0].wait()
        time.sleep(0.5)
        with httpx.Client(timeout=5) as client:
            # A dead instance's requests go to the other (a failed connection is retried).
            answers = [client.get(f"http://127.0.0.1:{listen}/x").text for _ in range(6)]
        assert set(answers) == {"i1"}, answers
    finally:
        balancer.kill()
        for server in servers:
            server.kill()
            server.wait()
        balancer.wait()


def test_stack_down_stops_the_haproxy_a_killed_supervisor_left_and_only_that_one(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "stack"
    other = tmp_path / "other"
    folder.mkdir()
    other.mkdir()
    balancers = []
    for where in (folder, other):
        config = where / "haproxy.cfg"
        pool = Pool("roster", ("127.0.0.1", free_port()), (("127.0.0.1", free_port()),))
        config.write_text(haproxy_config([pool]))
        balancers.append(subprocess.Popen([haproxy_binary(), "-db", "-f", str(config.resolve())]))
    ours, theirs = balancers
    gone = subprocess.Popen([sys.executable, "-c", "pass"])  # the supervisor, killed
    gone.wait()
    try:
        time.sleep(0.5)
        assert ours.poll() is None
        assert theirs.poll() is None
        (folder / "stack.json").write_text(
            json.dumps(
                {"supervisor": gone.pid, "processes": {"balancer": ours.pid, "x": theirs.pid}}
            )
        )
        assert down(folder, seconds=5) == []
        assert ours.wait(timeout=10) is not None
        # Another stack's HAProxy (its config elsewhere) is not this stack's to stop.
        assert theirs.poll() is None
        assert not (folder / "stack.json").exists()
    finally:
        for balancer in balancers:
            balancer.kill()
            balancer.wait()
