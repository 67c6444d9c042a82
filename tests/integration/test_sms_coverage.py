"""Coverage of the SMS KPIs is the feed time known read without a gap, against the lab gateway on 127.0.0.1.

Not the agent's uptime: a month read from the cursor after the fact, or across
an agent outage the cursor caught up, is covered; a cursor reset is a gap of the
size collectors/sms/coverage.py gives it, worked out by hand below; and a crash
in the middle of a page's transaction claims nothing for that page.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sys
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import AsyncIterator

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from agent import periods
from agent.config import Config, parse_config
from agent.export import json_writer
from agent.export.layout import table12
from agent.export.measure import LedgerMeasurements
from agent.export.model import build_report
from agent.kpi import KpiEngine
from agent.lab.sms import SmsLab, Traffic
from agent.ledger import Ledger
from agent.scheduler import Scheduler
from collectors.base import CollectorError
from collectors.sms.collector import SmsCollector
from tests.fakes import FakeClock
from tests.integration.test_sms_gateway import SH, delivered, make_collector, pending, poll

MIN = 60_000
HOUR = 60 * MIN
KPIS = [{"id": "sms_delivery_rate"}, {"id": "sms_send_latency"}, {"id": "sms_annual_volume"}]


def ts(*args: int) -> float:
    return datetime(*args, tzinfo=SH).timestamp()


def config_for(lab: SmsLab, tmp: Path, **gateway):
    settings_ = {"interval": "60s", "timeout": "5s", **gateway}
    return parse_config({"agent": {"data_dir": str(tmp), "timezone": "Asia/Shanghai"},
                         "sms": [lab.gateway_config("gov-sms", **settings_)], "kpis": KPIS}, "test.yaml")


async def scheduled_poll(ledger: Ledger, collector, clock: FakeClock) -> None:
    """One poll through the scheduler, its outcome written to the ledger as the agent does (series sms:<gw>:feed)."""
    def sink(o) -> None:
        ledger.record((x.series, x.value, o.at, o.validity) for x in o.observations)

    outcome = await Scheduler([collector], sink, clock=clock).poll_once(collector, collector.targets()[0])
    assert outcome.error is None, outcome.error


def spans(ledger: Ledger) -> list[tuple[float, float]]:
    """The feed time recorded as read without a gap, in Unix seconds."""
    from collectors.sms import coverage_table  # here, so the KPI assertions run first on an agent without it

    return ledger.read(lambda db: coverage_table.covered(db, ["gov-sms"], 0, 4e9))["gov-sms"]


def month_figures(config, ledger: Ledger, year: int, month: int, now: float) -> dict:
    return {r.definition.id: r for r in KpiEngine(config, ledger).evaluate_period(periods.month(year, month, SH), now)}


# -- (a) a month read after the fact ------------------------------------------------


async def test_a_month_read_from_the_feed_after_it_ended_is_covered_in_the_export(tmp_path):
    """The agent starts on 3 December; the gateway holds November: read from backfill, all of it counts."""
    clock = FakeClock(ts(2026, 12, 3, 12))
    async with SmsLab(traffic=None, clock=clock) as lab:
        # One message at noon on 31 October, then November: a message every 6 hours (120), delivered
        # in 2 s; each record enters the feed at its time.
        oct31 = int(ts(2026, 10, 31, 12) * 1000)
        lab.publish([pending("oct", oct31)], at_ms=oct31)
        for i in range(120):
            sub = int(ts(2026, 11, 1) * 1000) + i * 6 * HOUR + 30_000
            lab.publish([pending(f"m{i}", sub)], at_ms=sub)
            lab.publish([delivered(f"m{i}", sub, 2000)], at_ms=sub + 2000)
        config = config_for(lab, tmp_path, backfill="40d", page_size=50)  # 240 records: 5 pages
        ledger = Ledger(tmp_path / "ledger.sqlite")
        collector = make_collector(lab, ledger, clock, backfill="40d", page_size=50)
        try:
            await scheduled_poll(ledger, collector, clock)
            november = periods.month(2026, 11, SH)
            report = build_report(table12(), LedgerMeasurements(config, ledger, clock()), {}, november, "month",
                                  clock(), SH, "zh")
            rows = {row.id: row for row in report.rows}
            for kpi in ("sms_delivery_rate", "sms_send_latency"):
                assert rows[kpi].coverage == pytest.approx(1.0)
                assert rows[kpi].status == "met", (kpi, rows[kpi].status)
            assert rows["sms_delivery_rate"].details["delivered"] == 120
            document = {r["id"]: r for r in json.loads(json_writer.render(report))["rows"]}
            assert document["sms_delivery_rate"]["status_text"] == "达标"  # not 数据不足
            # Read by time from 40 days before now (24 October 12:00), caught up now; the feed's first
            # record (31 October 12:00) shows how far back it reaches: covered from just after it.
            assert spans(ledger) == [(ts(2026, 10, 31, 12) + 0.001, clock())]
            october = month_figures(config, ledger, 2026, 10, clock())["sms_delivery_rate"]
            assert october.coverage == pytest.approx((12 * 3600 - 0.001) / (31 * 86400), rel=1e-9)
        finally:
            await collector.close()
            ledger.close()


# -- (b) an agent outage the cursor caught up -----------------------------------------


async def test_an_agent_outage_caught_up_from_the_cursor_leaves_no_gap(tmp_path):
    """Polled every 3 h through November but stopped from the 10th 00:00 to the 12th 12:00; the lab went on."""
    clock = FakeClock(ts(2026, 10, 31, 21))
    outage = (ts(2026, 11, 10), ts(2026, 11, 12, 12))
    path = tmp_path / "ledger.sqlite"
    async with SmsLab(traffic=Traffic(rate=0.002, seed=7), autorun=False, clock=clock) as lab:
        config = config_for(lab, tmp_path)
        ledger: Ledger | None = Ledger(path)
        collector = make_collector(lab, ledger, clock, backfill="1h")
        try:
            for _ in range(8 * 31):  # bounded: at most 31 days of 3-hour steps; ends on 1 December 00:00
                lab.advance(clock())
                down = outage[0] <= clock() < outage[1]
                if down and ledger is not None:  # the agent stops
                    await collector.close()
                    ledger.close()
                    ledger = None
                elif not down:
                    if ledger is None:  # the agent starts again on the same ledger
                        ledger = Ledger(path)
                        collector = make_collector(lab, ledger, clock, backfill="1h")
                        asked = len(lab.requests)
                    await scheduled_poll(ledger, collector, clock)
                if clock() >= ts(2026, 12, 1):
                    break
                clock.advance(3 * 3600)
            assert ledger is not None and clock() == ts(2026, 12, 1)
            november = month_figures(config, ledger, 2026, 11, clock())
            for kpi in ("sms_delivery_rate", "sms_send_latency"):
                assert november[kpi].coverage == 1.0 and november[kpi].sufficient, kpi
            assert "after=" in lab.requests[asked][0]  # after the restart the cursor went on
            # One span, from the first poll (the lab's first message came then) to the last: the outage is in it.
            assert spans(ledger) == [(ts(2026, 10, 31, 21), ts(2026, 12, 1))]
            submitted = collector.store.snapshot("gov-sms").totals["submitted"]
            assert submitted == lab.visible > 1000  # every message the feed showed, the outage's too
        finally:
            await collector.close()
            if ledger is not None:
                ledger.close()


# -- (c) a cursor reset is a gap of the size worked out by hand -----------------------

T0 = ts(2026, 11, 2, 9)  # first poll


def at(minutes: float) -> int:
    return int(T0 * 1000 + minutes * MIN)


@dataclass
class Agent:
    clock: FakeClock
    lab: SmsLab
    config: Config
    ledger: Ledger
    collector: SmsCollector


@contextlib.asynccontextmanager
async def read_at_nine(tmp_path: Path) -> AsyncIterator[Agent]:
    """An agent (margin 10 min, backfill 1 h) that read the lab's a1 (08:40) at 09:00: [08:40:00.001, 09:00)."""
    clock = FakeClock(T0)
    async with SmsLab(traffic=None, clock=clock) as lab:
        ledger = Ledger(tmp_path / "ledger.sqlite")
        collector = make_collector(lab, ledger, clock, margin="10m", backfill="1h")
        try:
            lab.publish([pending("a1", at(-20))], at_ms=at(-20))
            await poll(collector)
            yield Agent(clock, lab, config_for(lab, tmp_path, margin="10m"), ledger, collector)
        finally:
            await collector.close()
            ledger.close()


