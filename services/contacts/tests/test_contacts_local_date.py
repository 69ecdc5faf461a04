"""'Today' is the federation's date: early in the morning in China it is still yesterday in
UTC, and a contact dated today there is not in the future."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError

from contacts_driver import topology
from eventspine.config import Settings


def early_morning_in_yangquan() -> datetime:
    """04:00 on 2 March in China (UTC+8): 20:00 on 1 March in UTC."""
    return datetime(2026, 3, 1, 20, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("timezone", "accepted"), [("Asia/Shanghai", True), ("UTC", False)], ids=["china", "utc"]
)
async def test_a_contact_dated_today_in_the_federations_time_zone_is_accepted(
    tmp_path: Path, timezone: str, accepted: bool
) -> None:
    settings = Settings(store_backend="sqlite", sqlite_dir=str(tmp_path), timezone=timezone)
    async with topology(settings, early_morning_in_yangquan) as t:
        unit = await t.unit()
        rep, worker = await t.member(unit, "representative"), await t.member(unit, "worker")
        await t.link(rep, worker, date(2026, 1, 5))
        await t.sync()
        today = await t.contact(rep, worker, date(2026, 3, 2))
        assert (today.status_code == 201) is accepted, today.text
        tomorrow = await t.contact(rep, worker, date(2026, 3, 3))
        assert tomorrow.status_code == 409
        assert tomorrow.json()["code"] == "date_in_future"


def test_an_unknown_time_zone_is_refused() -> None:
    with pytest.raises(ValidationError, match="SANLIAN_TIMEZONE"):
        Settings(timezone="Asia/Atlantis")
