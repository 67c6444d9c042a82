"""The website security KPI (latest_count, collectors/scans/kpi.py) from hand-built ledgers, against hand-worked figures.

Each test writes what the collector would have written: per poll, a scan's newest report's medium + high
alerts (``scan:<name>:findings``), each risk's alerts and the report's time, holding until the next poll.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from agent import periods
from agent.config import parse_config
from agent.kpi import KpiEngine
from agent.ledger import Ledger
from collectors.scans import kpi as scans_kpi
from collectors.scans.series import scan_findings, scan_series

SH = ZoneInfo("Asia/Shanghai")
NOVEMBER = periods.month(2026, 11, SH)
DECEMBER = periods.month(2026, 12, SH)


def ts(*args: int) -> float:
    return datetime(*args, tzinfo=SH).timestamp()


def make_config(scans: list[str] | None = None, timezone: str = "Asia/Shanghai", min_coverage: float = 0.9) -> Any:
    kpi: dict[str, Any] = {"id": "web_security_findings", "min_coverage": min_coverage}
    if scans is not None:
        kpi["scans"] = scans
    return parse_config({
        "agent": {"timezone": timezone},
        "security_scans": [{"name": "portal", "directory": "/srv/zap/portal"},
                           {"name": "service", "directory": "/srv/zap/service", "stale_after": "8d"}],
        "kpis": [kpi],
    }, "test.yaml")


def observe(ledger: Ledger, scan: str, start: float, end: float, made: float | None, *, high: int = 0,
            medium: int = 0, low: int = 0, informational: int = 0) -> None:
    """The scan's polls over ``[start, end)`` read a report made at ``made`` (None: the polls failed)."""
    counts = {"high": high, "medium": medium, "low": low, "informational": informational}
    values: dict[str, float | None] = {name: None if made is None else float(n) for name, n in counts.items()}
    values["report_time"] = made
    values["findings"] = None if made is None else float(high + medium)
    ledger.record([(scan_series(scan, name), value, start, end - start) for name, value in values.items()])


def result(ledger: Ledger, period: periods.Period = NOVEMBER, now: float | None = None, config: Any = None):
    engine = KpiEngine(config or make_config(["portal"]), ledger)
    (found,) = engine.evaluate_period(period, now if now is not None else period.end)
    return found


def note(found, lang: str = "zh") -> list[str]:
    from collectors.scans.notes import latest_report

    return latest_report(found.definition, found, (), str, lang)


def test_a_report_made_before_the_month_counts_while_it_is_the_newest(tmp_path):
    ledger = Ledger(tmp_path / "l.sqlite")
    # The Oct 28 report (medium 2, low 5) is still the newest all November: the agent reads it every poll.
    observe(ledger, "portal", ts(2026, 10, 28, 11), NOVEMBER.end, ts(2026, 10, 28, 10, 15), medium=2, low=5)
    found = result(ledger)
    assert found.value == 2 and found.met is False
    assert found.coverage == 1.0 and found.sufficient
    assert {k: found.details[k] for k in ("high", "medium", "low", "informational")} == {
        "high": 0, "medium": 2, "low": 5, "informational": 0}
    assert note(found) == ["最新报告 2026-10-28 10:15：高危 0，中危 2，低危 5"]
    assert note(found, "en") == ["latest report 2026-10-28 10:15: high 0, medium 2, low 5"]


def test_the_figure_is_the_last_report_observed_not_the_worst_nor_a_mean(tmp_path):
    ledger = Ledger(tmp_path / "l.sqlite")
    # Three medium findings until the Nov 10 rescan, which found none.
    observe(ledger, "portal", NOVEMBER.start, ts(2026, 11, 10, 9), ts(2026, 10, 28, 10, 15), medium=3, low=4)
    observe(ledger, "portal", ts(2026, 11, 10, 9), NOVEMBER.end, ts(2026, 11, 10, 8, 30), low=4)
    found = result(ledger)
    assert found.value == 0 and found.met is True  # <= 0: no medium or high vulnerability
    assert note(found) == ["最新报告 2026-11-10 08:30：高危 0，中危 0，低危 4"]
    # Evaluated on Nov 5 the Oct 28 report was the latest known.
    early = result(ledger, now=ts(2026, 11, 5))
    assert early.value == 3 and early.met is False