async def test_a_410_after_retention_dropped_records_is_a_gap_to_the_oldest_record_kept(tmp_path, caplog):
    async with read_at_nine(tmp_path) as agent:
        lab, ledger = agent.lab, agent.ledger
        # The agent is away for 2 h. The gateway keeps only its 2 newest entries: b1 and b2 are
        # dropped before the agent read them, b3 (09:40) is the oldest left.
        lab.retention = 2
        for name, minutes in (("b1", 10), ("b2", 20), ("b3", 40), ("b4", 60)):
            lab.publish([pending(name, at(minutes))], at_ms=at(minutes))
        agent.clock.now = T0 + 7200
        with caplog.at_level(logging.WARNING):
            await poll(agent.collector)
        # 410 at 11:00; re-read since 09:00 - 10 min = 08:50; its first record is b3 at 09:40:
        # the gap is [09:00, 09:40:00.001) = 2400.001 s, and coverage goes on from there to 11:00.
        # November to date is 1 day + 11 h = 126000 s; covered 1199.999 + (7200 - 2400.001) s.
        rate = month_figures(agent.config, ledger, 2026, 11, agent.clock())["sms_delivery_rate"]
        assert rate.coverage == pytest.approx((1199.999 + 4799.999) / 126_000, rel=1e-9)
        assert [status for _, status in lab.requests][-2:] == [410, 200]
        assert "since=" + str(at(-10)) in lab.requests[-1][0]
        assert spans(ledger) == [(T0 - 1199.999, T0), (T0 + 2400.001, T0 + 7200)]
        assert "2400.001s of feed time not known complete" in caplog.text
        assert agent.collector.store.snapshot("gov-sms").totals["submitted"] == 3  # a1, b3, b4: b1, b2 lost


