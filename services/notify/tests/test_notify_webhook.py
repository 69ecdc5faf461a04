"""A unit's group robot, on both backends: its monthly digest and a 督办 in the documented
JSON formats of 企业微信群机器人 and 钉钉自定义机器人 (with 加签), checked by a local receiver;
a robot that fails is retried; a member's 督办 reaches their 待办."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from robot_receiver import robot_receiver

from eventspine.config import Settings
from feedback_driver import MovableClock
from notify.settings import NotifySettings
from notify_driver import at, link, member, notify_app, unit
from reports_driver import city

pytestmark = pytest.mark.integration


async def test_units_digests_and_urges_reach_their_group_robots(backend: Settings) -> None:
    clock = MovableClock(at(2026, 1, 20))
    config = NotifySettings(scheduler_enabled=False, retry_base_seconds=5)
    async with (
        robot_receiver() as robots,
        city(backend, clock) as c,
        notify_app(backend, clock, config) as n,
    ):
        federation = await unit(c, "阳泉市总工会", "city_federation", None)
        county = await unit(c, "盂县总工会", "county_union", federation)
        leader = await member(c, federation, "leader", "张永忠")
        committee = await member(c, county, "committee", "李卫国")
        rep = await member(c, county, "representative", "张东峰")
        await link(c, leader, committee, date(2025, 6, 1))
        await link(c, committee, rep, date(2025, 6, 1))
        wecom = {
            "format": "wecom",
            "address": f"{robots.base}/cgi-bin/webhook/send?key=robot-key",
        }
        dingtalk = {
            "format": "dingtalk",
            "address": f"{robots.base}/robot/send?access_token=robot-token",
            "secret": robots.dingtalk_secret,
        }
        for unit_id, body in ((federation, wecom), (county, dingtalk)):
            answer = await n.http.post(f"/units/{unit_id}/webhook", json=body)
            assert answer.status_code == 200, answer.text
        refused = await n.http.post(f"/units/{county}/webhook", json={"format": "wecom"})
        assert refused.status_code == 422
        assert "address" in refused.text

        assert await n.tick(c, at(2026, 2, 2, 9)) == (4, 2)  # 2 digests, 2 unit digests
        [city_digest] = robots.received["wecom"]
        assert city_digest["markdown"]["content"].startswith("**阳泉市总工会联系月报**")
        assert "本单位 1 名成员还需联系 1 人共 2 次" in city_digest["markdown"]["content"]
        [county_digest] = robots.received["dingtalk"]
        assert county_digest["markdown"]["title"] == "盂县总工会联系月报"
        assert "一名全委会委员：还需联系 1 人共 2 次" in county_digest["markdown"]["text"]
        assert robots.refused == []
        assert await n.tick(c, at(2026, 2, 2, 10)) == (0, 0)  # once a month

        # 督办 of the county union while its robot fails twice.
        robots.fail_next = 2
        c.clock.now = at(2026, 2, 3, 9)
        urged = await n.http.post("/urges", json={"unit_id": str(county)})
        assert urged.status_code == 201, urged.text
        types = [e["type"].split(".")[-2] for e in urged.json()["events"]]
        assert types == ["MemberUrged", "UnitNotificationIssued"]
        start = at(2026, 2, 3, 9)
        for second in (0, 5, 14, 15, 16):
            await n.tick(c, start + timedelta(seconds=second))
        assert len(robots.received["dingtalk"]) == 2
        assert robots.received["dingtalk"][1]["markdown"]["title"] == "督办提醒：盂县总工会"
        failed = [
            e for e in await n.wired.store.read_all(0, 200) if e.event_type == "DeliveryFailed"
        ]
        assert [f.data["permanent"] for f in failed] == [False, False]

        # 督办 of a member: in their 待办, saying what they owe.
        urged = await n.http.post("/urges", json={"member_id": str(leader)})
        assert urged.status_code == 201, urged.text
        await n.tick(c, at(2026, 2, 3, 10))
        [nudge] = [i for i in (await n.of(leader))["data"] if i["kind"] == "urge"]
        assert nudge["title"] == "督办提醒"
        assert "还需联系 1 人共 2 次" in nudge["text"]
        both = await n.http.post("/urges", json={"member_id": str(leader), "unit_id": str(county)})
        assert both.status_code == 422
