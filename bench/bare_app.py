"""Rows 3's baseline: a bare FastAPI app whose one POST does one asyncpg INSERT.

Run by uvicorn (with as many workers as the service it is compared with) exactly as the
contacts service is: ``uvicorn --factory bench.bare_app:create_app --workers N``, with
``SANLIAN_PG_DSN`` and ``BENCH_TABLE``.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date

from fastapi import FastAPI, Request
from pydantic import BaseModel

from eventspine.store.postgres import connect_pool


class Contact(BaseModel):
    """The same body as ``POST /contacts``."""

    contact_id: uuid.UUID | None = None
    upper_member_id: uuid.UUID
    lower_member_id: uuid.UUID
    contacted_on: date
    method: str


def create_app() -> FastAPI:
    """The app; the pool (the contacts service's size) opens in the lifespan."""
    dsn = os.environ["SANLIAN_PG_DSN"]
    table = os.environ["BENCH_TABLE"]
    pool_size = int(os.environ.get("SANLIAN_PG_POOL_SIZE", "10"))
    sql = f"INSERT INTO {table} (contact_id, data) VALUES ($1, $2::jsonb)"

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.pool = await connect_pool(dsn, max_size=pool_size)
        yield
        await app.state.pool.close()

    app = FastAPI(lifespan=lifespan)

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/contacts", status_code=201)
    async def contact(body: Contact, request: Request) -> dict[str, str]:
        contact_id = body.contact_id or uuid.uuid4()
        await request.app.state.pool.execute(
            sql, contact_id, json.dumps(body.model_dump(mode="json"))
        )
        return {"contact_id": str(contact_id)}

    return app
