"""Fixtures of the frontend's tests: the embedded app served on a loopback port, and Debian's
Chromium driven by Playwright (installed by ``deploy/local/chromium.sh``; a machine without
it fails these tests, it never skips them)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from browser_support import Admin, Server, create_admin, serve_embedded

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
    with serve_embedded(tmp_path_factory.mktemp("embedded")) as running:
        yield running


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
    return create_admin(server)
