"""The per-link availability timeline of the HTML report: buckets drawn in proportion to their states."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from agent import periods
from agent.config import parse_config
from agent.export import format as fmt
from agent.export import svg
from agent.export.measure import CHART_BUCKETS, LedgerMeasurements
from agent.export.rows import Distribution, GaugeChart
from agent.ledger import Ledger
from collectors.snmp.series import link_available, link_up

SH = ZoneInfo("Asia/Shanghai")
OCTOBER = periods.month(2026, 10, SH)
BUCKET = (OCTOBER.end - OCTOBER.start) / CHART_BUCKETS  # 4464 s: 31 days in 600 buckets


def ts(*args: int) -> float:
    return datetime(*args, tzinfo=SH).timestamp()


@pytest.fixture
def ledger(tmp_path):
    opened = Ledger(tmp_path / "ledger.sqlite")
    yield opened
    opened.close()


def config(tmp_path):
    return parse_config({
        "agent": {"data_dir": str(tmp_path)},
        "snmp": {"devices": [{"name": "r1", "address": "127.0.0.1", "community": "c"}]},
        "link_groups": [{"name": "egress", "links": [{"name": "ct", "device": "r1", "if_name": "a", "capacity": "10G"}]}],
        "kpis": [{"id": "egress_link_availability", "link_group": "egress"}],
    }, "t.yaml")


def put(ledger, start, end, up):
    ledger.record([(link_up("ct"), up, start, end - start),
                   (link_available("ct"), None if up is None else up * 1.25e9, start, end - start)])


def spans(tmp_path, ledger, now=ts(2026, 11, 2)):
    (line,) = LedgerMeasurements(config(tmp_path), ledger, now).charts(OCTOBER).timelines
    return line


def seconds_by_state(line):
    totals: dict[str, float] = {}
    for s, e, state in line.spans:
        totals[state] = totals.get(state, 0.0) + e - s
    return totals


def test_seconds_without_data_are_seconds_of_grey_not_a_grey_bucket(tmp_path, ledger):
    gap = ts(2026, 10, 10, 12, 0, 0), ts(2026, 10, 10, 12, 0, 10)  # 10 s: one missed poll
    outage = ts(2026, 10, 12, 14, 5), ts(2026, 10, 12, 14, 31)  # 26 minutes, well under a bucket's 74
    put(ledger, OCTOBER.start, gap[0], 1.0)
    put(ledger, gap[1], outage[0], 1.0)
    put(ledger, outage[0], outage[1], 0.0)
    put(ledger, outage[1], OCTOBER.end, 1.0)
    line = spans(tmp_path, ledger)
    totals = seconds_by_state(line)
    assert totals["unknown"] == pytest.approx(10)
    assert totals["down"] == pytest.approx(26 * 60)
    assert totals["up"] == pytest.approx(OCTOBER.end - OCTOBER.start - 10 - 26 * 60)
    (grey,) = [(s, e) for s, e, state in line.spans if state == "unknown"]
    assert grey[1] - grey[0] == pytest.approx(10)  # before: the whole 4464 s bucket was grey
    # Runs are merged: up, grey, up, down, up.
    assert [state for _, _, state in line.spans] == ["up", "unknown", "up", "down", "up"]
    assert line.spans[0][0] == OCTOBER.start and line.spans[-1][1] == pytest.approx(OCTOBER.end)

    page = svg.timeline([line], OCTOBER.start, OCTOBER.end, SH)
    widths = {state: float(w) for state, w in re.findall(r'<rect class="(\w+)" x="[\d.]+" y="\d+" width="([\d.]+)"', page)
              if state != "up"}
    assert widths == {"down": svg.MIN_VISIBLE}  # 26 min of a month is 0.5 px: widened
    assert 'class="unknown"' not in page  # 10 s of a month is 0.003 px: not drawn at all


def test_a_bucket_mostly_without_data_is_mostly_grey_and_a_short_outage_stays_visible(tmp_path, ledger):
    # Data only for the first 20 minutes of a 74-minute bucket, then nothing until 06:00.
    put(ledger, OCTOBER.start, OCTOBER.start + 1200, 1.0)
    put(ledger, ts(2026, 10, 1, 6), ts(2026, 10, 20), 1.0)
    put(ledger, ts(2026, 10, 20), ts(2026, 10, 20, 0, 2), 0.0)  # 2 minutes down
    put(ledger, ts(2026, 10, 20, 0, 2), OCTOBER.end, 1.0)
    line = spans(tmp_path, ledger)
    first_bucket = [(s, e, state) for s, e, state in line.spans if s < OCTOBER.start + BUCKET]
    assert first_bucket[:2] == [(OCTOBER.start, OCTOBER.start + 1200, "up"),
                                (OCTOBER.start + 1200, pytest.approx(ts(2026, 10, 1, 6)), "unknown")]
    assert seconds_by_state(line)["down"] == pytest.approx(120)
    page = svg.timeline([line], OCTOBER.start, OCTOBER.end, SH)
    (down,) = re.findall(r'<rect class="down" x="[\d.]+" y="\d+" width="([\d.]+)"', page)
    assert float(down) == svg.MIN_VISIBLE  # 2 min of a month is 0.04 px: drawn wider, on top
    assert page.rindex('class="down"') > page.rindex('<rect class="up"')


def test_a_long_outage_is_drawn_as_long_as_it_is(tmp_path, ledger):
    down = ts(2026, 10, 22, 6), ts(2026, 10, 22, 22)  # 16 hours: 18.3 px of the 850 px plot
    put(ledger, OCTOBER.start, down[0], 1.0)
    put(ledger, down[0], down[1], 0.0)
    put(ledger, down[1], OCTOBER.end, 1.0)
    page = svg.timeline([spans(tmp_path, ledger)], OCTOBER.start, OCTOBER.end, SH)
    ((x, width),) = re.findall(r'<rect class="down" x="([\d.]+)" y="\d+" width="([\d.]+)"', page)
    month = OCTOBER.end - OCTOBER.start
    assert float(x) == pytest.approx(svg.LABEL + svg.PLOT * (down[0] - OCTOBER.start) / month, abs=0.01)
    assert float(width) == pytest.approx(svg.PLOT * 16 * 3600 / month, abs=0.01)


def test_a_running_month_draws_nothing_after_now(tmp_path, ledger):
    now = ts(2026, 10, 15, 12)
    put(ledger, OCTOBER.start, now, 1.0)
    line = spans(tmp_path, ledger, now)
    assert line.spans == ((OCTOBER.start, pytest.approx(now), "up"),)


def test_a_few_seconds_of_data_in_a_month_stay_visible_on_top_of_no_data(tmp_path, ledger):
    start = ts(2026, 10, 20, 10)
    put(ledger, start, start + 20, 1.0)  # a demo that ran 20 s: 0.007 px of the month
    page = svg.timeline([spans(tmp_path, ledger)], OCTOBER.start, OCTOBER.end, SH)
    ((x, width),) = re.findall(r'<rect class="up" x="([\d.]+)" y="\d+" width="([\d.]+)"', page)
    assert float(width) == svg.MIN_VISIBLE
    month = OCTOBER.end - OCTOBER.start
    assert float(x) == pytest.approx(svg.LABEL + svg.PLOT * (start - OCTOBER.start) / month, abs=svg.PLOT * BUCKET / month)
    assert page.index('<rect class="up"') > page.rindex('<rect class="unknown"')  # not hidden under the grey


GIB = 2.0**30


def gauge_chart(points, target=100000 * GIB, target_text="≥100000GB"):
    return GaugeChart("cloud_memory_capacity", "云资源服务能力规模（memory）", "bytes", target_text, target, tuple(points))


def labels(page):
    """The gauge's axis labels: text -> baseline y."""
    return {text: float(y) for y, text in re.findall(r'<text x="[\d.]+" y="([\d.]+)" font-size="11" text-anchor="end"[^>]*>([^<]+)</text>', page)}


