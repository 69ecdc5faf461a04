"""Fixtures of the frontend's tests: the embedded app served on a loopback port, and Debian's
Chromium driven by Playwright (installed by ``deploy/local/chromium.sh``; a machine without
it fails these tests, it never skips them)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from browser_support import Admin, Server

ROOT = Path(__file__).resolve().parents[3]
ARTIFACTS = ROOT / "test-artifacts" / "web"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Path of Debian's Chromium, installed if missing."""
    result = subprocess.run(
        [str(ROOT / "deploy" / "local" / "chromium.sh"), "path"],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if result.returncode != 0 or not result.stdout.strip():
        pytest.fail(f"deploy/local/chromium.sh failed:\n{result.stderr[-3000:]}", pytrace=False)
    return result.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The embedded app (every service and the frontend, on SQLite) at a loopback address."""
    port = _free_port()
    data = tmp_path_factory.mktemp("embedded")
    env = {
        **os.environ,
        "SANLIAN_STORE_BACKEND": "sqlite",
        "SANLIAN_SQLITE_DIR": str(data),
        "SANLIAN_ENVIRONMENT": "test",
        # Outside development the signing secret must be set (the default is refused).
        "SANLIAN_AUTH_SECRET": "browser-tests-signing-secret-0123456789",
    }
    log = (data / "server.log").open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "web.embedded:create_app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                pytest.fail(
                    f"the embedded app exited:\n{(data / 'server.log').read_text()[-3000:]}"
                )
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("the embedded app did not answer /health within 60 s")
            time.sleep(0.2)
        yield Server(base, env)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@pytest.fixture(scope="module")
def browser(chromium_path: str) -> Iterator[Any]:
    """One headless Chromium per test module. Playwright's sync API runs an event loop while
    it is open, which the suite's asyncio tests cannot share: it closes with the module."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where screenshots go (git ignores it)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def admin(server: Server) -> Admin:
    """``sanlian-access create-admin`` on the server's data, then a token by signing in."""
    username, password = "admin-web", "Sanlian-15510-admin"
    made = subprocess.run(
        [
            str(Path(sys.executable).parent / "sanlian-access"),
            "create-admin",
            "--username",
            username,
            "--password-stdin",
        ],
        input=password + "\n",
        env=server.env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    granted = httpx.post(
        f"{server.base}/roster/auth/token",
        data={"username": username, "password": password},
        timeout=10,
    )
    assert granted.status_code == 200, granted.text
    return Admin(username, password, granted.json()["access_token"])
