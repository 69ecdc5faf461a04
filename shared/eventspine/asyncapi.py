"""The AsyncAPI 3.0 document of the event topics, for subscribing city systems.

Generated from the event registry (like the JSON Schemas) and committed as
``schemas/asyncapi.json``; the schema check fails when it is stale.
"""

from __future__ import annotations

import json
from typing import Any

from eventspine.envelope import ce_type
from eventspine.events import EventRegistry

_STRING = {"type": "string"}
HEADERS: dict[str, Any] = {
    "type": "object",
    "description": "CloudEvents 1.0, Kafka protocol binding, binary content mode",
    "required": [
        "ce_specversion",
        "ce_id",
        "ce_source",
        "ce_type",
        "ce_time",
        "ce_subject",
        "ce_dataschema",
        "ce_streamversion",
        "ce_position",
        "ce_actor",
        "ce_correlationid",
        "ce_prevhash",
        "ce_hash",
        "content-type",
    ],
    "properties": {
        "ce_specversion": {"const": "1.0"},
        "ce_id": {**_STRING, "format": "uuid", "description": "event id"},
        "ce_source": {**_STRING, "description": "/sanlian/<service>"},
        "ce_type": {**_STRING, "description": "sanlian.<service>.<EventName>.v<version>"},
        "ce_time": {**_STRING, "format": "date-time"},
        "ce_subject": {**_STRING, "description": "stream id (also the record key)"},
        "ce_dataschema": {**_STRING, "description": "$id of the payload's JSON Schema"},
        "ce_streamversion": {**_STRING, "description": "1-based version within the stream"},
        "ce_position": {**_STRING, "description": "gap-free position in the service's log"},
        "ce_actor": {**_STRING, "description": "who caused the event (an id, never a name)"},
        "ce_correlationid": {**_STRING, "format": "uuid"},
        "ce_causationid": {**_STRING, "format": "uuid"},
        "ce_prevhash": {**_STRING, "description": "hash of the stream's previous event"},
        "ce_hash": {
            **_STRING,
            "description": "sha256(prevhash + sha256(JCS(hashed content))), lowercase hex",
        },
        "content-type": {"const": "application/json"},
    },
}


def document(registry: EventRegistry, topic_prefix: str = "sanlian") -> dict[str, Any]:
    """The AsyncAPI document describing every service topic and its messages."""
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for (name, version), model in registry:
        service = registry.source_of(name, version)
        key = f"{name}.v{version}"
        messages[key] = {
            "name": ce_type(service, name, version),
            "title": f"{name} v{version}",
            "summary": (model.__doc__ or "").strip().splitlines()[0] if model.__doc__ else "",
            "contentType": "application/json",
            "headers": {"$ref": "#/components/schemas/CloudEventHeaders"},
            "payload": {"$ref": f"events/{service}/{key}.json"},
            "bindings": {"kafka": {"key": {"type": "string", "description": "stream id"}}},
        }
        channel = channels.setdefault(
            service,
            {
                "address": f"{topic_prefix}.{service}.events",
                "description": f"Every event of the {service} service, kept forever; "
                "keyed by stream id, so each stream is in order within its partition.",
                "messages": {},
            },
        )
        channel["messages"][key] = {"$ref": f"#/components/messages/{key}"}
    for service, channel in channels.items():
        operations[f"receive-{service}"] = {
            "action": "receive",
            "channel": {"$ref": f"#/channels/{service}"},
            "messages": [
                {"$ref": f"#/channels/{service}/messages/{key}"} for key in channel["messages"]
            ],
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Sanlian events",
            "version": "1",
            "description": "Events of the 15510 contact system. Payloads never hold personal "
            "data in clear; members are referred to by id.",
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": {"CloudEventHeaders": HEADERS}},
    }


def render(registry: EventRegistry) -> str:
    """The document as committed: sorted keys, two-space indents."""
    return json.dumps(document(registry), indent=2, ensure_ascii=False, sort_keys=True) + "\n"
