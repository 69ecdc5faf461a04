"""`make stack`: every process of the table up, a contact over HTTP reaches the reports'
compliance view through Kafka, and `sanlian-stack down` leaves no process behind."""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from support.auth import STAFF
from support.pg import throwaway_prefix
from topology.supervisor import alive
from topology.table import enabled

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
SERVICES = [p for p in enabled() if p.http]


def _free_port_base() -> int:
    """A base whose five ports (web .. reports) nobody listens on."""
    for _ in range(50):
        base = random.randrange(30000, 60000, 10)
        try:
            for offset in range(5):
                with socket.socket() as probe:
                    probe.bind(("127.0.0.1", base + offset))
        except OSError:
            continue
        return base
    raise AssertionError("no free ports found")


class Stack:
    """A `sanlian-stack up` running in a subprocess."""

    def __init__(self, state_dir: Path, port_base: int, env: dict[str, str]) -> None:
        self.state_dir = state_dir
        self.port_base = port_base
        self.env = env
        self.output = state_dir / "supervisor.out"
        with self.output.open("wb") as out:
            self.popen = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "topology",
                    "up",
                    "--state-dir",
                    str(state_dir),
                    "--port-base",
                    str(port_base),
                ],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
            )

    def url(self, name: str) -> str:
        offset = next(p.port_offset for p in SERVICES if p.name == name)
        return f"http://127.0.0.1:{self.port_base + (offset or 0)}"

    def pids(self) -> dict[str, int]:
        state = json.loads((self.state_dir / "stack" / "stack.json").read_text())
        return {name: int(pid) for name, pid in state["processes"].items()}

    def logs(self) -> str:
        parts = [self.output.read_text(errors="replace")[-2000:]]
        for log in sorted((self.state_dir / "stack" / "logs").glob("*.log")):
            parts.append(f"--- {log.name}\n{log.read_text(errors='replace')[-1500:]}")
        return "\n".join(parts)

    async def wait_ready(self, client: httpx.AsyncClient, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        pending = {p.name for p in SERVICES}
        while pending:
            assert self.popen.poll() is None, f"the supervisor exited:\n{self.logs()}"
            assert time.monotonic() < deadline, f"not ready: {pending}\n{self.logs()}"
            for name in sorted(pending):
                try:
                    if (await client.get(f"{self.url(name)}/ready")).status_code == 200:
                        pending.discard(name)
                except httpx.TransportError:
                    pass
            await asyncio.sleep(0.5)


@pytest.fixture
async def stack(tmp_path: Path, pg_dsn: str, kafka_bootstrap: str) -> AsyncIterator[Stack]:
    async with throwaway_prefix(pg_dsn, "k") as prefix:
        env = {
            **os.environ,
            "SANLIAN_PG_DSN": pg_dsn,
            "SANLIAN_KAFKA_BOOTSTRAP": kafka_bootstrap,
            "SANLIAN_PG_SCHEMA_PREFIX": prefix,
            "SANLIAN_TOPIC_PREFIX": f"test.{prefix.rstrip('_')}",
        }
        running = Stack(tmp_path, _free_port_base(), env)
        try:
            yield running
        finally:
            if running.popen.poll() is None:  # the test failed before stopping it
                await _down(tmp_path, env)
                running.popen.wait(timeout=60)


async def _down(state_dir: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`sanlian-stack down` (what `make stack-down` runs)."""
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "topology", "down", "--state-dir", str(state_dir)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def ok(client: httpx.AsyncClient, method: str, url: str, **kw: Any) -> Any:
    answer = await client.request(method, url, **kw)
    assert answer.status_code in (200, 201), f"{method} {url}: {answer.status_code} {answer.text}"
    return answer.json()


async def frontend_shows_the_member(client: httpx.AsyncClient, stack: Stack, member: str) -> None:
    """An admin signs in through the web process's form and reads the member's page and
    history (the web process reads the history from the stores itself)."""
    username, password = "chair", "Stack-15510-password"
    account = {"username": username, "password": password, "role": "admin"}
    await ok(client, "POST", f"{stack.url('roster')}/accounts", json=account)
    browser = await web_sign_in(stack, username, password)
    try:
        page = await browser.get(f"/directory/members/{member}")
        assert page.status_code == 200, page.text
        assert "张东峰" in page.text
        history = await browser.get("/history", params={"member": member})
        assert history.status_code == 200, history.text
        assert "MemberRegistered" in history.text
    finally:
        await browser.aclose()


async def web_sign_in(stack: Stack, username: str, password: str) -> httpx.AsyncClient:
    """A browser-like client of the web process, signed in through its form."""
    browser = httpx.AsyncClient(base_url=stack.url("web"), timeout=30)
    form = await browser.get("/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert csrf, form.text
    signed_in = await browser.post(
        "/login", data={"username": username, "password": password, "csrf_token": csrf[1]}
    )
    assert signed_in.status_code == 303, signed_in.text
    return browser


async def representative_logs_through_the_web(
    client: httpx.AsyncClient, stack: Stack, rep: str, worker: str, on: date
) -> None:
    """The representative signs in on the frontend and logs a contact from "my contacts"."""
    account = {"username": "zhang.df", "password": "Rep-15510-password", "role": "member"}
    await ok(client, "POST", f"{stack.url('roster')}/accounts", json={**account, "member_id": rep})
    browser = await web_sign_in(stack, account["username"], account["password"])
    try:
        page = await browser.get("/my-contacts")
        assert page.status_code == 200, page.text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert csrf, page.text
        logged = await browser.post(
            "/my-contacts/log",
            data={
                "lower_member_id": worker,
                "contacted_on": str(on),
                "method": "visit",
                "csrf_token": csrf[1],
                "key": str(uuid.uuid4()),
            },
        )
        assert logged.status_code == 303, logged.text
    finally:
        await browser.aclose()


async def test_a_contact_reaches_the_compliance_view_and_the_stack_stops_cleanly(
    stack: Stack,
) -> None:
    async with httpx.AsyncClient(timeout=30, headers=STAFF) as client:
        await stack.wait_ready(client, 240)
        pids = stack.pids()
        assert set(pids) == {p.name for p in enabled()}

        roster, contacts, reports = (stack.url(n) for n in ("roster", "contacts", "reports"))
        unit = str(uuid.uuid4())
        await ok(
            client,
            "POST",
            f"{roster}/units",
            json={"unit_id": unit, "name": "阳泉市总工会", "kind": "city_federation"},
        )
        rep, worker = str(uuid.uuid4()), str(uuid.uuid4())
        today = date.today()
        for member, tier, number in ((rep, "representative", "1"), (worker, "worker", "2")):
            await ok(
                client,
                "POST",
                f"{roster}/members",
                json={
                    "member_id": member,
                    "unit_id": unit,
                    "tier": tier,
                    "name": "张东峰",
                    "external_number": number,
                    "registered_on": str(today - timedelta(days=30)),
                },
            )
        await ok(
            client,
            "POST",
            f"{roster}/links",
            json={
                "upper_member_id": rep,
                "lower_member_id": worker,
                "assigned_on": str(today - timedelta(days=20)),
            },
        )

        # The contacts service learns of the link from Kafka: until its replica has it, the
        # command answers 409 "retry".
        correlation = str(uuid.uuid4())
        deadline = time.monotonic() + 60
        while True:
            answer = await client.post(
                f"{contacts}/contacts",
                json={
                    "upper_member_id": rep,
                    "lower_member_id": worker,
                    "contacted_on": str(today),
                    "method": "meeting",
                },
                headers={"X-Correlation-Id": correlation, "Idempotency-Key": str(uuid.uuid4())},
            )
            if answer.status_code != 409 or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.2)
        assert answer.status_code in (200, 201), answer.text
        assert answer.headers["x-correlation-id"] == correlation

        # ... and the reports service from Kafka again (the contacts relay, then its feed):
        # one contact of the two a year, so the link turns from "none" to "behind".
        deadline = time.monotonic() + 60
        while True:
            report = await ok(
                client, "GET", f"{reports}/compliance", params={"period": str(today.year)}
            )
            if report["city"]["links"] == 1 and report["city"]["none"] == 0:
                break
            assert time.monotonic() < deadline, f"{report}\n{stack.logs()}"
            await asyncio.sleep(0.2)

        # The second contact of the year comes through the web frontend: the link is met.
        await representative_logs_through_the_web(
            client, stack, rep, worker, today - timedelta(days=1)
        )
        deadline = time.monotonic() + 60
        while True:
            report = await ok(
                client, "GET", f"{reports}/compliance", params={"period": str(today.year)}
            )
            if report["city"]["met"] == 1:
                break
            assert time.monotonic() < deadline, f"{report}\n{stack.logs()}"
            await asyncio.sleep(0.2)

        await frontend_shows_the_member(client, stack, rep)

        # Operability on every service: ready, metrics with its own gauges. The frontend has
        # no database: it is ready when the services it calls answer.
        for process in SERVICES:
            ready = await client.get(f"{stack.url(process.name)}/ready")
            assert ready.status_code == 200, ready.text
            checks = ready.json()["checks"]
            if process.kind == "web":
                assert checks == {name: "ok" for name in process.calls}, checks
            else:
                assert checks["database"] == "ok", checks
            metrics = (await client.get(f"{stack.url(process.name)}/metrics")).text
            assert f'sanlian_ready{{service="{process.name}"}} 1.0' in metrics
            assert "sanlian_http_requests_total" in metrics
        # Load balancers and Prometheus do not sign in: the operations paths need no token,
        # the rest does.
        async with httpx.AsyncClient(timeout=30) as anonymous:
            for process in SERVICES:
                for path in ("/health", "/ready", "/metrics"):
                    answer = await anonymous.get(f"{stack.url(process.name)}{path}")
                    assert answer.status_code == 200, (process.name, path, answer.text)
            refused = await anonymous.get(f"{reports}/compliance", params={"period": "2026"})
            assert refused.status_code == 401, refused.text
        # One JSON log line per request, with the request's correlation id.
        lines = (stack.state_dir / "stack" / "logs" / "contacts.log").read_text().splitlines()
        logged = [json.loads(line) for line in lines if line.startswith("{")]
        assert any(
            line.get("event") == "http.request"
            and line.get("correlation_id") == correlation
            and line.get("status") in (200, 201)
            and line.get("process") == "contacts"
            for line in logged
        ), lines[-20:]

    down = await _down(stack.state_dir, stack.env)
    assert down.returncode == 0, down.stderr
    assert stack.popen.wait(timeout=60) == 0, stack.logs()
    assert [name for name, pid in pids.items() if alive(pid)] == []
    assert not (stack.state_dir / "stack" / "stack.json").exists()
    # Every process stopped on SIGTERM by itself, none had to be killed.
    output = stack.output.read_text()
    assert "killed" not in output, stack.logs()
    assert "roster-relay (exit 0)" in output, output
