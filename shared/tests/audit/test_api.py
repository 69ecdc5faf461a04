"""The read-only audit endpoints, mounted in a throwaway app over the SQLite stores."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from audit.api import ROUTER
from servicekit.http import install_error_handlers


def _client() -> TestClient:
    app = FastAPI()
    install_error_handlers(app)  # as the embedded app and the web process answer refusals
    app.include_router(ROUTER)
    return TestClient(app)


def test_verify_and_history_endpoints(year: Any) -> None:
    client = _client()
    report = client.get("/audit/verify").json()
    assert report["ok"] is True
    assert report["events"] == 14
    events = client.get("/audit/history", params={"suggestion": str(year.suggestion)}).json()
    assert [e["type"] for e in events] == ["sanlian.feedback.SuggestionRaised.v2"]
    assert events[0]["actor"] == "staff:auditor-test"
    refused = client.get("/audit/history")
    assert refused.status_code == 422
    assert refused.json()["code"] == "one_subject_required"
    assert client.post("/audit/verify").status_code == 405  # read-only
