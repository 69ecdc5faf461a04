"""Schemathesis hooks of the fault tier's fuzzing (``SCHEMATHESIS_HOOKS=support.fuzz_hooks``).

An ``Idempotency-Key`` stands for one request: a client sends a new key for a new request and
the same key only to retry the same one. Schemathesis draws header values from the document
with a fixed seed and would send one key with many bodies, each of which the services rightly
refuse (422 ``idempotency_key_reused``, tested on its own). So every request generated with a
well-formed key gets a fresh one; a malformed key (negative testing) is sent as generated.
"""

from __future__ import annotations

import uuid
from typing import Any

import schemathesis
from schemathesis.generation.meta import CoverageScenario
from schemathesis.hooks import HookContext

KEY = "idempotency-key"


@schemathesis.hook
def map_headers(context: HookContext, headers: dict[str, Any] | None) -> dict[str, Any] | None:
    """Give a request with a well-formed Idempotency-Key a key of its own."""
    if not headers:
        return headers
    fresh = dict(headers)
    for name, value in headers.items():
        if name.lower() != KEY or not isinstance(value, str):
            continue
        try:
            uuid.UUID(value)
        except ValueError:
            continue  # a malformed key: the service must refuse it
        fresh[name] = str(uuid.uuid4())
    return fresh


@schemathesis.hook
def before_call(context: HookContext, case: Any, kwargs: dict[str, Any]) -> None:
    """The same for the requests the examples and coverage phases build without the
    generation hooks: the key is replaced in place in the request about to be sent (nothing
    else of it is touched)."""
    data = getattr(getattr(case.meta, "phase", None), "data", None)
    if getattr(data, "scenario", None) == CoverageScenario.MISSING_PARAMETER:
        return  # a request left without a header on purpose: sent exactly as drawn
    for headers in (kwargs.get("headers"), case.headers):
        if headers is None:
            continue
        for name, value in list(headers.items()):
            if name.lower() == KEY and isinstance(value, str) and _well_formed(value):
                headers[name] = str(uuid.uuid4())


def _well_formed(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