def test_observations_only_before_the_month_are_no_figure_for_it(tmp_path):
    ledger = Ledger(tmp_path / "l.sqlite")
    # The agent stopped on Oct 31: November has no observation, so no figure (not the October one, not 0).
    observe(ledger, "portal", ts(2026, 10, 1), ts(2026, 10, 31, 23), ts(2026, 9, 30, 10), medium=1)
    found = result(ledger)
    assert found.value is None and found.met is None and found.coverage == 0.0
    assert not found.sufficient and note(found) == []


def test_failed_polls_all_month_are_unknown_not_zero(tmp_path):
    ledger = Ledger(tmp_path / "l.sqlite")
    observe(ledger, "portal", NOVEMBER.start, NOVEMBER.end, None)  # e.g. the newest report was truncated
    found = result(ledger)
    assert found.value is None and found.coverage == 0.0


def test_two_scans_sum_each_scans_latest_report(tmp_path):
    ledger = Ledger(tmp_path / "l.sqlite")
    observe(ledger, "portal", NOVEMBER.start, ts(2026, 11, 20, 11), ts(2026, 10, 30, 10, 15), high=1, medium=1)
    observe(ledger, "portal", ts(2026, 11, 20, 11), NOVEMBER.end, ts(2026, 11, 20, 10, 15), medium=2, low=3)
    observe(ledger, "service", NOVEMBER.start, NOVEMBER.end, ts(2026, 11, 25, 10, 15) - 86400 * 30, low=1)
    observe(ledger, "service", ts(2026, 11, 25, 11), NOVEMBER.end, ts(2026, 11, 25, 10, 15), high=1, low=2,
            informational=6)
    found = result(ledger, config=make_config())  # every configured scan
    # portal's latest: medium 2, low 3; service's latest: high 1, low 2, info 6.
    assert found.value == 3 and found.met is False and found.coverage == 1.0
    assert {k: found.details[k] for k in ("high", "medium", "low", "informational", "scans", "scans_known")} == {
        "high": 1, "medium": 2, "low": 5, "informational": 6, "scans": 2, "scans_known": 2}
    assert note(found) == ["2 个扫描的最新报告 2026-11-20 10:15 至 2026-11-25 10:15：高危 1，中危 2，低危 5"]
    assert note(found, "en") == [
        "latest reports of 2 scans 2026-11-20 10:15 to 2026-11-25 10:15: high 1, medium 2, low 5"]


def test_a_scan_without_a_figure_lowers_coverage_and_is_not_counted_as_clean(tmp_path):
    ledger = Ledger(tmp_path / "l.sqlite")
    observe(ledger, "portal", NOVEMBER.start, NOVEMBER.end, ts(2026, 11, 1, 3))
    observe(ledger, "service", NOVEMBER.start, NOVEMBER.end, None)  # its directory was empty all month
    found = result(ledger, config=make_config())
    assert found.value == 0 and found.met is True  # the figure of what is known...
    assert found.coverage == 0.5 and not found.sufficient  # ...but half the scans: 数据不足 at min_coverage 90 %
    assert note(found) == ["最新报告 2026-11-01 03:00：高危 0，中危 0，低危 0；1 个扫描无数据"]
    assert note(found, "en")[0].endswith("; 1 of 2 scans without data")


def test_the_kpi_reads_only_the_scans_it_names(tmp_path):
    ledger = Ledger(tmp_path / "l.sqlite")
    observe(ledger, "portal", NOVEMBER.start, NOVEMBER.end, ts(2026, 11, 1, 3), high=4)
    observe(ledger, "service", NOVEMBER.start, NOVEMBER.end, ts(2026, 11, 1, 3), medium=1)
    assert result(ledger, config=make_config(["service"])).value == 1
    assert result(ledger, config=make_config(["portal"])).value == 4
    assert result(ledger, config=make_config()).value == 5


