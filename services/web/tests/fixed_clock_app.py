"""The embedded app on a clock the test sets: ``uvicorn --factory fixed_clock_app:create_app``
with ``FIXED_NOW`` an ISO moment (``2026-10-15T02:00:00+00:00``). Every service and the
frontend read that moment as "now", so a page shows what is overdue on the day the test
chose, whatever the day it runs. The moment must be in the past: a token's issue time is
checked against the wall clock too, so one issued "in the future" is refused."""

from __future__ import annotations

import os
from datetime import datetime

from fastapi import FastAPI

from web.embedded import create_app as create_embedded

NOW_VARIABLE = "FIXED_NOW"


def create_app() -> FastAPI:
    """The embedded app with every clock stopped at ``FIXED_NOW``."""
    now = datetime.fromisoformat(os.environ[NOW_VARIABLE])
    return create_embedded(clock=lambda: now)
