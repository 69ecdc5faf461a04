"""Replay, verify, export and history over the embedded default's SQLite stores."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from audit.cli import app
from audit.crosscheck import verify
from audit.loading import Source, load
from audit.replay import replay
from audit.scratch import ScratchTx
from audit.sources import read_sqlite
from eventspine.config import Settings
from eventspine.schemas import installed_registry
from reports.bootstrap import contact_rule
from reports.projections import ComplianceProjection, SuggestionProjection

runner = CliRunner()
AS_OF = datetime(2026, 6, 30, 23, 59, 59, tzinfo=UTC)
Year = Any  # the conftest's scripted year (conftest modules are not importable)


def _replay(as_of: Any, source: Source = Source.stores, file: Path | None = None) -> Any:
    async def go() -> Any:
        settings = Settings()
        history = await load(source, settings, file)
        return await replay(history, installed_registry(), contact_rule(settings), "2026", as_of)

    return asyncio.run(go())


def test_as_of_30_june_gives_the_figures_of_that_day(year: Year) -> None:
    result = _replay(AS_OF)
    city = result.compliance.city
    assert (city.links, city.met, city.behind, city.none) == (2, 1, 1, 0)
    by_link = {str(c.link_id): (c.counted, c.status) for c in result.compliance.data}
    assert by_link == {str(year.link1): (2, "met"), str(year.link2): (1, "behind")}
    assert [str(i.suggestion_id) for i in result.queue.data] == [str(year.suggestion)]
    assert result.members == {"active": 3}
    assert result.applied == {"roster": 6, "contacts": 3, "feedback": 1}
    assert json.dumps(_replay(AS_OF).as_dict()) == json.dumps(result.as_dict())


def test_the_whole_year_shows_the_forgotten_member_and_still_verifies(year: Year) -> None:
    result = _replay(None)
    assert result.members == {"active": 2, "forgotten": 1}
    by_link = {str(c.link_id): (c.counted, c.status) for c in result.compliance.data}
    # The first contact of link1 was retracted in August; the July contact replaces it.
    assert by_link == {str(year.link1): (2, "met"), str(year.link2): (2, "met")}
    report = verify([asyncio.run(read_sqlite(Settings()))], installed_registry())
    assert report.ok, [str(f) for f in report.findings]
    assert report.counts[("roster", "MemberForgotten.v1")] == 1


def test_cli_replay_is_identical_twice_and_exports_xlsx(year: Year, tmp_path: Path) -> None:
    args = ["replay", "--as-of", "2026-06-30T23:59:59+00:00", "--period", "2026"]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    assert runner.invoke(app, args).stdout == first.stdout
    assert "behind" in first.stdout
    out = tmp_path / "out" / "compliance.xlsx"
    assert runner.invoke(app, [*args, "--out", str(out)]).exit_code == 0
    rows = list(load_workbook(out).active.iter_rows(values_only=True))  # type: ignore[union-attr]
    assert len(rows) == 3
    assert rows[0][0] == "link_id"


def test_cli_verify_is_clean_on_untouched_stores(year: Year) -> None:
    result = runner.invoke(app, ["verify", "--source", "stores"])
    assert result.exit_code == 0, result.output
    assert "no findings" in result.stdout


def test_export_round_trip_replays_like_the_stores(year: Year, tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    result = runner.invoke(
        app, ["export", "--from", "2026-01-01", "--to", "2026-12-31", "--out", str(path)]
    )
    assert result.exit_code == 0, result.output
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 15  # 14 events and the trailer
    assert json.loads(lines[0])["specversion"] == "1.0"
    assert _replay(AS_OF, Source.file, path).as_dict() == _replay(AS_OF).as_dict()
    verified = runner.invoke(app, ["verify", "--source", "file", "--file", str(path)])
    assert verified.exit_code == 0, verified.output


def test_export_of_one_suggestion(year: Year, tmp_path: Path) -> None:
    path = tmp_path / "one.jsonl"
    args = ["export", "--suggestion", str(year.suggestion), "--out", str(path)]
    assert runner.invoke(app, args).exit_code == 0
    assert len(path.read_text(encoding="utf-8").splitlines()) == 2


@pytest.mark.parametrize(
    "damage",
    [
        lambda text: text[: len(text) // 2],  # cut in the middle of a line
        lambda text: "".join(text.splitlines(keepends=True)[:-3]),  # cut at a line boundary
        lambda text: text.replace("visit", "phone", 1),  # altered in transit
        lambda text: "not json\n" + text,
    ],
)
def test_a_truncated_or_corrupt_export_is_refused(year: Year, tmp_path: Path, damage: Any) -> None:
    path = tmp_path / "events.jsonl"
    assert runner.invoke(app, ["export", "--out", str(path)]).exit_code == 0
    path.write_text(damage(path.read_text(encoding="utf-8")), encoding="utf-8")
    out = tmp_path / "views.csv"
    args = [
        "replay",
        "--source",
        "file",
        "--file",
        str(path),
        "--period",
        "2026",
        "--out",
        str(out),
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert "error" in result.stderr
    assert not out.exists()
    assert not list(tmp_path.glob(".*"))  # no scratch file left behind


@pytest.mark.parametrize("moment", ["30/06/2026", "2026-06-31", "2026-06-30T23:59:59"])
def test_a_date_in_the_wrong_format_is_refused(year: Year, moment: str) -> None:
    result = runner.invoke(app, ["replay", "--as-of", moment])
    assert result.exit_code == 2
    assert "--as-of" in result.stderr


def test_a_missing_store_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SANLIAN_STORE_BACKEND", "sqlite")
    monkeypatch.setenv("SANLIAN_SQLITE_DIR", str(tmp_path / "nowhere"))
    result = runner.invoke(app, ["verify", "--source", "stores"])
    assert result.exit_code == 2
    assert "no event store for roster" in result.stderr


def test_history_of_a_member_and_of_a_link(year: Year) -> None:
    result = runner.invoke(app, ["history", "--member", str(year.c2)])
    assert result.exit_code == 0, result.output
    for name in ("MemberRegistered", "MemberAssigned", "ContactMade", "SuggestionRaised"):
        assert name in result.stdout
    assert "MemberForgotten" in result.stdout
    assert "staff:auditor-test" in result.stdout
    link = runner.invoke(app, ["history", "--link", str(year.link1)])
    assert link.exit_code == 0
    assert "ContactRetracted" in link.stdout
    assert "5 events" in link.stdout
    assert runner.invoke(app, ["history"]).exit_code == 2


def test_a_kept_replay_has_every_table_and_index_of_the_projections(
    year: Year, tmp_path: Path
) -> None:
    """The indexes the replay builds after the rows (see replay.DEFERRED_INDEXES) are there."""
    kept = tmp_path / "replayed.sqlite"

    async def go() -> tuple[list[Any], int]:
        settings = Settings()
        history = await load(Source.stores, settings)
        made = sum(e.event_type == "ContactMade" for e in history.events["contacts"])
        await replay(history, installed_registry(), contact_rule(settings), "2026", None, kept)
        fresh = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        tx = ScratchTx(fresh)
        for projection in (ComplianceProjection(), SuggestionProjection()):
            await projection.setup(tx)
        tx.close()
        return fresh.execute(SCHEMA).fetchall(), made

    expected, made = asyncio.run(go())
    assert ("index", "r_contacts_link") in [(kind, name) for kind, name, _ in expected]
    with sqlite3.connect(kept) as db:
        assert db.execute(SCHEMA).fetchall() == expected
        assert db.execute("SELECT count(*) FROM r_contacts").fetchone()[0] == made > 0


SCHEMA = "SELECT type, name, sql FROM sqlite_master ORDER BY type, name"
