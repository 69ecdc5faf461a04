"""Verification: versions gapless, hash chains intact, schemas valid, stores equal to topics.

Each check returns :class:`Finding` values naming the service, stream, version and position
and the reason, so an auditor can go straight to the event. A hash chain alone cannot see
the *last* event of a stream removed; the global positions (gap-free by the store's
contract), the relay checkpoint and the comparison with the topic can.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from eventspine.envelope import GENESIS_HASH, RecordedEvent
from eventspine.errors import SpineError
from eventspine.events import EventRegistry
from eventspine.hashing import chain_hash, content_digest

SCHEMAS_DIR = Path(__file__).resolve().parents[3] / "schemas" / "events"
"""The committed JSON Schemas (``schemas/events/<service>/<Name>.v<N>.json``)."""


@dataclass(frozen=True, order=True)
class Finding:
    """One thing wrong with the history, and where."""

    service: str
    stream_id: str = ""
    version: int = 0
    position: int = 0
    reason: str = ""

    def __str__(self) -> str:
        where = self.service
        if self.stream_id:
            where += f" stream {self.stream_id} v{self.version}"
        if self.position:
            where += f" (position {self.position})"
        return f"{where}: {self.reason}"


def _at(event: RecordedEvent, reason: str) -> Finding:
    return Finding(event.service, event.stream_id, event.stream_version, event.position, reason)


@dataclass
class VerifyReport:
    """What :func:`verify` found: counts per event type, findings and warnings."""

    sources: list[str]
    counts: Counter[tuple[str, str]] = field(default_factory=Counter)
    streams: int = 0
    findings: list[Finding] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing was found (warnings do not count)."""
        return not self.findings

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready form (the HTTP endpoint's answer)."""
        return {
            "ok": self.ok,
            "sources": self.sources,
            "events": sum(self.counts.values()),
            "streams": self.streams,
            "counts": [
                {"service": s, "type": t, "events": n} for (s, t), n in sorted(self.counts.items())
            ],
            "findings": [{**f.__dict__, "message": str(f)} for f in sorted(self.findings)],
            "warnings": self.warnings,
        }


class SchemaCheck:
    """Validates event data against the committed JSON Schema of its type and version."""

    def __init__(self, root: Path = SCHEMAS_DIR) -> None:
        self.root = root
        self._validators: dict[tuple[str, str, int], Draft202012Validator | None] = {}

    def problem(self, event: RecordedEvent) -> str | None:
        """Why the event's data fails its schema, or ``None`` when it is valid."""
        key = (event.service, event.event_type, event.schema_version)
        if key not in self._validators:
            path = self.root / event.service / f"{event.event_type}.v{event.schema_version}.json"
            self._validators[key] = (
                Draft202012Validator(json.loads(path.read_text(encoding="utf-8")))
                if path.is_file()
                else None
            )
        validator = self._validators[key]
        if validator is None:
            return f"no committed JSON Schema for {event.event_type} v{event.schema_version}"
        error = next(iter(validator.iter_errors(event.data)), None)
        if error is None:
            return None
        where = ".".join(str(part) for part in error.absolute_path) or "data"
        return f"data invalid against its JSON Schema at {where}: {error.message}"


def check_chains(events: list[RecordedEvent]) -> list[Finding]:
    """Per stream, in stored order: versions gapless and in order, hash chain intact."""
    findings: list[Finding] = []
    heads: dict[str, tuple[int, str]] = {}
    for event in events:
        version, prev = heads.get(event.stream_id, (0, GENESIS_HASH))
        if event.stream_version <= version:
            findings.append(
                _at(event, f"out of order: v{event.stream_version} stored after v{version}")
            )
        elif event.stream_version > version + 1:
            missing = f"v{version + 1}" + (
                f"..v{event.stream_version - 1}" if event.stream_version > version + 2 else ""
            )
            findings.append(_at(event, f"{missing} missing: stream jumps from v{version}"))
        elif event.prev_hash != prev:
            findings.append(_at(event, "prev_hash does not match the previous event's hash"))
        if event.hash != chain_hash(event.prev_hash, content_digest(event.hashed_content())):
            findings.append(_at(event, "content does not match its hash (altered)"))
        heads[event.stream_id] = (max(version, event.stream_version), event.hash)
    return findings


def check_positions(service: str, events: list[RecordedEvent], checkpoint: int) -> list[Finding]:
    """Global positions gapless from 1, and the store holding what its relay published."""
    findings: list[Finding] = []
    expected = 1
    for event in events:
        if event.position > expected:
            gap = f"{expected}" + (
                f"..{event.position - 1}" if event.position > expected + 1 else ""
            )
            findings.append(Finding(service, reason=f"positions {gap} missing from the history"))
        expected = event.position + 1
    head = events[-1].position if events else 0
    if checkpoint > head:
        findings.append(
            Finding(
                service,
                position=checkpoint,
                reason=f"the relay published up to position {checkpoint} but the store ends "
                f"at {head}: events were removed from the end",
            )
        )
    return findings


def check_events(
    events: list[RecordedEvent], registry: EventRegistry, schemas: SchemaCheck
) -> list[Finding]:
    """Every event valid against its committed schema and decodable by the registry."""
    findings: list[Finding] = []
    for event in events:
        if problem := schemas.problem(event):
            findings.append(_at(event, problem))
            continue
        try:
            registry.decode(event.event_type, event.schema_version, event.data)
        except SpineError as exc:
            findings.append(_at(event, f"cannot be decoded: {exc}"))
    return findings
