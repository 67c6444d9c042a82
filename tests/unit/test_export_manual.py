"""Manual indicator values: parsing, one-line problems, and how they become rows."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from agent.export.layout import table12
from agent.export.manual import load_manual, parse_manual
from agent.export.model import build_report
from agent.periods import month
from agent.schema import ConfigError

SH = ZoneInfo("Asia/Shanghai")
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "manual-2026.yaml"


def ts(*args: int) -> float:
    return datetime(*args, tzinfo=SH).timestamp()


class NoMeasurements:
    def definitions(self):
        return []

    def results(self, period):
        return {}

    def outages(self, kpi, period):
        return []

    def maintenance_seconds(self, kpi, period):
        return 0.0


def report(data, period=None, now=None, kind="month"):
    manual = parse_manual(data, "m.yaml", table12(), SH)
    period = period or month(2026, 10, SH)
    built = build_report(table12(), NoMeasurements(), manual, period, kind, now or ts(2026, 11, 27), SH)
    return {row.id: row for row in built.rows}


def test_values_of_every_kind():
    entries = parse_manual({
        "2026-10": {"staff_turnover": "6.5%", "sz_i_code_stability": 0.9993, "sms_send_latency": "3.2s",
                    "magazine_issues": 1, "network_fault_timeliness": "及时",
                    "citizen_satisfaction": {"value": "基本满意", "met": False, "note": "问卷 81%"}},
        2026: {"servers": 200},
    }, "m.yaml", table12(), SH)
    assert entries["staff_turnover"][0].value == pytest.approx(0.065)
    assert entries["sz_i_code_stability"][0].value == 0.9993
    assert entries["sms_send_latency"][0].value == 3.2
    assert entries["servers"][0].period.label == "2026"
    assert entries["network_fault_timeliness"][0].met is True
    assert entries["citizen_satisfaction"][0].met is False and entries["citizen_satisfaction"][0].note == "问卷 81%"


def test_every_problem_is_one_line_naming_the_file_and_key():
    with pytest.raises(ConfigError) as err:
        parse_manual({
            "2026-13": {"servers": 1},
            "2026-10": {"magazine_isues": 1, "staff_turnover": "120%", "servers": "lots",
                        "network_fault_timeliness": "基本及时", "egress_link_availability": 0.99,
                        "citizen_satisfaction": {"value": "满意", "score": 5}},
            "2026Q4": {"website_security_scan": 0},
            "2026-11": {"website_security_scan": 1},
        }, "m.yaml", table12(), SH)
    assert err.value.problems == [
        "m.yaml: 2026-13: '2026-13' is not a month (use YYYY-MM, month 01-12)",
        "m.yaml: 2026-10.magazine_isues: unknown indicator (see the ids in agent/export/table12.yaml)",
        "m.yaml: 2026-10.staff_turnover: '120%' is not between 0% and 100%",
        "m.yaml: 2026-10.servers: expected a number, not 'lots'",
        "m.yaml: 2026-10.network_fault_timeliness: '基本及时' differs from the target '及时': add met: true or false",
        "m.yaml: 2026-10.egress_link_availability: measured by the agent (KPI egress_link_availability), not reported by hand",
        "m.yaml: 2026-10.citizen_satisfaction: unknown key 'score' (use value, met, note)",
        "m.yaml: 2026-11.website_security_scan: overlaps 2026Q4 (give one or the other)",
    ]


def test_load_reports_yaml_errors_and_duplicates_with_the_file_name(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text("2026-10:\n  servers: 1\n  servers: 2\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_manual(path, table12(), SH)
    assert len(err.value.problems) == 1 and err.value.problems[0].startswith(f"{path}: line 3")
    with pytest.raises(ConfigError, match="cannot read"):
        load_manual(tmp_path / "nope.yaml", table12(), SH)


def test_the_example_file_is_valid():
    values = load_manual(EXAMPLE, table12(), SH)
    assert values["magazine_issues"] and values["servers"]


def test_absent_values_read_not_reported_and_blank_values_too():
    rows = report({"2026-10": {"servers": None, "gov_network_stability": ""}})
    assert rows["servers"].status == "not_reported" and rows["servers"].actual == "未填报"
    assert rows["gov_network_stability"].status == "not_reported"


def test_text_values_equal_to_the_target_are_met_and_others_carry_the_staff_judgement():
    rows = report({"2026-10": {"gov_network_stability": "稳定",
                               "citizen_satisfaction": {"value": "基本满意", "met": False}}})
    assert rows["gov_network_stability"].status == "met" and rows["gov_network_stability"].actual == "稳定"
    assert rows["citizen_satisfaction"].status == "not_met"


def test_yearly_counts_are_summed_year_to_date_and_judged_against_the_pro_rated_target():
    data = {"2026-03": {"magazine_issues": 1}, "2026-06": {"magazine_issues": 1}, "2026-09": {"magazine_issues": 1},
            "2026-11": {"magazine_issues": 1}}
    rows = report(data)  # October: Jan-Oct is 304 of 365 days; 4 x 304/365 = 3.33 -> 3 issues due
    magazine = rows["magazine_issues"]
    assert magazine.value == 3 and magazine.actual == "3期" and magazine.target_value == 3
    assert magazine.status == "met"
    assert magazine.note == "3 条填报合计；年度目标按 304/365 天折算为 3期"
    # Only two issues by the end of October: behind.
    del data["2026-09"]
    assert report(data)["magazine_issues"].status == "not_met"
    # The year report once the year is over: all four against the full target.
    from agent.periods import year

    data["2026-09"] = {"magazine_issues": 1}
    whole = report(data, period=year(2026, SH), now=ts(2027, 1, 5), kind="year")["magazine_issues"]
    assert whole.value == 4 and whole.target_value == 4 and whole.status == "met" and whole.note == "4 条填报合计"


def test_half_year_counts_restart_each_half():
    rows = report({"2026H1": {"security_services": 4}, "2026-08": {"security_services": 2}})
    # October: July-October of H2, 123 of 184 days: 4 x 123/184 = 2.67 -> 2 due.
    assert rows["security_services"].value == 2 and rows["security_services"].status == "met"
    assert rows["security_services"].target_value == 2


def test_levels_hold_through_the_period_they_were_reported_for():
    rows = report({"2026": {"servers": 198}, "2027": {"servers": 250}})
    assert rows["servers"].value == 198 and rows["servers"].status == "not_met"
    assert rows["servers"].note == "取 2026 填报值"


def test_milestones_instead_of_pro_rating():
    data = {"2026-05": {"website_penetration_tests": 1}}
    may = report(data, period=month(2026, 5, SH))["website_penetration_tests"]
    assert may.target_value == 0 and may.status == "met"  # the first test is due by 30 June
    july = report({}, period=month(2026, 7, SH))["website_penetration_tests"]
    assert july.status == "not_reported"
    july = report(data, period=month(2026, 7, SH))["website_penetration_tests"]
    assert july.target_value == 1 and july.status == "met"
    assert july.note == "取 2026-05 填报值；截至期末应累计完成 1 次，下一节点 12-31 前累计 2 次"
    december = report(data, period=month(2026, 12, SH), now=ts(2027, 1, 5))["website_penetration_tests"]
    assert december.target_value == 2 and december.status == "not_met"


def test_rates_are_averaged_over_the_months_of_a_longer_report():
    from agent.periods import quarter

    manual = parse_manual({"2026-07": {"sms_delivery_rate": "99%"}, "2026-08": {"sms_delivery_rate": "97%"},
                           "2026-09": {"sms_delivery_rate": "98.5%"}}, "m.yaml", table12(), SH)
    built = build_report(table12(), NoMeasurements(), manual, quarter(2026, 3, SH), "quarter", ts(2026, 11, 1), SH)
    row = {r.id: r for r in built.rows}["sms_delivery_rate"]
    assert row.value == pytest.approx(0.98166666) and row.status == "met"
    assert row.note == "3 条填报的平均"
