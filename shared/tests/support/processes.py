"""Running platform processes for real, so tests can kill them with SIGKILL."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

SUPPORT = Path(__file__).resolve().parents[1]


def spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """Start ``python -m servicekit ARGS`` with the given ``SANLIAN_*`` settings."""
    full_env = {**os.environ, **env}
    full_env["PYTHONPATH"] = os.pathsep.join(
        [str(SUPPORT), *filter(None, [os.environ.get("PYTHONPATH")])]
    )
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "servicekit", *args],
            env=full_env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def kill(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL: no cleanup, no flush, as a crash or an OOM kill would do."""
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM and wait for a clean exit."""
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=30)


async def wait_until(
    condition: Callable[[], Awaitable[bool]],
    seconds: float,
    what: str,
    process: subprocess.Popen[bytes] | None = None,
    log: Path | None = None,
) -> None:
    """Poll ``condition`` until true; fail with ``what`` (and the process log) after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not await condition():
        if process is not None and process.poll() is not None:
            raise AssertionError(
                f"process exited ({process.returncode}) before {what}:\n{_tail(log)}"
            )
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}:\n{_tail(log)}")
        await asyncio.sleep(0.02)


def _tail(log: Path | None) -> str:
    return log.read_text(errors="replace")[-3000:] if log else ""
