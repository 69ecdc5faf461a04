"""The HTTP load generator of the benchmarks: vegeta (``deploy/local/vegeta.sh`` builds it).

vegeta sends requests on a fixed schedule (open loop): a slow answer does not delay the next
request, so the latencies it reports include the time a request waited behind others in the
server (no coordinated omission), and a server that cannot keep up shows it as latency and
errors, not as a lower offered rate. It runs as its own process, in Go, so the load costs a
fraction of the CPU an asyncio client in Python would take from the server under test.

Every request is its own target (a fresh body and ``Idempotency-Key``, the bearer token), read
from a file of JSON lines in order.
"""

from __future__ import annotations

import asyncio
import base64
import json
import subprocess
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.infra import ROOT

TIMEOUT_S = 5
"""A request still unanswered after this is an error (an overloaded server, not a slow one)."""


def binary() -> Path:
    """The pinned vegeta, built first if missing (the script is idempotent)."""
    result = subprocess.run(
        [str(ROOT / "deploy" / "local" / "vegeta.sh")],
        capture_output=True,
        text=True,
        timeout=900,
        check=True,
    )
    return Path(result.stdout.strip())


@dataclass(frozen=True)
class Target:
    """One request: ``POST <url>`` with a JSON body and headers."""

    url: str
    body: Mapping[str, Any]
    headers: Mapping[str, str]

    def line(self) -> str:
        """The target in vegeta's JSON format."""
        return json.dumps(
            {
                "method": "POST",
                "url": self.url,
                "body": base64.b64encode(json.dumps(self.body).encode()).decode(),
                "header": {
                    "Content-Type": ["application/json"],
                    **{k: [v] for k, v in self.headers.items()},
                },
            }
        )


@dataclass(frozen=True)
class Answer:
    """One request's result: when its answer arrived (seconds since the epoch), its status and
    its body (kept only when asked for)."""

    answered_at: float
    code: int
    body: bytes


@dataclass(frozen=True)
class Attack:
    """The report of one attack at a fixed rate."""

    rate: float
    """Requests per second asked for."""
    sent_rate: float
    """Requests per second vegeta sent (below ``rate`` when the generator itself fell behind)."""
    requests: int
    success: float
    """Share of the answers with a 2xx status."""
    p50: float
    p99: float
    codes: dict[str, int]
    answers: list[Answer] = field(default_factory=list)

    @property
    def sustained(self) -> bool:
        """Every request answered 2xx, sent on schedule, p99 within 200 ms."""
        return self.success >= 1.0 and self.sent_rate >= 0.95 * self.rate and self.p99 <= 0.2


async def _run(*args: str) -> bytes:
    process = await asyncio.create_subprocess_exec(
        *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"{args[1]} failed ({process.returncode}): {err.decode()[-2000:]}")
    return out


def _answers(encoded: bytes) -> list[Answer]:
    answers = []
    for line in encoded.splitlines():
        result = json.loads(line)
        began = datetime.fromisoformat(result["timestamp"]).timestamp()
        answers.append(
            Answer(
                began + result["latency"] / 1e9,
                int(result["code"]),
                base64.b64decode(result.get("body") or b""),
            )
        )
    return answers


async def attack(
    vegeta: Path, targets: Iterable[Target], rate: int, seconds: float, *, bodies: bool = False
) -> Attack:
    """Send ``targets`` (at least ``rate * seconds`` of them: none is sent twice) at ``rate``
    requests per second for ``seconds``; with ``bodies``, each answer is kept."""
    with tempfile.TemporaryDirectory(prefix="bench-vegeta-") as folder:
        lines = Path(folder) / "targets.jsonl"
        results = Path(folder) / "results.bin"
        count = 0
        with lines.open("w") as out:
            for target in targets:
                out.write(target.line() + "\n")
                count += 1
        if count < rate * seconds:
            raise ValueError(f"{count} targets for {rate}/s x {seconds} s: keys would repeat")
        await _run(
            str(vegeta),
            "attack",
            "-format=json",
            f"-targets={lines}",
            f"-rate={rate}/1s",
            f"-duration={seconds}s",
            f"-timeout={TIMEOUT_S}s",
            f"-max-body={-1 if bodies else 0}",
            f"-output={results}",
        )
        report = json.loads(await _run(str(vegeta), "report", "-type=json", str(results)))
        answers = (
            _answers(await _run(str(vegeta), "encode", "-to=json", str(results))) if bodies else []
        )
    latencies = report["latencies"]
    return Attack(
        rate=rate,
        sent_rate=float(report["rate"]),
        requests=int(report["requests"]),
        success=float(report["success"]),
        p50=latencies["50th"] / 1e9,
        p99=latencies["99th"] / 1e9,
        codes={str(k): int(v) for k, v in (report.get("status_codes") or {}).items()},
        answers=answers,
    )
