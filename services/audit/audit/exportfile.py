"""Export files: CloudEvents 1.0 in structured JSON mode, one event per line, with a trailer.

Each line holds the event's attributes (as on Kafka, without the ``ce_`` prefix) and its
``data``. The last line is a trailer event (``sanlian.audit.ExportEnd.v1``) carrying the number
of events and the SHA-256 of every line before it: a file cut at a line boundary, or altered
in transit, is refused instead of being replayed as if it were the whole story.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from audit.heap import collector_paused
from audit.sources import AuditInputError, History
from eventspine.envelope import RecordedEvent

TRAILER_TYPE = "sanlian.audit.ExportEnd.v1"


def to_line(event: RecordedEvent) -> str:
    """One event as a structured-mode CloudEvents JSON line (no trailing newline)."""
    document: dict[str, Any] = {**event.cloudevent_attributes(), "data": event.data}
    return json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def from_document(document: dict[str, Any]) -> RecordedEvent:
    """Rebuild an event from a structured-mode document written by :func:`to_line`."""
    headers = [(f"ce_{k}", str(v).encode()) for k, v in document.items() if k != "data"]
    value = json.dumps(document["data"], ensure_ascii=False).encode()
    return RecordedEvent.from_kafka(headers, value)


def _trailer(count: int, digest: str) -> str:
    return json.dumps(
        {
            "specversion": "1.0",
            "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"sanlian-export:{digest}")),
            "source": "/sanlian/audit",
            "type": TRAILER_TYPE,
            "datacontenttype": "application/json",
            "data": {"count": count, "sha256": digest},
        },
        sort_keys=True,
        separators=(",", ":"),
    )


def write_atomic(path: Path, content: bytes) -> None:
    """Write ``content`` to ``path`` through a temporary file: never a partial file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def render(events: Iterable[RecordedEvent]) -> bytes:
    """The whole export file: the events' lines and the trailer."""
    lines = [to_line(event) for event in events]
    body = "".join(line + "\n" for line in lines)
    digest = hashlib.sha256(body.encode()).hexdigest()
    return (body + _trailer(len(lines), digest) + "\n").encode()


def read(path: Path) -> History:
    """The events of an export file; refuses a truncated, altered or corrupt file."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise AuditInputError(f"cannot read {path}: {exc.strerror}") from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise AuditInputError(f"{path}: not UTF-8 text (byte {exc.start})") from exc
    lines = text.split("\n")
    if not text.endswith("\n") or len(lines) < 2:
        raise AuditInputError(f"{path}: truncated (the last line is incomplete)")
    lines.pop()  # the empty string after the final newline
    trailer = _parse(path, len(lines), lines[-1])
    if trailer.get("type") != TRAILER_TYPE:
        raise AuditInputError(f"{path}: truncated (no export trailer at the end)")
    body = "".join(line + "\n" for line in lines[:-1])
    data = trailer.get("data") or {}
    if data.get("count") != len(lines) - 1:
        raise AuditInputError(
            f"{path}: the trailer counts {data.get('count')} events, the file holds "
            f"{len(lines) - 1}"
        )
    if data.get("sha256") != hashlib.sha256(body.encode()).hexdigest():
        raise AuditInputError(f"{path}: corrupt (the content does not match the trailer's digest)")
    history = History("file")
    with collector_paused():
        for number, line in enumerate(lines[:-1], start=1):
            try:
                event = from_document(_parse(path, number, line))
            except (KeyError, ValueError, ValidationError) as exc:
                where = f"{path} line {number}"
                raise AuditInputError(f"{where}: not a Sanlian CloudEvent: {exc}") from exc
            history.events.setdefault(event.service, []).append(event)
    for service, events in history.events.items():
        events.sort(key=lambda e: e.position)
        history.duplicates[service] = 0
    return history


def _parse(path: Path, number: int, line: str) -> dict[str, Any]:
    try:
        document = json.loads(line)
    except json.JSONDecodeError as exc:
        raise AuditInputError(f"{path} line {number}: not JSON ({exc.msg})") from exc
    if not isinstance(document, dict):
        raise AuditInputError(f"{path} line {number}: not a JSON object")
    return document
