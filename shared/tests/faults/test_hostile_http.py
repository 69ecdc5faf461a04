"""Hostile HTTP input on the running services: oversized and deeply nested bodies, invalid
UTF-8, and SQL or HTML in every text field. Never a 5xx; text is stored as text and comes back
exactly as sent."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import httpx
import pytest

from access.principal import SCOPES
from support import tally
from support.auth import STAFF, as_member, token
from support.load import City
from support.own_servers import OwnServer
from support.running import running_topology
from support.topology import APPS, Topology

pytestmark = [pytest.mark.faults, pytest.mark.timeout(900)]

HOSTILE_TEXTS = [
    "'; DROP TABLE events; --",
    "Robert'); DROP TABLE members;--",
    "1' OR '1'='1' /*",
    "$$; SELECT pg_sleep(30); $$ \\x00 E'\\\\'",
    "<script>alert('x')</script>",
    '"><img src=x onerror=alert(1)>',
    "{{7*7}} ${7*7} %s%n <!-- -->",
    "职工\u200b代表 \u202eRTL\u202c 👷\u200d♀️",
]
"""Stored and returned verbatim wherever free text is accepted."""

CONTROL_TEXTS = ["NUL\x00inside", "lone surrogate \ud800 here"]
"""Text no database column can hold: refused with a 422 before anything is stored."""


class Probe:
    """An HTTP client that counts every answer and remembers those no client should get."""

    def __init__(self, topology: Topology) -> None:
        self.topology = topology
        self.client = httpx.AsyncClient(timeout=httpx.Timeout(60, connect=10))
        self.answers: Counter[int] = Counter()
        self.server_errors: list[str] = []

    async def send(self, app: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One request to an app; a 5xx is remembered with what caused it."""
        headers = {**STAFF, **kwargs.pop("headers", {})}
        if "json" in kwargs:  # serialised here: httpx cannot encode an unpaired surrogate
            kwargs["content"] = json.dumps(kwargs.pop("json")).encode()
            headers["Content-Type"] = "application/json"
        answer = await self.client.request(
            method, f"{self.topology.url(app)}{path}", headers=headers, **kwargs
        )
        self.answers[answer.status_code] += 1
        if answer.status_code >= 500:
            self.server_errors.append(f"{method} {app}{path}: {answer.status_code} {answer.text}")
        return answer


