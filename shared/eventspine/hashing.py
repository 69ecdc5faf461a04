"""The per-stream hash chain that lets an auditor prove nothing was altered or removed.

``digest`` = SHA-256 of the RFC 8785 (JCS) canonical JSON of an event's hashed content;
``hash`` = SHA-256 of ``prev_hash`` followed by ``digest`` (both lowercase hex, ASCII).
The first event of a stream chains to :data:`GENESIS_HASH`. The formula is simple enough to
check with any language's SHA-256 and JCS, and the stores compute the link in the same way.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

import rfc8785

from eventspine.envelope import GENESIS_HASH, RecordedEvent
from eventspine.errors import ChainBrokenError

_SAFE_INTEGER = 2**53 - 1  # I-JSON: integers beyond are not exact in every reader


def _needs_package(value: Any) -> bool:
    """Numbers JCS treats specially: fractions, and integers beyond the safe range.

    Called on every appended event: strings and null, most of the leaves, are recognised by
    their exact type before any ``isinstance`` check.
    """
    if type(value) is str or value is None:
        return False
    if isinstance(value, dict):
        return any(_needs_package(item) for item in value.values())
    if isinstance(value, list):
        return any(_needs_package(item) for item in value)
    if isinstance(value, float):
        return True
    if isinstance(value, int) and not isinstance(value, bool):
        return abs(value) > _SAFE_INTEGER
    return False


def canonical_json(content: dict[str, Any]) -> bytes:
    """RFC 8785 (JCS) canonical JSON of ``content``.

    Without floats, JCS is exactly Python's sorted, compact, non-ASCII-preserving JSON (keys
    here are ASCII, strings escape alike), which is many times faster than the pure-Python
    ``rfc8785`` package; fractions and unsafe integers go through the package (its number
    rules, and its refusal of integers beyond 2**53 - 1).
    """
    if _needs_package(content):
        return rfc8785.dumps(content)
    return json.dumps(
        content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def content_digest(content: dict[str, Any]) -> str:
    """SHA-256 (hex) of the canonical JSON of an event's hashed content."""
    return hashlib.sha256(canonical_json(content)).hexdigest()


def chain_hash(prev_hash: str, digest: str) -> str:
    """The chain link: SHA-256 (hex) of the previous hash followed by this event's digest."""
    return hashlib.sha256((prev_hash + digest).encode("ascii")).hexdigest()


def verify_chain(events: Iterable[RecordedEvent]) -> int:
    """Check the hash chain of each stream in ``events`` (in stream order); return the count.

    Raises :class:`ChainBrokenError` naming the first event whose content, predecessor or
    version sequence does not match, which is what an altered, removed or inserted event shows.
    """
    heads: dict[str, tuple[int, str]] = {}
    count = 0
    for event in events:
        version, prev = heads.get(event.stream_id, (0, GENESIS_HASH))
        if event.stream_version != version + 1:
            raise ChainBrokenError(
                f"{event.stream_id} v{event.stream_version}: expected version {version + 1}"
            )
        if event.prev_hash != prev:
            raise ChainBrokenError(
                f"{event.stream_id} v{event.stream_version}: prev_hash does not match the "
                "previous event's hash"
            )
        expected = chain_hash(prev, content_digest(event.hashed_content()))
        if event.hash != expected:
            raise ChainBrokenError(
                f"{event.stream_id} v{event.stream_version}: content does not match its hash"
            )
        heads[event.stream_id] = (event.stream_version, event.hash)
        count += 1
    return count