@pytest.mark.parametrize("measured, target, target_text", [
    (102272 * GIB, 100000 * GIB, "≥100000GB"),  # the sample's memory: 3 px above the target line
    (4180 * 2.0**40, 4000 * 2.0**40, "4000TB 存储"),  # the sample's storage: 6 px above
    (99000 * GIB, 100000 * GIB, "≥100000GB"),  # just below the target
    (100000 * GIB, 100000 * GIB, "≥100000GB"),  # on it
])
def test_a_measured_value_close_to_the_target_is_labelled_beside_the_targets_label(measured, target, target_text):
    page = svg.gauge(gauge_chart([(OCTOBER.start, OCTOBER.end, measured)], target, target_text), OCTOBER.start, OCTOBER.end, SH)
    found = labels(page)
    value = fmt.value(measured, "bytes", target_text)
    target_label = f"目标 {fmt.value(target, 'bytes', target_text)}"
    assert set(found) == {value, target_label}, found
    assert abs(found[value] - found[target_label]) >= svg.LABEL_GAP - 0.1  # apart: neither overprints the other
    assert (found[value] < found[target_label]) == (measured >= target)  # the higher figure above


def test_a_measured_value_far_from_the_target_is_labelled_at_its_level():
    page = svg.gauge(gauge_chart([(OCTOBER.start, OCTOBER.end, 150000 * GIB)]), OCTOBER.start, OCTOBER.end, SH)
    (line,) = re.findall(r'<path d="M[\d.]+,([\d.]+)H', page)
    assert labels(page)["150000GB"] == pytest.approx(float(line) + 4, abs=0.1)


def test_a_short_run_of_a_gauge_is_drawn_at_least_min_visible_wide():
    start = ts(2026, 10, 20, 10)
    page = svg.gauge(gauge_chart([(start, start + 20, 102272 * GIB)]), OCTOBER.start, OCTOBER.end, SH)
    ((x0, x1),) = re.findall(r'<path d="M([\d.]+),[\d.]+H([\d.]+)"', page)
    assert float(x1) - float(x0) == pytest.approx(svg.MIN_VISIBLE, abs=0.1)
    # A longer run keeps its own width; only its end is widened if it is short.
    page = svg.gauge(gauge_chart([(OCTOBER.start, OCTOBER.end, 102272 * GIB)]), OCTOBER.start, OCTOBER.end, SH)
    ((x0, x1),) = re.findall(r'<path d="M([\d.]+),[\d.]+H([\d.]+)"', page)
    assert (float(x0), float(x1)) == (svg.LABEL, svg.LABEL + svg.PLOT)


def test_a_single_slow_message_among_thousands_is_a_visible_bar():
    dist = Distribution("sms_send_latency", "短信发送速度", ((1.25, 2.5, 9000), (2.5, 5.0, 0), (5.0, 10.0, 0), (10.0, 20.0, 1)), 10.0)
    page = svg.histogram(dist)
    heights = dict(re.findall(r'<rect class="(\w+)" x="[\d.]+" y="[\d.]+" width="[\d.]+" height="([\d.]+)"', page))
    assert float(heights["late"]) >= svg.MIN_VISIBLE  # 1 of 9000 is 0.02 px of the 170 px plot
    assert float(heights["within"]) == 170.0