@pytest.fixture(scope="module")
async def services(
    pg_dsn: str, own_kafka_server: OwnServer, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[tuple[Topology, City]]:
    """The full topology, shared by this module's tests (none of them stops anything)."""
    logs = tmp_path_factory.mktemp("hostile-http")
    async with running_topology(pg_dsn, own_kafka_server.address, logs) as (topology, city, _):
        yield topology, city


Field = Callable[[Probe, City, str], Awaitable[tuple[httpx.Response, Any]]]


async def unit_name(probe: Probe, city: City, text: str) -> tuple[httpx.Response, Any]:
    unit = str(uuid.uuid4())
    body = {"unit_id": unit, "name": text, "kind": "city_federation"}
    made = await probe.send("roster", "POST", "/units", json=body)
    if made.status_code != 201:
        return made, None
    return made, (await probe.send("roster", "GET", f"/units/{unit}")).json()["name"]


async def unit_rename(probe: Probe, city: City, text: str) -> tuple[httpx.Response, Any]:
    made = await probe.send("roster", "PUT", f"/units/{city.unit_id}/name", json={"name": text})
    if made.status_code != 200:
        return made, None
    return made, (await probe.send("roster", "GET", f"/units/{city.unit_id}")).json()["name"]


async def member_name(probe: Probe, city: City, text: str) -> tuple[httpx.Response, Any]:
    member_id = str(uuid.uuid4())
    body = {
        "member_id": member_id,
        "unit_id": city.unit_id,
        "tier": "worker",
        "name": text,
        "external_number": f"H-{member_id[:12]}",
    }
    made = await probe.send("roster", "POST", "/members", json=body)
    if made.status_code != 201:
        return made, None
    return made, (await probe.send("roster", "GET", f"/members/{member_id}")).json()["name"]


async def contact_note(probe: Probe, city: City, text: str) -> tuple[httpx.Response, Any]:
    upper, lower = city.pairs[0]
    contact = str(uuid.uuid4())
    body = {
        "contact_id": contact,
        "upper_member_id": upper,
        "lower_member_id": lower,
        "contacted_on": "2026-05-04",
        "method": "visit",
        "note": text,
    }
    made = await probe.send("contacts", "POST", "/contacts", json=body)
    if made.status_code != 201:
        return made, None
    return made, (await probe.send("contacts", "GET", f"/contacts/{contact}")).json()["note"]


async def suggestion_text(probe: Probe, city: City, text: str) -> tuple[httpx.Response, Any]:
    _, worker = city.pairs[1]
    suggestion = str(uuid.uuid4())
    body = {"suggestion_id": suggestion, "text": text, "category": "rights", "channel": "visit"}
    made = await probe.send(
        "feedback", "POST", "/suggestions", json=body, headers=as_member(worker)
    )
    if made.status_code != 201:
        return made, None
    shown = await probe.send("feedback", "GET", f"/suggestions/{suggestion}")
    return made, shown.json()["text"]


async def escalation_reason(probe: Probe, city: City, text: str) -> tuple[httpx.Response, Any]:
    representative, worker = city.pairs[2]
    suggestion = str(uuid.uuid4())
    body = {
        "suggestion_id": suggestion,
        "text": "宿舍热水",
        "category": "other",
        "channel": "visit",
    }
    raised = await probe.send(
        "feedback", "POST", "/suggestions", json=body, headers=as_member(worker)
    )
    assert raised.status_code == 201, raised.text
    made = await probe.send(
        "feedback",
        "POST",
        f"/suggestions/{suggestion}/escalation",
        json={"reason": text},
        headers=as_member(representative),
    )
    if made.status_code != 200:
        return made, None
    shown = await probe.send("feedback", "GET", f"/suggestions/{suggestion}")
    return made, shown.json()["timeline"][-1]["text"]


FIELDS: dict[str, Field] = {
    "roster unit name": unit_name,
    "roster unit rename": unit_rename,
    "roster member name": member_name,
    "contacts note": contact_note,
    "feedback suggestion text": suggestion_text,
    "feedback escalation reason": escalation_reason,
}


def _wrong(field: str, text: str, made: httpx.Response, shown: Any) -> str:
    return f"{field} {text!r}: {made.status_code} {made.text[:200]}, shown {shown!r}"


async def test_sql_and_html_in_every_text_field_are_stored_as_text_and_returned_verbatim(
    services: tuple[Topology, City],
) -> None:
    topology, city = services
    probe = Probe(topology)
    verbatim, refused, wrong = 0, 0, []
    try:
        for field, attempt in FIELDS.items():
            for text in HOSTILE_TEXTS:
                made, shown = await attempt(probe, city, text)
                if made.status_code in (200, 201) and shown == text:
                    verbatim += 1
                else:
                    wrong.append(
                        f"{field} {text!r}: {made.status_code} {made.text[:200]} {shown!r}"
                    )
            for text in CONTROL_TEXTS:
                made, shown = await attempt(probe, city, text)
                if made.status_code == 422:
                    refused += 1
                elif made.status_code not in (200, 201) or shown != text:
                    wrong.append(
                        f"{field} {text!r}: {made.status_code} {made.text[:200]} {shown!r}"
                    )
    finally:
        await probe.client.aclose()
    tally.record(
        tally.ScenarioResult(
            "hostile HTTP: text fields",
            commands_sent=sum(probe.answers.values()),
            notes={
                "fields": len(FIELDS),
                "returned verbatim": verbatim,
                "control characters refused (422)": refused,
                "5xx": len(probe.server_errors),
            },
        )
    )
    assert probe.server_errors == []
    assert wrong == []
    assert verbatim == len(FIELDS) * len(HOSTILE_TEXTS)


def _nested(depth: int) -> bytes:
    return b'{"note": ' + b"[" * depth + b"]" * depth + b"}"


async def test_oversized_deeply_nested_and_invalid_utf8_bodies_are_refused_never_a_5xx(
    services: tuple[Topology, City],
) -> None:
    topology, city = services
    upper, lower = city.pairs[0]
    head = (
        f'{{"upper_member_id": "{upper}", "lower_member_id": "{lower}", '
        '"contacted_on": "2026-05-04", "method": "visit", "note": '
    ).encode()
    bodies = {
        "32 MB note": head + b'"' + b"x" * (32 << 20) + b'"}',
        "100,000 nested arrays": _nested(100_000),
        "invalid UTF-8": head + b'"\xff\xfe\xc3\x28"}',
        "UTF-8 overlong encoding": head + b'"\xc0\xaf"}',
        "lone surrogate escape": head + b'"\\ud800"}',
        "truncated JSON": head + b'"unterminated',
    }
    probe = Probe(topology)
    statuses: dict[str, int] = {}
    try:
        for what, body in bodies.items():
            for app, path in (("contacts", "/contacts"), ("roster", "/members")):
                answer = await probe.send(
                    app,
                    "POST",
                    path,
                    content=body,
                    headers={"Content-Type": "application/json"},
                )
                statuses[f"{what} to {app}"] = answer.status_code
    finally:
        await probe.client.aclose()
    tally.record(
        tally.ScenarioResult(
            "hostile HTTP: malformed bodies",
            commands_sent=sum(probe.answers.values()),
            notes={"answers": dict(sorted(Counter(statuses.values()).items()))},
        )
    )
    assert probe.server_errors == []
    assert all(400 <= status < 500 for status in statuses.values()), statuses


EXAMPLES = 10
"""Generated requests per operation, phase and generation mode."""
CONFIG = Path(__file__).with_name("schemathesis.toml")
ROLES = ("admin", "member", "auditor", "system")


def _token(role: str, member: str) -> str:
    if role == "member":
        return token("member", member)
    if role == "system":
        return token("system", scopes=SCOPES)
    return token(role)  # type: ignore[arg-type]


def _fuzz(url: str, authorization: str, report: Path) -> tuple[int, list[str]]:
    """Schemathesis, as a client runs it, with every check on every operation of the app at
    ``url`` (valid and invalid input, the examples, coverage and fuzzing phases); returns
    (requests, failures) from its JUnit report. Blocks: run it in a thread."""
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "support.fuzz_hooks"}
    env["PYTHONPATH"] = os.pathsep.join([str(Path(__file__).parents[1]), env.get("PYTHONPATH", "")])
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "--config-file",
        str(CONFIG),
        "--no-color",
        "run",
        f"{url}/openapi.json",
        "--checks",
        "all",
        "--phases",
        "examples,coverage,fuzzing",
        "--max-examples",
        str(EXAMPLES),
        "--seed",
        "1",
        "--workers",
        "1",
        "--header",
        f"Authorization: Bearer {authorization}",
        "--report",
        "junit",
        "--report-junit-path",
        str(report),
    ]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    tree = ElementTree.parse(report)
    failures = [
        f"{case.get('name')}: {(failure.get('message') or failure.text or '')[:1500]}"
        for case in tree.iter("testcase")
        for failure in [*case.iter("failure"), *case.iter("error")]
    ]
    requests = int(re.search(r"(\d+) generated", done.stdout).group(1))  # type: ignore[union-attr]
    if done.returncode != 0 and not failures:
        failures.append(f"schemathesis exited {done.returncode}: {done.stdout[-3000:]}")
    return requests, failures


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("app", APPS)
async def test_schemathesis_with_every_check_finds_no_answer_the_document_does_not_promise(
    services: tuple[Topology, City], app: str, role: str, tmp_path: Path
) -> None:
    """No server error, no status or content type or header the document does not list, no
    answer off its schema, no valid request refused and no invalid one accepted: the checks
    of ``--checks all`` with each kind of caller."""
    topology, city = services
    representative, _ = city.pairs[0]
    authorization = _token(role, representative)
    report = tmp_path / f"{app}-{role}.xml"
    requests, failures = await asyncio.to_thread(_fuzz, topology.url(app), authorization, report)
    tally.record(
        tally.ScenarioResult(
            f"schemathesis --checks all: {app} as {role}",
            commands_sent=requests,
            notes={"failures": len(failures)},
        )
    )
    assert requests > 0
    assert failures == [], "\n\n".join(failures[:10])