def test_the_month_ends_at_midnight_in_asia_shanghai(tmp_path):
    ledger = Ledger(tmp_path / "l.sqlite")
    # A medium finding read until Dec 1 00:00 Shanghai (Nov 30 16:00 UTC), then the fixed report's 0.
    observe(ledger, "portal", ts(2026, 11, 30, 22), ts(2026, 12, 1), ts(2026, 11, 30, 21), medium=1)
    observe(ledger, "portal", ts(2026, 12, 1), ts(2026, 12, 1, 6), ts(2026, 11, 30, 23, 50))
    november = result(ledger, NOVEMBER, now=ts(2026, 12, 1, 9))
    december = result(ledger, DECEMBER, now=ts(2026, 12, 1, 9))
    # In UTC the 0 (from 16:00 UTC on Nov 30) would be November's last; in Shanghai it is December's.
    assert november.value == 1 and november.met is False
    assert december.value == 0 and december.met is True
    # The report itself was made in November (23:50 Shanghai): the note says when, in Shanghai time.
    assert note(december) == ["最新报告 2026-11-30 23:50：高危 0，中危 0，低危 0"]


def test_the_note_shows_the_report_time_in_the_configured_zone(tmp_path):
    ledger = Ledger(tmp_path / "l.sqlite")
    utc = ZoneInfo("UTC")
    month = periods.month(2026, 11, utc)
    observe(ledger, "portal", month.start, month.end, ts(2026, 10, 28, 10, 15), medium=2)
    found = result(ledger, month, config=make_config(["portal"], timezone="UTC"))
    assert note(found) == ["最新报告 2026-10-28 02:15：高危 0，中危 2，低危 0"]


def test_an_empty_selection_reads_nothing():
    config = make_config([])
    definition = scans_kpi.chosen(config.kpis[0], config)
    assert definition == []
    assert scans_kpi.scan_inputs(None, config.kpis[0], config) == ()  # type: ignore[arg-type]
    # With scans the plan carries the zone for the note, which is never read as a ledger series.
    assert scans_kpi.scan_inputs(None, make_config().kpis[0], make_config()) == (  # type: ignore[arg-type]
        scan_findings("portal"), scan_findings("service"), "tz:Asia/Shanghai")


def test_the_export_row_of_table_12(tmp_path):
    from agent.export.layout import table12
    from agent.export.measure import LedgerMeasurements
    from agent.export.model import build_report

    ledger = Ledger(tmp_path / "l.sqlite")
    observe(ledger, "portal", ts(2026, 10, 28, 11), NOVEMBER.end, ts(2026, 11, 28, 10, 15), medium=2, low=5)
    now = ts(2026, 12, 1, 9)
    config = make_config(["portal"])
    rows = {row.id: row for row in build_report(table12(), LedgerMeasurements(config, ledger, now), {}, NOVEMBER,
                                                "month", now, SH).rows}
    row = rows["website_security_scan"]  # the table's row, bound by its name (网站安全检测结果)
    assert (row.source, row.kpi, row.actual, row.status, row.target_text) == (
        "measured", "web_security_findings", "2", "not_met", "无中高危漏洞")
    assert row.note == "最新报告 2026-11-28 10:15：高危 0，中危 2，低危 5"
    english = build_report(table12(), LedgerMeasurements(config, ledger, now), {}, NOVEMBER, "month", now, SH,
                           lang="en")
    row = {r.id: r for r in english.rows}["website_security_scan"]
    assert row.note == "latest report 2026-11-28 10:15: high 0, medium 2, low 5"


@pytest.mark.parametrize("findings,met", [(0, True), (1, False)])
def test_met_means_no_medium_or_high_finding(tmp_path, findings, met):
    ledger = Ledger(tmp_path / "l.sqlite")
    observe(ledger, "portal", NOVEMBER.start, NOVEMBER.end, ts(2026, 11, 1, 3), high=findings, low=9)
    assert result(ledger).met is met
