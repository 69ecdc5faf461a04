"""An oversized request body is refused with 413 before the app reads it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
from fastapi import FastAPI, Request

from servicekit.limits import BodyLimit

LIMIT = 1024


def _app() -> tuple[FastAPI, list[int]]:
    app = FastAPI()
    seen: list[int] = []

    @app.post("/echo")
    async def echo(request: Request) -> dict[str, int]:
        body = await request.body()
        seen.append(len(body))
        return {"bytes": len(body)}

    app.add_middleware(BodyLimit, max_bytes=LIMIT)
    return app, seen


async def _chunks(total: int, size: int = 100) -> AsyncIterator[bytes]:
    sent = 0
    while sent < total:
        yield b"x" * min(size, total - sent)
        sent += size


async def test_bodies_up_to_the_limit_pass_and_larger_ones_are_refused() -> None:
    app, seen = _app()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        assert (await client.post("/echo", content=b"x" * LIMIT)).json() == {"bytes": LIMIT}
        declared = await client.post("/echo", content=b"x" * (LIMIT + 1))
        assert declared.status_code == 413
        assert declared.headers["content-type"] == "application/problem+json"
        assert declared.json()["code"] == "body_too_large"
        assert declared.json()["params"] == {"max_bytes": LIMIT}
        streamed_ok = await client.post("/echo", content=_chunks(LIMIT))
        assert streamed_ok.json() == {"bytes": LIMIT}
        streamed = await client.post("/echo", content=_chunks(LIMIT * 50))
        assert streamed.status_code == 413
        odd = await client.post("/echo", content=b"{}", headers={"Content-Length": "-5"})
        assert odd.status_code in (400, 413)
    assert seen == [LIMIT, LIMIT]  # the refused bodies never reached the route
