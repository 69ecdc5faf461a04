"""The reports' "today" is the federation's date (``SANLIAN_TIMEZONE``), the same day the
contacts service calls today: early on 1 March in China it is still February in UTC, and the
monthly chart already has its March bar."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from eventspine.config import Settings
from feedback_driver import MovableClock
from reports_driver import get, reports


@pytest.mark.parametrize(
    ("timezone", "months"),
    [("Asia/Shanghai", ["2026-01", "2026-02", "2026-03"]), ("UTC", ["2026-01", "2026-02"])],
    ids=["china", "utc"],
)
async def test_the_monthly_chart_runs_to_the_federations_today(
    tmp_path: Path, timezone: str, months: list[str]
) -> None:
    settings = Settings(store_backend="sqlite", sqlite_dir=str(tmp_path), timezone=timezone)
    four_in_the_morning_on_1_march_in_china = MovableClock(datetime(2026, 2, 28, 20, tzinfo=UTC))
    async with reports(settings, four_in_the_morning_on_1_march_in_china) as (client, _):
        chart = await get(client, "/compliance/monthly", period="2026")
    assert [month["month"] for month in chart] == months
