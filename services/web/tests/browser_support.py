"""What every browser test watches: console errors, page errors and requests to other hosts."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 900}
ROOT = Path(__file__).resolve().parents[3]
TESTS = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Server:
    """The running embedded app: its address and the settings it was started with."""

    base: str
    env: dict[str, str]


@dataclass(frozen=True)
class Admin:
    """The first federation admin of the test server, and a token of theirs."""

    username: str
    password: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        """The headers of a call made as this admin."""
        return {"Authorization": f"Bearer {self.token}"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def serve_embedded(
    data: Path, factory: str = "web.embedded:create_app", **env: str
) -> Iterator[Server]:
    """The embedded app made by ``factory`` (a module of the app, or of this folder) served
    on a loopback port until the block ends, its stores in ``data``; ``env`` adds settings."""
    port = _free_port()
    settings = {
        **os.environ,
        "SANLIAN_STORE_BACKEND": "sqlite",
        "SANLIAN_SQLITE_DIR": str(data),
        "SANLIAN_ENVIRONMENT": "test",
        # Outside development the signing secret must be set (the default is refused).
        "SANLIAN_AUTH_SECRET": "browser-tests-signing-secret-0123456789",
        **env,
    }
    log = (data / "server.log").open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            factory,
            "--app-dir",
            str(TESTS),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=settings,
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
        yield Server(base, settings)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def create_admin(server: Server, username: str = "admin-web") -> Admin:
    """``sanlian-access create-admin`` on the server's data, then a token by signing in."""
    password = "Sanlian-15510-admin"
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


@dataclass
class Watch:
    """Everything a page did that a test must refuse."""

    host: str
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    foreign_requests: list[str] = field(default_factory=list)
    server_errors: list[str] = field(default_factory=list)
    pages_seen: set[str] = field(default_factory=set)

    def attach(self, page: Any) -> None:
        """Listen to one page."""
        page.on(
            "console",
            lambda msg: (
                self.console_errors.append(f"{page.url}: {msg.text}")
                if msg.type == "error"
                else None
            ),
        )
        page.on("pageerror", lambda exc: self.page_errors.append(f"{page.url}: {exc}"))
        page.on("request", self._request)
        page.on("response", self._response)

    def _request(self, request: Any) -> None:
        parts = urlsplit(request.url)
        if parts.scheme in ("data", "about", "blob"):
            return
        if parts.netloc != self.host:
            self.foreign_requests.append(request.url)
        elif request.resource_type == "document":
            self.pages_seen.add(parts.path)

    def _response(self, response: Any) -> None:
        if response.status >= 500:
            self.server_errors.append(f"{response.status} {response.url}")

    def assert_clean(self) -> None:
        """No console or page errors, no request to another host, no server error."""
        assert self.console_errors == [], self.console_errors
        assert self.page_errors == [], self.page_errors
        assert self.foreign_requests == [], self.foreign_requests
        assert self.server_errors == [], self.server_errors


@contextmanager
def watched_page(
    browser: Any, base: str, viewport: dict[str, int], **options: Any
) -> Iterator[tuple[Any, Watch]]:
    """A fresh browser context (its own cookies) and page, watched until the block ends;
    ``options`` go to the context (``has_touch=True, is_mobile=True`` for a phone)."""
    context = browser.new_context(viewport=viewport, base_url=base, locale="zh-CN", **options)
    context.set_default_timeout(15_000)
    page = context.new_page()
    watch = Watch(host=urlsplit(base).netloc)
    watch.attach(page)
    try:
        yield page, watch
    finally:
        context.close()


def header_menu(page: Any) -> Any:
    """The header's menu (language, password, sign-out), opened with a tap when closed."""
    menu = page.locator("header details.menu")
    if menu.get_attribute("open") is None:
        menu.locator("summary").click()
    return menu


def choose_language(page: Any, name: str) -> None:
    """Switch the page's language from the header's menu (``English``, ``中文``)."""
    header_menu(page).get_by_role("button", name=name).click()


UNLABELLED = """() => [...document.querySelectorAll("input, select, textarea, button")]
  .filter((el) => el.type !== "hidden")
  .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute("aria-label")
    && !(el.tagName === "BUTTON" && el.textContent.trim()))
  .map((el) => el.outerHTML.slice(0, 120))"""
"""Form controls a screen reader could not name: no label, no aria-label, no text."""


AXE = Path(__file__).resolve().parents[1] / "node_modules" / "axe-core" / "axe.min.js"
"""axe-core, the accessibility engine, from the npm package ``make install`` pins (a dev
dependency: the pages never load it; the tests put it into the page they check)."""

WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

AXE_RUN = """async (tags) => (await axe.run(document, {runOnly: {type: "tag", values: tags}}))
  .violations.map((v) => `${v.id} (${v.impact}): ${v.help}: ` +
    v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(" | "))"""


def accessibility_violations(page: Any) -> list[str]:
    """What axe-core finds against WCAG 2.x A and AA on the page as it stands (contrast,
    names, landmarks, keyboard traps...), one line per rule."""
    if not page.evaluate("typeof window.axe === 'object'"):
        # Evaluated by the browser's debugger protocol, so no script tag and no request.
        page.evaluate(AXE.read_text(encoding="utf-8"))
    violations: list[str] = page.evaluate(AXE_RUN, WCAG_AA)
    return violations


def shoot(page: Any, folder: Path, name: str) -> None:
    """A full-page screenshot kept as a test artifact, once the page has a single ``h1``,
    every form control on it has a name, and axe-core finds nothing against WCAG 2.x AA."""
    assert page.locator("h1").count() == 1, page.url
    assert page.evaluate(UNLABELLED) == [], page.url
    assert accessibility_violations(page) == [], page.url
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
