"""A local stand-in for the group robots: 企业微信群机器人 and 钉钉自定义机器人 endpoints that
check each message against the documented format (and a 钉钉 robot's 加签), record it, and
answer as the robots do. ``fail_next`` makes the next requests fail with a 500."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from smtp_support import free_port
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


@dataclass
class Receiver:
    """What the robots received, by robot (``wecom``, ``dingtalk``)."""

    port: int
    dingtalk_secret: str
    received: dict[str, list[dict[str, Any]]] = field(
        default_factory=lambda: {"wecom": [], "dingtalk": []}
    )
    refused: list[str] = field(default_factory=list)
    fail_next: int = 0

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _failing(self) -> bool:
        if self.fail_next > 0:
            self.fail_next -= 1
            return True
        return False

    async def wecom(self, request: Request) -> JSONResponse:
        if self._failing():
            return JSONResponse({"errcode": -1, "errmsg": "system busy"}, status_code=500)
        body = await request.json()
        markdown = body.get("markdown") if isinstance(body, dict) else None
        if (
            request.query_params.get("key") != "robot-key"
            or set(body) != {"msgtype", "markdown"}
            or body["msgtype"] != "markdown"
            or not isinstance(markdown, dict)
            or set(markdown) != {"content"}
            or not isinstance(markdown["content"], str)
            or not markdown["content"].strip()
        ):
            self.refused.append(f"wecom: {body}")
            return JSONResponse({"errcode": 40008, "errmsg": "invalid message type"})
        self.received["wecom"].append(body)
        return JSONResponse({"errcode": 0, "errmsg": "ok"})

    async def dingtalk(self, request: Request) -> JSONResponse:
        if self._failing():
            return JSONResponse({"errcode": -1, "errmsg": "busy"}, status_code=500)
        stamp = request.query_params.get("timestamp", "")
        sign = request.query_params.get("sign", "")
        # 加签: base64(HMAC-SHA256(secret, "<timestamp>\n<secret>")), within an hour.
        expected = base64.b64encode(
            hmac.new(
                self.dingtalk_secret.encode(),
                f"{stamp}\n{self.dingtalk_secret}".encode(),
                hashlib.sha256,
            ).digest()
        ).decode()
        fresh = stamp.isdigit() and abs(time.time() * 1000 - int(stamp)) < 3_600_000
        if not fresh or not hmac.compare_digest(sign, expected):
            self.refused.append(f"dingtalk sign: {stamp} {sign}")
            return JSONResponse({"errcode": 310000, "errmsg": "sign not match"})
        body = await request.json()
        markdown = body.get("markdown") if isinstance(body, dict) else None
        if (
            request.query_params.get("access_token") != "robot-token"
            or body.get("msgtype") != "markdown"
            or not isinstance(markdown, dict)
            or set(markdown) != {"title", "text"}
            or not all(isinstance(v, str) and v.strip() for v in markdown.values())
        ):
            self.refused.append(f"dingtalk: {body}")
            return JSONResponse({"errcode": 40035, "errmsg": "invalid parameter"})
        self.received["dingtalk"].append(body)
        return JSONResponse({"errcode": 0, "errmsg": "ok"})


@contextlib.asynccontextmanager
async def robot_receiver(secret: str = "SEC-robot-secret") -> AsyncIterator[Receiver]:
    """The receiver served on a loopback port until the block ends."""
    receiver = Receiver(free_port(), secret)
    app = Starlette(
        routes=[
            Route("/cgi-bin/webhook/send", receiver.wecom, methods=["POST"]),
            Route("/robot/send", receiver.dingtalk, methods=["POST"]),
        ]
    )
    config = uvicorn.Config(app, host="127.0.0.1", port=receiver.port, log_level="warning")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    for _ in range(500):  # uvicorn sets a flag, no event, once it listens
        if server.started:
            break
        await asyncio.sleep(0.02)
    try:
        yield receiver
    finally:
        server.should_exit = True
        await task
