"""Unit codes: a unit registered with a code has the id import files derive from it, shows
its code, and units registered before codes were recorded read as having none."""

from __future__ import annotations

import uuid

import pytest

from contracts.roster import CATALOGUE, UnitRegistered
from eventspine.events import EventRegistry
from roster.codes import unit_id
from roster_driver import Roster

pytestmark = pytest.mark.integration


async def test_a_unit_registered_with_a_code_has_the_codes_id_and_shows_the_code(
    roster: Roster,
) -> None:
    code = f"YQ-{uuid.uuid4().hex[:6]}"
    body = {"name": "阳泉市总工会", "kind": "city_federation", "code": code}
    await roster.ok("POST", "/units", json=body)
    found = await roster.ok("GET", f"/units/{unit_id(code)}")
    assert (found["name"], found["code"]) == ("阳泉市总工会", code)
    tree = await roster.ok("GET", "/units")
    assert code in {u["code"] for u in tree}
    # The same code again is a unit that exists: refused on the code field.
    again = await roster.client.post("/units", json={**body, "name": "另一个"})
    assert again.status_code == 409, again.text
    assert again.json().get("field") == "code", again.text
    # A code with an id of another unit is refused, and stores nothing.
    other = str(uuid.uuid4())
    mismatch = await roster.client.post(
        "/units", json={**body, "unit_id": other, "code": code + "-X"}
    )
    assert mismatch.status_code == 409, mismatch.text
    assert (mismatch.json()["code"], mismatch.json()["field"]) == ("unit_code_id_mismatch", "code")
    assert (await roster.client.get(f"/units/{other}")).status_code == 404
    plain = await roster.unit("盂县总工会", "county_union", str(unit_id(code)))
    assert (await roster.ok("GET", f"/units/{plain}"))["code"] is None


def test_a_version_1_unit_registration_reads_as_version_2_without_a_code() -> None:
    registry = EventRegistry()
    registry.add_catalogue("roster", CATALOGUE)
    unit = str(uuid.uuid4())
    event = registry.decode(
        "UnitRegistered", 1, {"unit_id": unit, "name": "阳泉市总工会", "kind": "city_federation"}
    )
    assert isinstance(event, UnitRegistered)
    assert (str(event.unit_id), event.code, event.event_version) == (unit, None, 2)
