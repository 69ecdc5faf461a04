"""The frontend as its own process of the full topology (``web.main``): its readiness is the
services it calls, and its metrics say so."""

from __future__ import annotations

import socket

import httpx

from web.frontend.settings import WebSettings
from web.main import create_app


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port  # closed again: nobody listens there


async def test_the_frontend_is_not_ready_while_the_services_it_calls_do_not_answer() -> None:
    nowhere = f"http://127.0.0.1:{_closed_port()}"
    settings = WebSettings(
        roster_url=nowhere,
        contacts_url=nowhere,
        feedback_url=nowhere,
        reports_url=nowhere,
        notify_url=nowhere,
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://web") as client:
            assert (await client.get("/health")).status_code == 200
            ready = await client.get("/ready")
            assert ready.status_code == 503
            checks = ready.json()["checks"]
            assert set(checks) == {"roster", "contacts", "feedback", "reports", "notify"}
            assert all(state.startswith("unreachable") for state in checks.values()), checks
            metrics = (await client.get("/metrics")).text
            assert 'sanlian_ready{service="web"} 0.0' in metrics
            # The sign-in form still renders: it needs no service until the form is sent.
            assert (await client.get("/login")).status_code == 200