@pytest.mark.parametrize("stale_cursors", ["gone", "reuse"])
async def test_a_rebuilt_feed_is_a_gap_up_to_the_reset_though_it_still_holds_everything(tmp_path, stale_cursors):
    async with read_at_nine(tmp_path) as agent:
        agent.lab.publish([pending("a2", at(5))], at_ms=at(5))
        agent.lab.reset_feed(stale_cursors)  # a new epoch: its records cannot be checked against the old feed's
        agent.clock.now = T0 + 900
        await poll(agent.collector)
        # The reset was seen by the request of 09:15: [09:00, 09:15) = 900 s is a gap, covered again from
        # 09:15. November to date at 09:30 on the 2nd is 33.5 h = 120600 s, covered 1199.999 + 900 s.
        agent.clock.now = T0 + 1800
        await poll(agent.collector)
        rate = month_figures(agent.config, agent.ledger, 2026, 11, agent.clock())["sms_delivery_rate"]
        assert rate.coverage == pytest.approx(2099.999 / 120_600, rel=1e-9)
        assert spans(agent.ledger) == [(T0 - 1199.999, T0), (T0 + 900, T0 + 1800)]
        assert agent.collector.store.snapshot("gov-sms").totals["submitted"] == 2  # nothing lost, nothing twice


# -- (d) a crash in the middle of a page's transaction --------------------------------

CRASH = """
import asyncio, os, sys
from pathlib import Path
from agent.ledger import Ledger
from collectors.sms.collector import SmsCollector
from collectors.sms.config import SmsGateway

url, path, now = sys.argv[1], sys.argv[2], float(sys.argv[3])
real_write, pages = Ledger.write, []

def write_then_die(self, work):
    def then_die(db):
        done = work(db)  # every statement of the page: records, cursor, coverage; not committed
        pages.append(1)
        if len(pages) == 3:
            os._exit(9)  # the process dies inside the transaction of its third page
        return done
    return real_write(self, then_die)

Ledger.write = write_then_die
gateway = SmsGateway.model_validate({"name": "gov-sms", "url": url, "api_key": "lab-sms-S3cret",
                                     "timeout": "5s", "page_size": 4, "backfill": "1h"})
collector = SmsCollector([gateway], Ledger(Path(path)), clock=lambda: now)
asyncio.run(collector.poll(collector.targets()[0]))
sys.exit(3)  # not reached: the third page kills the process
"""


