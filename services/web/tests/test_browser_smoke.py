"""The sign-in page in a real browser: Chinese by default, English on request, nothing foreign,
no inline script."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from browser_support import DESKTOP, PHONE, Server, choose_language, shoot, watched_page


def test_the_sign_in_page_speaks_chinese_and_switches_to_english(
    browser: Any, server: Server, artifacts: Path
) -> None:
    with watched_page(browser, server.base, PHONE) as (page, watch):
        page.goto("/")
        assert page.locator("html").get_attribute("lang") == "zh-CN"
        assert page.get_by_role("heading", name="登录").is_visible()
        choose_language(page, "English")
        assert page.get_by_role("heading", name="Sign in").is_visible()
        assert page.locator("html").get_attribute("lang") == "en"
        shoot(page, artifacts, "login-en-phone")
        choose_language(page, "中文")
        assert page.get_by_label("用户名").is_visible()
        # The page is no wider than the phone: nothing scrolls sideways.
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        # htmx came from this server (node_modules), and it ran.
        assert page.evaluate("typeof window.htmx") == "object"
        watch.assert_clean()


INJECT = """() => { const s = document.createElement("script");
  s.textContent = "window.injected = true"; document.body.append(s);
  return window.injected === true; }"""


def test_the_pages_refuse_inline_scripts(browser: Any, server: Server) -> None:
    with watched_page(browser, server.base, PHONE) as (page, watch):
        response = page.goto("/login")
        assert response is not None
        policy = response.headers["content-security-policy"]
        assert "script-src 'self'" in policy
        assert "frame-ancestors 'none'" in policy
        assert response.headers["x-content-type-options"] == "nosniff"
        # A script that found its way into the page (say, through a stored value that was
        # not escaped) does not run, and the browser says why.
        assert page.evaluate(INJECT) is False
        assert any("Content Security Policy" in e for e in watch.console_errors)
        watch.console_errors.clear()
        watch.assert_clean()


def test_the_api_docs_render_offline_in_one_process(browser: Any, server: Server) -> None:
    # Swagger UI comes from the process itself (the pinned npm package), at every mount.
    with watched_page(browser, server.base, DESKTOP) as (page, watch):
        for path in ("/docs", "/roster/docs", "/reports/docs"):
            page.goto(path)
            page.locator(".opblock").first.wait_for()
            assert page.locator(".opblock").count() > 0, path
        watch.assert_clean()
