"""Bulk import over HTTP on real PostgreSQL (and Kafka): XLSX and CSV, dry run, refusal, re-run."""

from __future__ import annotations

import io
import time
import uuid
from typing import Any

import asyncpg
import httpx
import openpyxl
import pytest

from eventspine.config import Settings
from eventspine.kafka import ensure_topics, make_producer
from eventspine.relay import Relay
from eventspine.schemas import installed_registry
from eventspine.store.postgres import PostgresEventStore
from roster.codes import member_id
from support.kafka_read import read_topic

pytestmark = pytest.mark.integration

Sheet = list[list[Any]]
KINDS = ("units", "members", "links")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
UNITS = ["code", "name", "kind", "parent_code"]
MEMBERS = ["unit_code", "external_number", "tier", "name", "phone", "registered_on"]
LINKS = [
    "upper_unit_code",
    "upper_external_number",
    "lower_unit_code",
    "lower_external_number",
    "span_override_reason",
]


def workbook(**sheets: Sheet) -> bytes:
    """An XLSX workbook with one sheet per keyword, rows as given (header first)."""
    book = openpyxl.Workbook(write_only=True)  # no default sheet
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def csv_bytes(rows: Sheet) -> bytes:
    """A CSV file as Excel's "CSV UTF-8" writes it: with a byte order mark."""
    text = "\r\n".join(",".join(str(cell) for cell in row) for row in rows) + "\r\n"
    return ("\ufeff" + text).encode("utf-8")