async def test_a_crash_mid_ingest_records_no_coverage_for_the_uncommitted_page(tmp_path):
    clock = FakeClock(T0)
    path = tmp_path / "ledger.sqlite"
    async with SmsLab(traffic=None, clock=clock) as lab:
        # 16 pending records, one a minute from 08:30: pages of 4 end at 08:33, 08:37, 08:41, 08:45.
        for i in range(16):
            lab.publish([pending(f"c{i}", at(-30 + i))], at_ms=at(-30 + i))
        child = await asyncio.create_subprocess_exec(sys.executable, "-c", CRASH, lab.url, str(path), str(T0))
        assert await asyncio.wait_for(child.wait(), timeout=60) == 9
        config = config_for(lab, tmp_path)
        ledger = Ledger(path)
        collector = make_collector(lab, ledger, clock, backfill="1h", page_size=4)
        try:
            # Two pages committed: from just after the first record (08:30) to the newest of the second
            # (08:37). In November to date (1 day + 9 h = 118800 s), 419.999 s of it.
            assert collector.store.snapshot("gov-sms").totals["submitted"] == 8
            rate = month_figures(config, ledger, 2026, 11, clock())["sms_delivery_rate"]
            assert rate.coverage == pytest.approx(419.999 / 118_800, rel=1e-9)
            assert spans(ledger) == [(T0 - 1799.999, T0 - 23 * 60)]
            await poll(collector)  # goes on from the committed cursor, and catches up
            assert spans(ledger) == [(T0 - 1799.999, T0)]
            assert collector.store.snapshot("gov-sms").totals["submitted"] == 16
        finally:
            await collector.close()
            ledger.close()


# -- whatever happens, a record never read is never in covered time ------------------

ACTIONS = st.lists(st.one_of(
    st.tuples(st.just("produce"), st.integers(1, 3), st.integers(1, 900)),  # n records, then seconds pass
    st.tuples(st.just("poll")),
    st.tuples(st.just("retention"), st.integers(1, 4)),  # the gateway keeps only its newest n entries
    st.tuples(st.just("reset"), st.sampled_from(["gone", "reuse"])),
    st.tuples(st.just("restart")),
), max_size=25)


async def _scenario(actions, tmp: Path) -> None:
    clock = FakeClock(T0)
    path = tmp / "ledger.sqlite"
    published: dict[str, int] = {}
    async with SmsLab(traffic=None, clock=clock) as lab:
        ledger = Ledger(path)
        collector = make_collector(lab, ledger, clock, margin="2m", backfill="10m", page_size=3, max_pages=2)
        try:
            for action in actions:
                if action[0] == "produce":
                    for _ in range(action[1]):
                        mid = f"p{len(published)}"
                        published[mid] = int(clock() * 1000)
                        lab.publish([pending(mid, published[mid])])
                    lab.retention = 200_000
                    clock.advance(action[2])
                elif action[0] == "poll":
                    try:
                        await poll(collector)
                    except CollectorError:
                        pass
                elif action[0] == "retention":
                    lab.retention = action[1]
                elif action[0] == "reset":
                    lab.reset_feed(action[1])
                else:
                    await collector.close()
                    ledger.close()
                    ledger = Ledger(path)
                    collector = make_collector(lab, ledger, clock, margin="2m", backfill="10m", page_size=3,
                                               max_pages=2)
            read = set(ledger.read(lambda db: [r[0] for r in db.execute("SELECT id FROM sms_messages")]))
            covered = spans(ledger)
            event(f"records never read: {'some' if set(published) - read else 'none'}; covered spans: {len(covered)}")
            for mid, when in published.items():
                if mid not in read:
                    inside = [s for s in covered if s[0] <= when / 1000 < s[1]]
                    assert not inside, f"{mid} at {when} was never read, but {inside} is claimed covered"
            assert all(end <= clock() for _, end in covered)
        finally:
            await collector.close()
            ledger.close()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ACTIONS)
def test_time_whose_records_were_lost_is_never_covered(actions):
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(asyncio.wait_for(_scenario(actions + [("poll",)], Path(tmp)), timeout=60))
