"""Names in what people read, on both backends: the digest's email (plain text and HTML) at a
real SMTP server process, the unit's group robot message (企业微信 and 钉钉), the
notifications page and the calendar feed name the people, as the roster has them when the
message is read or sent; a member forgotten in between is no longer named anywhere, and no
name is ever in notify's events."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from icalendar import Calendar
from robot_receiver import Receiver, robot_receiver
from smtp_support import SmtpServer, smtp_server
from test_notify_email import mail_settings

from eventspine.config import Settings
from feedback_driver import MovableClock
from notify.names import FORGOTTEN
from notify_driver import NotifyClient, at, forget, link, member, notify_app, unit
from reports_driver import City, city
from support.auth import as_member

pytestmark = pytest.mark.integration


async def test_emails_robots_pages_and_calendars_name_the_people_until_they_are_forgotten(
    backend: Settings, tmp_path: Path
) -> None:
    clock = MovableClock(at(2026, 1, 20))
    with smtp_server(tmp_path) as smtp:
        async with (
            robot_receiver() as robots,
            city(backend, clock) as c,
            notify_app(backend, clock, mail_settings(smtp.port), roster=c.roster_app) as n,
        ):
            await _named_until_forgotten(c, n, robots, smtp)


async def _named_until_forgotten(
    c: City, n: NotifyClient, robots: Receiver, smtp: SmtpServer
) -> None:
    federation = await unit(c, "阳泉市总工会", "city_federation", None)
    county = await unit(c, "盂县总工会", "county_union", federation)
    leader = await member(c, federation, "leader", "张永忠")
    wu = await member(c, county, "committee", "吴芳洋")
    luo = await member(c, county, "committee", "罗磊")
    rep = await member(c, county, "representative", "张东峰")
    for lower in (wu, luo):
        await link(c, leader, lower, date(2025, 6, 1))
    await link(c, wu, rep, date(2025, 6, 1))
    chosen = await n.http.post(
        "/me/preferences",
        json={"email": "zhang@example.org", "digests": True},
        headers=as_member(str(leader)),
    )
    assert chosen.status_code == 200, chosen.text
    robots_of = {
        federation: {
            "format": "wecom",
            "address": f"{robots.base}/cgi-bin/webhook/send?key=robot-key",
        },
        county: {
            "format": "dingtalk",
            "address": f"{robots.base}/robot/send?access_token=robot-token",
            "secret": robots.dingtalk_secret,
        },
    }
    for unit_id, body in robots_of.items():
        answer = await n.http.post(f"/units/{unit_id}/webhook", json=body)
        assert answer.status_code == 200, answer.text
    # Soonest first, then by id: both links are due on the same day.
    first, second = sorted([(str(wu), "吴芳洋"), (str(luo), "罗磊")])

    # The SMTP server is down at the first occasion: the email waits, the robots get theirs.
    smtp.stop()
    issued, delivered = await n.tick(c, at(2026, 2, 2, 9))
    assert (issued, delivered) == (4, 2)  # 2 digests (张永忠, 吴芳洋), 2 unit digests
    [city_message] = robots.received["wecom"]
    assert "1. 张永忠（班子成员）：还需联系 2 人共 4 次" in city_message["markdown"]["content"]
    [county_message] = robots.received["dingtalk"]
    assert "1. 吴芳洋（全委会委员）：还需联系 1 人共 2 次" in county_message["markdown"]["text"]
    assert robots.refused == []

    [digest] = (await n.of(leader))["data"]
    sentence = f"本年度还剩 332 天：还需联系 2 人共 4 次：{first[1]}、{second[1]}。"
    assert digest["text"].startswith(sentence)
    assert f"· {first[1]}：还需联系 2 次" in digest["text"]

    feed = await n.http.post("/me/calendar", headers=as_member(str(leader)))
    assert feed.status_code == 201, feed.text
    answer = await n.http.get(feed.json()["path"])
    assert answer.headers["content-type"].startswith("text/calendar")
    summaries = sorted(str(e["summary"]) for e in Calendar.from_ical(answer.content).walk("VEVENT"))
    assert summaries == ["联系到期：吴芳洋，还需联系 2 次", "联系到期：罗磊，还需联系 2 次"]

    # 罗磊 is forgotten before the SMTP server comes back: the email sent afterwards, the
    # page and the calendar no longer name him.
    await forget(c, luo)
    smtp.start()
    await n.tick(c, at(2026, 2, 2, 9, 1))
    [mail] = smtp.messages()
    plain = mail.get_body(("plain",))
    html = mail.get_body(("html",))
    assert plain is not None
    assert html is not None
    remaining = [name if name != "罗磊" else FORGOTTEN for _, name in (first, second)]
    text = plain.get_content()
    assert text.startswith(f"本年度还剩 332 天：还需联系 2 人共 4 次：{'、'.join(remaining)}。")
    assert "吴芳洋" in html.get_content()
    assert FORGOTTEN in html.get_content()
    for said in (text, html.get_content(), mail.as_string()):
        assert "罗磊" not in said
    [digest] = (await n.of(leader))["data"]
    assert "罗磊" not in digest["text"]
    assert FORGOTTEN in digest["text"]
    answer = await n.http.get(feed.json()["path"])
    summaries = [str(e["summary"]) for e in Calendar.from_ical(answer.content).walk("VEVENT")]
    assert summaries == ["联系到期：吴芳洋，还需联系 2 次"]

    # No name rests in notify's events, sealed or not.
    events = await n.wired.store.read_all(0, 500)
    assert events
    for event in events:
        for name in ("张永忠", "吴芳洋", "罗磊", "张东峰"):
            assert name not in json.dumps(event.data, ensure_ascii=False)
