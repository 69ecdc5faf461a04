"""Checks across sources: topic offsets against positions, and each store against its topic."""

from __future__ import annotations

from pathlib import Path

from audit.sources import History, TopicRecord
from audit.verify import (
    SCHEMAS_DIR,
    Finding,
    SchemaCheck,
    VerifyReport,
    check_chains,
    check_events,
    check_positions,
)
from eventspine.envelope import RecordedEvent
from eventspine.events import EventRegistry


def check_offsets(service: str, records: list[TopicRecord]) -> list[Finding]:
    """Within a partition positions rise with offsets; a stream keeps to one partition.

    A position seen again is a re-published duplicate (counted apart, not a finding); a
    different event under a position already seen is a finding.
    """
    findings: list[Finding] = []
    seen: dict[int, RecordedEvent] = {}
    last: dict[int, int] = {}
    partition_of: dict[str, int] = {}
    for record in records:
        event, where = record.event, f"partition {record.partition} offset {record.offset}"
        earlier = seen.get(event.position)
        if earlier is not None:
            if earlier.id != event.id or earlier.hash != event.hash:
                findings.append(_at(event, f"{where}: another event under position already used"))
            continue
        seen[event.position] = event
        if event.position < last.get(record.partition, 0):
            findings.append(_at(event, f"{where}: position lower than an earlier offset's"))
        last[record.partition] = max(last.get(record.partition, 0), event.position)
        home = partition_of.setdefault(event.stream_id, record.partition)
        if home != record.partition:
            findings.append(_at(event, f"{where}: stream also on partition {home}"))
    return findings


def compare(service: str, store: list[RecordedEvent], topic: list[RecordedEvent]) -> list[Finding]:
    """Nothing missing, nothing extra: the same events under the same positions."""
    in_store = {e.position: e for e in store}
    on_topic = {e.position: e for e in topic}
    findings: list[Finding] = []
    for position in sorted(in_store.keys() | on_topic.keys()):
        stored, published = in_store.get(position), on_topic.get(position)
        if stored is None and published is not None:
            findings.append(_at(published, "on the topic but missing from the event store"))
        elif published is None and stored is not None:
            findings.append(_at(stored, "in the event store but missing from the topic"))
        elif stored is not None and published is not None and _differ(stored, published):
            findings.append(_at(stored, "differs between the event store and the topic"))
    return findings


def _differ(one: RecordedEvent, other: RecordedEvent) -> bool:
    # The hashes alone are not enough: an altered event keeps its (now wrong) stored hash.
    return one.hash != other.hash or one.hashed_content() != other.hashed_content()


def _at(event: RecordedEvent, reason: str) -> Finding:
    return Finding(event.service, event.stream_id, event.stream_version, event.position, reason)


def check_history(
    history: History, registry: EventRegistry, schemas: SchemaCheck
) -> tuple[list[Finding], list[str]]:
    """Every check one source allows on its own; returns findings and warnings."""
    findings: list[Finding] = [
        Finding(history.origin, reason=f"{where}: {why}") for where, why in history.undecodable
    ]
    warnings: list[str] = []
    for service, events in sorted(history.events.items()):
        findings += check_chains(events)
        findings += check_events(events, registry, schemas)
        findings += check_positions(service, events, history.relay_checkpoints.get(service, 0))
        if service in history.records:
            findings += check_offsets(service, history.records[service])
        if duplicates := history.duplicates.get(service):
            warnings.append(f"{history.origin} {service}: {duplicates} re-published duplicates")
    return [_tag(history.origin, f) for f in findings], warnings


def _tag(origin: str, finding: Finding) -> Finding:
    return Finding(
        finding.service,
        finding.stream_id,
        finding.version,
        finding.position,
        f"[{origin}] {finding.reason}",
    )


def verify(
    histories: list[History], registry: EventRegistry, schemas_dir: Path = SCHEMAS_DIR
) -> VerifyReport:
    """Check each source, then compare the stores with the topics when both were read."""
    report = VerifyReport(sources=[h.origin for h in histories])
    schemas = SchemaCheck(schemas_dir)
    first = histories[0]
    for event in first.all_events():
        report.counts[(event.service, f"{event.event_type}.v{event.schema_version}")] += 1
    report.streams = len({(e.service, e.stream_id) for e in first.all_events()})
    for history in histories:
        findings, warnings = check_history(history, registry, schemas)
        report.findings += findings
        report.warnings += warnings
    by_origin = {h.origin: h for h in histories}
    if "stores" in by_origin and "topics" in by_origin:
        stores, topics = by_origin["stores"], by_origin["topics"]
        for service in sorted(stores.events.keys() | topics.events.keys()):
            report.findings += compare(
                service, stores.events.get(service, []), topics.events.get(service, [])
            )
    report.findings.sort()
    return report