async def upload(
    client: httpx.AsyncClient,
    data: bytes,
    *,
    dry_run: bool = False,
    kind: str | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    params = {"dry_run": "true"} if dry_run else {}
    if kind is not None:
        params["kind"] = kind
    name, content_type = ("roster.csv", "text/csv") if kind else ("roster.xlsx", XLSX)
    return await client.post(
        "/imports",
        params=params,
        files={"file": (name, data, content_type)},
        headers=headers,
        timeout=600,
    )


async def fetch(settings: Settings, query: str) -> list[asyncpg.Record]:
    """Rows of ``query`` straight from PostgreSQL; ``{events}`` is the roster's events table."""
    conn = await asyncpg.connect(settings.pg_dsn)
    try:
        return await conn.fetch(query.format(events=f"{settings.store_schema('roster')}.events"))
    finally:
        await conn.close()


async def stored(settings: Settings) -> tuple[int, int]:
    """Number of events in the roster's store and its head position."""
    [row] = await fetch(settings, "SELECT count(*), coalesce(max(position), 0) FROM {events}")
    return int(row[0]), int(row[1])


def where(report: dict[str, Any]) -> list[tuple[str, int | None, str | None]]:
    return [(p["sheet"], p["row"], p["column"]) for p in report["problems"]]


def counts(report: dict[str, Any]) -> dict[str, tuple[int, int, int]]:
    return {k: (report[k]["rows"], report[k]["created"], report[k]["skipped"]) for k in KINDS}


def flawed_file() -> bytes:
    """A small roster with one mistake per bad row (the comments give the row numbers)."""
    reps = [["YJ", f"R00{i}", "representative", f"代表{i}", "", ""] for i in range(1, 7)]
    return workbook(
        units=[
            UNITS,
            ["YQ", "阳泉市总工会", "city_federation", ""],
            ["YX", "盂县总工会", "county_union", "YQ"],
            ["BAD", "某工会", "town_union", "YQ"],  # row 4: no such kind
            ["ORPHAN", "孤儿工会", "enterprise_union", "NOPE"],  # row 5: unknown parent
            ["YJ", "跃进煤业工会", "enterprise_union", "YX"],
        ],
        members=[
            MEMBERS,
            ["YQ", "L001", "leader", "张永忠", "", ""],
            ["YX", "C001", "committee", "李四", "", ""],
            *reps,  # rows 4 to 9
            ["YJ", "W001", "worker", "王五", "abc", ""],  # row 10: phone
            ["YJ", "w001", "worker", "王五", "", ""],  # row 11: the same number again
            ["NOPE", "X001", "worker", "赵六", "", ""],  # row 12: unknown unit
            ["YJ", "W002", "boss", "钱七", "", ""],  # row 13: no such tier
            ["YJ", "W003", "worker", "孙八", "", "2030-01-01"],  # row 14: in the future
            ["YJ", "W004", "worker", "周九", "", ""],
        ],
        links=[
            LINKS,
            ["YQ", "L001", "YX", "C001", ""],
            *[["YX", "C001", "YJ", f"R00{i}", ""] for i in range(1, 7)],  # row 8: sixth, no reason
            ["YQ", "L001", "YJ", "W004", ""],  # row 9: a worker under a leader
            ["YJ", "R001", "YJ", "W999", ""],  # row 10: unknown lower member
            ["YJ", "R002", "YJ", "W004", ""],  # row 11: W004 linked again
        ],
    )


FLAWS = [
    ("units", 4, "kind"),
    ("units", 5, "parent_code"),
    ("members", 10, "phone"),
    ("members", 11, "external_number"),
    ("members", 12, "unit_code"),
    ("members", 13, "tier"),
    ("members", 14, "registered_on"),
    ("links", 8, "upper_external_number"),
    ("links", 9, "upper_external_number"),
    ("links", 10, "lower_external_number"),
    ("links", 11, "lower_external_number"),
]


async def assert_nothing_stored(client: httpx.AsyncClient, settings: Settings) -> None:
    assert (await client.get("/units")).json() == []
    assert (await client.get("/members/unlinked")).json()["count"] == 0
    assert await stored(settings) == (0, 0)


async def test_a_dry_run_reports_every_problem_where_a_spreadsheet_shows_it(
    client: httpx.AsyncClient, pg_settings: Settings
) -> None:
    answer = await upload(client, flawed_file(), dry_run=True)

    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert where(report) == FLAWS
    assert (report["dry_run"], report["applied"], report["problem_count"]) == (True, False, 11)
    assert counts(report) == {"units": (5, 3, 0), "members": (14, 9, 0), "links": (10, 6, 0)}
    messages = {(p["sheet"], p["row"]): p["message"] for p in report["problems"]}
    assert "full (5 of 5)" in messages["links", 8]
    assert "is linked under a representative" in messages["links", 9]
    assert "first in row 10" in messages["members", 11]
    # the same words as the API's answer about the same field
    api = await client.post(
        "/members",
        json={
            "unit_id": str(uuid.uuid4()),
            "tier": "worker",
            "name": "王五",
            "phone": "abc",
            "external_number": "W001",
        },
    )
    assert api.status_code == 422
    assert messages["members", 10] == api.json()["errors"][0]["detail"]
    await assert_nothing_stored(client, pg_settings)


async def test_a_file_with_problems_is_refused_as_a_whole(
    client: httpx.AsyncClient, pg_settings: Settings
) -> None:
    answer = await upload(client, flawed_file())

    assert answer.status_code == 422, answer.text
    assert answer.json()["code"] == "import_problems"
    report = answer.json()["report"]
    assert answer.json()["params"] == {"count": report["problem_count"]}
    assert where(report) == FLAWS
    assert (report["dry_run"], report["applied"]) == (False, False)
    await assert_nothing_stored(client, pg_settings)


def yangquan() -> tuple[bytes, set[str]]:
    """The Yangquan roster: 1 city federation, 6 county unions, 30 enterprise unions; 10
    leaders, 59 committee members, 300 representatives, 3,000 workers, linked 1:6 (nine
    leaders, over span with a reason), 1:5 (representatives 296-300 left unlinked), 1:10.
    Also the ids of the nine leaders over span."""
    counties = [f"YQ-C{c}" for c in range(1, 7)]
    enterprises = [f"{county}-E{e}" for county in counties for e in range(1, 6)]
    units = [UNITS, ["YQ", "阳泉市总工会", "city_federation", ""]]
    units += [
        [code, f"第{i + 1}县区总工会", "county_union", "YQ"] for i, code in enumerate(counties)
    ]
    units += [
        [code, f"{code}企业工会", "enterprise_union", code.rsplit("-", 1)[0]]
        for code in enterprises
    ]
    leaders = [("YQ", f"L{i:02d}") for i in range(10)]
    committee = [(counties[i % 6], f"C{i:03d}") for i in range(59)]
    reps = [(enterprises[i % 30], f"R{i:04d}") for i in range(300)]
    workers = [(reps[i // 10][0], f"W{i:05d}") for i in range(3000)]
    members = [MEMBERS]
    for tier, people in (
        ("leader", leaders),
        ("committee", committee),
        ("representative", reps),
        ("worker", workers),
    ):
        members += [
            [unit, number, tier, f"成员{number}", f"1380{i:07d}", "2019-03-01"]
            for i, (unit, number) in enumerate(people)
        ]
    links = [LINKS]
    for i, lower in enumerate(committee):  # the sixth of a leader needs a reason
        links.append([*leaders[i // 6], *lower, "试点：六人" if i % 6 == 5 else ""])
    links += [[*committee[i // 5], *reps[i], ""] for i in range(295)]
    links += [[*reps[i // 10], *workers[i], ""] for i in range(3000)]
    over = {str(member_id(*leaders[i])) for i in range(9)}
    return workbook(units=units, members=members, links=links), over


async def test_the_yangquan_roster_imports_once_and_again_changes_nothing_then_relays(
    client: httpx.AsyncClient, pg_settings: Settings, kafka_bootstrap: str
) -> None:
    data, over_span = yangquan()
    started = time.perf_counter()
    answer = await upload(client, data)
    first_import = time.perf_counter() - started

    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert report["problems"] == []
    assert report["applied"] is True
    assert counts(report) == {
        "units": (37, 37, 0),
        "members": (3369, 3369, 0),
        "links": (3354, 3354, 0),
    }
    unlinked = (await client.get("/members/unlinked", params={"limit": 500})).json()
    assert unlinked["count"] == 5
    assert sorted(m["external_number"] for m in unlinked["data"]) == [
        f"R{i:04d}" for i in range(295, 300)
    ]
    over = (await client.get("/members/over-span")).json()
    assert {o["member"]["member_id"] for o in over} == over_span
    assert {(o["member"]["span"], o["target"]) for o in over} == {(6, 5)}
    tree = (await client.get("/units")).json()
    assert len(tree) == 1
    assert len(tree[0]["children"]) == 6
    assert sum(len(county["children"]) for county in tree[0]["children"]) == 30
    events, head = await stored(pg_settings)
    correlations = await fetch(pg_settings, "SELECT DISTINCT correlation_id::text FROM {events}")
    assert [row[0] for row in correlations] == [report["correlation_id"]]
    # registrations with claims and phone indexes (every member has a phone), link pairs
    assert events == head == 37 + 3 * 3369 + 2 * 3354

    started = time.perf_counter()
    again = await upload(client, data)
    second_import = time.perf_counter() - started

    assert again.status_code == 200, again.text
    assert counts(again.json()) == {
        "units": (37, 0, 37),
        "members": (3369, 0, 3369),
        "links": (3354, 0, 3354),
    }
    assert await stored(pg_settings) == (events, head)

    started = time.perf_counter()
    settings = Settings(kafka_bootstrap=kafka_bootstrap, topic_prefix=f"test.{uuid.uuid4().hex}")
    topic = settings.topic("roster")
    await ensure_topics(settings, [topic])
    store = PostgresEventStore(
        pg_settings.pg_dsn,
        "roster",
        installed_registry(),
        schema=pg_settings.store_schema("roster"),
    )
    await store.open()
    producer = make_producer(settings)
    await producer.start()
    try:
        assert await Relay(store, producer, topic).drain() == events
    finally:
        await producer.stop()
        await store.close()
    records = [r for part in (await read_topic(kafka_bootstrap, topic)).values() for r in part]
    relayed = time.perf_counter() - started

    assert len(records) == events
    headers = [dict(record.headers) for record in records]
    member_registered = {
        str(row[0]).encode()  # as the ce_position header spells it
        for row in await fetch(
            pg_settings, "SELECT position FROM {events} WHERE event_type = 'MemberRegistered'"
        )
    }
    registered = [h for h in headers if h["ce_position"] in member_registered]
    assert len(registered) == 3369
    assert {h["ce_type"] for h in registered} == {b"sanlian.roster.MemberRegistered.v1"}
    print(
        f"\nYangquan import: first {first_import:.1f} s, again {second_import:.1f} s, "
        f"relay and read back {relayed:.1f} s ({events} events)"
    )


async def test_csv_files_with_a_bom_and_chinese_names_round_trip(
    client: httpx.AsyncClient, pg_settings: Settings
) -> None:
    units = csv_bytes(
        [
            ["name", "code", "parent_code", "kind"],  # any order
            ["阳泉市总工会", "YQ", "", "city_federation"],
            ["盂县总工会", "YX", "YQ", "county_union"],
            ["跃进煤业工会", "YJ", "YX", "enterprise_union"],
        ]
    )
    members = csv_bytes(
        [
            ["unit_code", "external_number", "tier", "name", "wechat_id"],
            ["YJ", "YJ-0042", "representative", "张东峰", "zhang_df"],
            ["YJ", "YJ-0043", "worker", "李秀英", ""],
        ]
    )
    key = {"Idempotency-Key": str(uuid.uuid4())}  # not needed, and harmless
    assert (await upload(client, units, kind="units", headers=key)).status_code == 200
    answer = await upload(client, members, kind="members")

    assert answer.status_code == 200, answer.text
    assert counts(answer.json())["members"] == (2, 2, 0)
    found = (await client.get("/members", params={"q": "东峰"})).json()
    assert [(m["name"], m["external_number"], m["wechat_id"]) for m in found["data"]] == [
        ("张东峰", "YJ-0042", "zhang_df")
    ]
    again = await upload(client, members, kind="members", dry_run=True)
    assert counts(again.json())["members"] == (2, 0, 2)
    renamed = members.replace("李秀英".encode(), "李秀兰".encode())
    changed = (await upload(client, renamed, kind="members", dry_run=True)).json()
    assert where(changed) == [("members", 3, "name")]
    assert "with another name;" in changed["problems"][0]["message"]


async def test_unreadable_files_and_unfit_headers_are_refused_naming_the_problem(
    client: httpx.AsyncClient, pg_settings: Settings
) -> None:
    header = ["unit_code", "external_number", "tier", "name", "remark"]
    extra = (await upload(client, csv_bytes([header]), kind="members", dry_run=True)).json()
    assert where(extra) == [("members", 1, "remark")]

    for data, kind, code in (
        (b"not a workbook", None, "file_not_xlsx"),
        (b"\xff\xff,x\r\n", "members", "file_not_text"),
        (workbook(members=[header]), "members", "file_is_xlsx"),
        (b"x" * (10 * 1024 * 1024 + 1), "members", "file_too_large"),
    ):
        answer = await upload(client, data, kind=kind)
        assert answer.status_code == 422, answer.text
        assert (answer.json()["code"], answer.json()["field"]) == (code, "file")
    assert (await upload(client, b"code\r\n", kind="people")).status_code == 422
    odd = (await upload(client, workbook(Members=[], notes=[["x"]]), dry_run=True)).json()
    assert where(odd) == [("notes", None, None)]
    described = (await client.get("/openapi.json")).json()["paths"]["/imports"]["post"]
    assert "upper_external_number" in described["description"]
    await assert_nothing_stored(client, pg_settings)


def chinese_csv(rows: Sheet, encoding: str) -> bytes:
    """A CSV file as Chinese Excel saves it ("CSV (逗号分隔)": GBK), or in another encoding."""
    text = "\r\n".join(",".join(str(cell) for cell in row) for row in rows) + "\r\n"
    return text.encode(encoding)


async def test_csv_files_in_gbk_or_gb18030_with_chinese_headers_import_and_say_their_encoding(
    client: httpx.AsyncClient,
) -> None:
    tag = uuid.uuid4().hex[:4].upper()
    units = [
        ["单位代码", "单位名称", "单位类型", "上级单位代码"],
        [f"YQ{tag}", "阳泉市总工会", "市总工会", ""],
        [f"PD{tag}", "平定县总工会", "县（区）总工会", f"YQ{tag}"],
    ]
    members = [
        ["单位代码", "编号", "层级", "姓名", "电话"],
        [f"PD{tag}", "PD-001", "全委会委员", "李卫国", "13912340001"],
        [f"PD{tag}", "PD-002", "工会代表", "王䶮", ""],  # 䶮 is in GB18030, not in GBK
    ]
    gbk = await upload(client, chinese_csv(units, "gbk"), kind="units")
    assert gbk.status_code == 200, gbk.text
    assert (gbk.json()["encoding"], counts(gbk.json())["units"]) == ("GBK", (2, 2, 0))
    gb18030 = await upload(client, chinese_csv(members, "gb18030"), kind="members")
    assert gb18030.status_code == 200, gb18030.text
    assert gb18030.json()["encoding"] == "GB18030"
    found = (await client.get("/members", params={"q": "王䶮"})).json()["data"]
    assert [(m["name"], m["tier"]) for m in found] == [("王䶮", "representative")]
    bom = await upload(client, csv_bytes(members), kind="members", dry_run=True)
    assert (bom.json()["encoding"], counts(bom.json())["members"]) == ("UTF-8 BOM", (2, 0, 2))
    plain = chinese_csv(members, "utf-8")
    assert (await upload(client, plain, kind="members", dry_run=True)).json()["encoding"] == "UTF-8"

    # A problem names the column as the file does: 层级, not tier.
    wrong = [members[0], [f"PD{tag}", "PD-003", "主席", "赵强", ""]]
    refused = await upload(client, chinese_csv(wrong, "gbk"), kind="members", dry_run=True)
    assert where(refused.json()) == [("members", 2, "层级")]


async def test_a_workbook_with_chinese_sheets_and_the_templates_help_sheets_imports(
    client: httpx.AsyncClient,
) -> None:
    tag = uuid.uuid4().hex[:4].upper()
    book = workbook(
        说明=[["列", "说明"], ["单位代码", "..."]],
        单位=[
            ["单位代码", "单位名称", "单位类型", "上级单位代码"],
            [f"C{tag}", "阳泉市总工会", "市总工会", ""],
        ],
        成员=[
            ["单位代码", "编号", "层级", "姓名"],
            [f"C{tag}", "L-1", "班子成员", "张永忠"],
            [f"C{tag}", "L-2", "委员", "李卫国"],
        ],
        结对=[
            ["上级联系人单位代码", "上级联系人编号", "联系对象单位代码", "联系对象编号"],
            [f"C{tag}", "L-1", f"C{tag}", "L-2"],
        ],
        现有单位=[["单位代码", "单位名称"]],
    )
    answer = await upload(client, book)
    assert answer.status_code == 200, answer.text
    assert counts(answer.json()) == {"units": (1, 1, 0), "members": (2, 2, 0), "links": (1, 1, 0)}
    assert answer.json()["encoding"] is None
    bad = workbook(成员=[["单位代码", "编号", "层级", "姓名"], ["NOPE", "L-9", "职工", "王芳"]])
    report = (await upload(client, bad, dry_run=True)).json()
    assert where(report) == [("成员", 2, "单位代码")]
