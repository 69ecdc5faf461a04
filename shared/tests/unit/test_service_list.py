"""The services are listed once (the topology table); what else names them agrees with it."""

from __future__ import annotations

from importlib.metadata import entry_points

from eventspine.schemas import ENTRY_POINT_GROUP
from topology.table import PROCESSES, SERVICES, by_name, event_stores


def test_the_services_with_an_event_store_are_those_that_publish_event_types() -> None:
    published = {entry.name for entry in entry_points(group=ENTRY_POINT_GROUP)}
    assert set(event_stores()) == published


def test_every_service_is_a_process_and_every_event_store_has_a_relay_and_a_standby() -> None:
    names = {process.name for process in PROCESSES}
    assert {service.name for service in SERVICES} <= names
    relays = {p.name for p in PROCESSES if p.kind == "relay"}
    stores = event_stores()
    assert relays == {f"{name}-relay" for name in stores} | {
        f"{name}-relay-standby" for name in stores
    }


def test_the_frontend_calls_every_service_and_the_roster_comes_first() -> None:
    assert by_name("web").calls == tuple(service.name for service in SERVICES)
    assert event_stores()[0] == "roster"
