"""Each service's /docs page is served by the service, Swagger UI included: nothing from a CDN."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from eventspine.config import Settings
from roster.main import create_app
from servicekit.apidocs import install_docs


async def test_the_docs_page_and_its_assets_come_from_the_service(tmp_path: Path) -> None:
    app = create_app(Settings(store_backend="sqlite", sqlite_dir=str(tmp_path)))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://roster") as client:
        page = await client.get("/docs")
        assert page.status_code == 200
        assert "://" not in page.text  # no absolute address: nothing from another host
        assets = re.findall(r'(?:src|href)="(docs-assets/[^"]+)"', page.text)
        assert len(assets) == 3  # script, style, icon
        for asset in assets:
            answer = await client.get(f"/{asset}")
            assert answer.status_code == 200, asset
        assert (await client.get("/redoc")).status_code == 404  # FastAPI's CDN page is gone


async def test_without_swagger_ui_installed_the_page_says_so_and_links_the_description(
    tmp_path: Path,
) -> None:
    settings = Settings(
        store_backend="sqlite", sqlite_dir=str(tmp_path), api_docs_assets=str(tmp_path / "none")
    )
    transport = httpx.ASGITransport(app=create_app(settings))
    async with httpx.AsyncClient(transport=transport, base_url="http://roster") as client:
        page = await client.get("/docs")
    assert page.status_code == 503
    assert 'href="openapi.json"' in page.text


def test_an_app_with_fastapis_own_docs_is_refused() -> None:
    with pytest.raises(ValueError, match="docs_url=None"):
        install_docs(FastAPI())
