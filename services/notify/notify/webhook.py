"""A unit's group robot: 企业微信群机器人 or 钉钉自定义机器人, in their documented JSON formats.

Both take ``POST <address>`` with a JSON message and answer ``{"errcode": 0, "errmsg": "ok"}``
when the message was accepted. The message is markdown (a title and the text's lines):

* 企业微信: ``{"msgtype": "markdown", "markdown": {"content": "..."}}``;
* 钉钉: ``{"msgtype": "markdown", "markdown": {"title": "...", "text": "..."}}``, and a robot
  with 加签 (a signing secret) gets ``timestamp`` and ``sign`` in the query: base64 of the
  HMAC-SHA256, keyed with the secret, of ``"<timestamp in ms>\\n<secret>"``.

A refusal the robot states (a non-zero errcode, an HTTP 4xx) is permanent except for the
rate limits; a robot that cannot be reached, times out or answers 5xx is retried later.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import Any

import httpx

from notify.mail import SendError

RATE_LIMITED = {45009, 130101}
"""errcodes that mean "too many messages, try later" (企业微信 45009, 钉钉 130101)."""


def markdown(title: str, text: str) -> str:
    """The message as markdown: the title in bold, then each line."""
    lines = [line for line in text.split("\n") if line]
    return "\n\n".join([f"**{title}**", *lines])


def payload(format_: str, title: str, text: str) -> dict[str, Any]:
    """The JSON message in the robot's format."""
    if format_ == "wecom":
        return {"msgtype": "markdown", "markdown": {"content": markdown(title, text)}}
    if format_ == "dingtalk":
        return {"msgtype": "markdown", "markdown": {"title": title, "text": markdown(title, text)}}
    raise ValueError(f"unknown webhook format {format_!r}")


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """The 钉钉 加签 signature of a request made at ``timestamp_ms``."""
    digest = hmac.new(
        secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256
    ).digest()
    return base64.b64encode(digest).decode()


async def post(
    format_: str, address: str, secret: str | None, title: str, text: str, seconds: float
) -> None:
    """Send one message to a group robot; :class:`SendError` says why not."""
    params: dict[str, str] = {}
    if format_ == "dingtalk" and secret:
        stamp = int(time.time() * 1000)
        params = {"timestamp": str(stamp), "sign": dingtalk_sign(secret, stamp)}
    try:
        async with httpx.AsyncClient(timeout=seconds) as client:
            # The robot's own key is in the address's query: the signature joins it there.
            url = httpx.URL(address).copy_merge_params(params)
            answer = await client.post(url, json=payload(format_, title, text))
    except httpx.HTTPError as exc:
        raise SendError(f"webhook unavailable: {type(exc).__name__}", permanent=False) from exc
    if answer.status_code >= 500:
        raise SendError(f"webhook {answer.status_code}", permanent=False)
    if answer.status_code >= 400:
        raise SendError(f"webhook {answer.status_code}", permanent=True)
    try:
        body = answer.json()
    except ValueError:
        raise SendError("webhook answered no JSON", permanent=False) from None
    code = body.get("errcode", 0) if isinstance(body, dict) else 0
    if code:
        raise SendError(f"webhook errcode {code}", permanent=code not in RATE_LIMITED)
