"""The four formats of the sample month (agent.lab.sample_report): xlsx cells, CSV BOM, JSON raw numbers, HTML."""

from __future__ import annotations

import csv
import io
import json
import math
import re
from dataclasses import replace

import openpyxl
import pytest

from agent.export import csv_writer, html, json_writer, xlsx
from agent.export.layout import table12
from agent.export.manual import load_manual
from agent.export.measure import LedgerMeasurements
from agent.export.model import build_report
from agent.lab.sample_report import EXAMPLE_MANUAL, SAMPLE_NOW, SH, build_ledger
from agent.ledger import Ledger
from agent.export.rows import Report, Row
from agent.periods import month

GBIT = 1e9 / 8


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    """October 2026 of the sample: see agent/lab/sample_report.py for what happened when."""
    data = tmp_path_factory.mktemp("sample")
    config = build_ledger(data)
    ledger = Ledger(data / "ledger.sqlite")
    measurements = LedgerMeasurements(config, ledger, SAMPLE_NOW)
    october = month(2026, 10, SH)
    manual = load_manual(EXAMPLE_MANUAL, table12(), SH)
    reports = {lang: build_report(table12(), measurements, manual, october, "month", SAMPLE_NOW, SH, lang,
                                  charts=measurements.charts(october)) for lang in ("zh", "en")}
    ledger.close()
    return reports


def sheet(report):
    return openpyxl.load_workbook(io.BytesIO(xlsx.render(report))).active


def find_row(ws, name):
    return next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 3).value == name)


EXCEL_NUMBER = re.compile(r'^0(?:\.(0+))?(%?)(?:"(.*)")?$')


def excel_text(cell):
    """What Excel shows for a number in the formats the xlsx writes (``0.00%``, ``0.0"TB"``, ``0" 小时"``)."""
    match = EXCEL_NUMBER.match(cell.number_format)
    assert cell.data_type == "n" and match, (cell.value, cell.number_format)
    decimals, percent, suffix = len(match.group(1) or ""), match.group(2), match.group(3) or ""
    return f"{cell.value * (100 if percent else 1):.{decimals}f}{percent}{suffix}"


def test_xlsx_headings_header_and_frozen_panes(sample):
    ws = sheet(sample["zh"])
    assert ws["A1"].value.startswith("深圳市大数据资源管理中心")
    assert "2026-10" in ws["A2"].value and "Asia/Shanghai" in ws["A2"].value
    assert ws["A3"].value.startswith("生成时间：2026-11-27 09:30")
    assert [c.value for c in ws[5]] == ["一级指标", "二级指标", "三级指标", "目标值", "实际完成值", "是否达标",
                                        "数据覆盖率", "维护排除时间", "说明"]
    assert ws.freeze_panes == "D6"
    assert ws.print_title_rows == "$5:$5"
    assert ws.page_setup.orientation == "landscape" and ws.page_setup.fitToWidth == 1
    assert ws.sheet_properties.pageSetUpPr.fitToPage is True
    assert ws.column_dimensions["I"].width == 50  # 说明
    assert ws.max_row == 5 + len(table12())


def test_xlsx_cells_of_measured_rows(sample):
    ws = sheet(sample["zh"])
    r = find_row(ws, "政务外网统一互联网出口链路可用率")
    # ct down 23:50-24:00 on the 31st (10 min) and cu 14:05-14:31 on the 12th (26 min); cm's 90 min
    # are inside the 4 October maintenance window. Three links x 31 days, less 2 h maintenance each
    # and the 2 h with no data on the 20th.
    assert [ws.cell(r, c).value for c in (4, 6)] == ["≥99%", "达标"]
    assert (ws.cell(r, 5).value, ws.cell(r, 5).number_format) == (0.9997, "0.00%")  # 99.97 %, rounded down
    coverage = (31 * 86400 - 7200 - 7200) / (31 * 86400 - 7200)  # 99.73 %
    assert ws.cell(r, 7).value == math.floor(coverage * 1000) / 1000  # as shown: 99.7 %, rounded down
    assert ws.cell(r, 7).number_format == "0.0%"
    assert (ws.cell(r, 8).value, ws.cell(r, 8).number_format) == (2, '0" 小时"')
    assert ws.cell(r, 9).value == "中断 2 次，共 36 分钟"
    r = find_row(ws, "政务外网移动办公出口链路可用率")
    assert [excel_text(ws.cell(r, 5)), ws.cell(r, 6).value, ws.cell(r, 9).value] == ["98.87%", "未达标", "中断 2 次，共 16.8 小时"]
    r = find_row(ws, "出口可用宽带")
    assert [ws.cell(r, 4).value, excel_text(ws.cell(r, 5)), ws.cell(r, 6).value] == ["≥15G", "29.99G", "达标"]
    r = find_row(ws, "云资源服务能力规模（存储）")
    assert [ws.cell(r, 4).value, excel_text(ws.cell(r, 5)), ws.cell(r, 6).value] == ["4000TB 存储", "4154.1TB", "未达标"]
    assert ws.cell(r, 9).value == "均值 4154.1TB，最小 3780TB，达标时间占比 93.53%（要求 ≥99%）"


def test_xlsx_numbers_are_numbers_that_read_as_the_csv(sample):
    """Figures, coverage and maintenance time are numbers a reviewer can sort and sum, shown as the CSV writes them."""
    ws = sheet(sample["zh"])
    csv_rows = list(csv.reader(io.StringIO(csv_writer.render(sample["zh"]).decode("utf-8-sig"))))[1:]
    numbers = 0
    for r, texts in enumerate(csv_rows, start=6):
        for c in (5, 7):  # 实际完成值, 数据覆盖率
            cell = ws.cell(r, c)
            if cell.data_type == "n":
                assert excel_text(cell) == texts[c - 1], (texts[2], cell.value, cell.number_format)
                numbers += 1
            else:  # text only where the CSV's is no number: 未填报, 未配置, —, 满意
                assert (cell.value or "") == texts[c - 1] and not re.match(r"^[\d.]+", texts[c - 1]), texts
    assert numbers > 20
    r = find_row(ws, "云资源服务能力规模（CPU）")
    assert (ws.cell(r, 5).value, ws.cell(r, 5).number_format) == (17344, '0"核"')
    r = find_row(ws, "《智慧深圳》杂志发行期数")  # a manual count
    assert (ws.cell(r, 5).data_type, ws.cell(r, 5).value, ws.cell(r, 5).number_format) == ("n", 3, '0"期"')
    # Maintenance time in hours (the unit in the format), for every measured row; empty for the others.
    for r, texts in enumerate(csv_rows, start=6):
        cell = ws.cell(r, 8)
        if texts[7]:
            assert cell.data_type == "n" and cell.number_format == '0" 小时"', (texts[2], cell.value)
        else:
            assert cell.value is None
    r = find_row(ws, "出口可用宽带")
    assert ws.cell(r, 8).value == 2  # the 4 October window, 2 hours
    assert sheet(sample["en"]).cell(r, 9).number_format == '0" h"'


def test_xlsx_maintenance_hours_keep_their_fraction():
    report = coverage_report([1.0])
    row = replace(report.rows[0], maintenance_seconds=41 * 60)
    cell = sheet(replace(report, rows=(row,))).cell(6, 8)
    assert (cell.data_type, cell.value, cell.number_format) == ("n", 0.68, '0.00" 小时"')  # 41 minutes


def test_xlsx_manual_rows_and_merged_groups(sample):
    ws = sheet(sample["zh"])
    r = find_row(ws, "短信年发送总量")
    assert [ws.cell(r, c).value for c in (4, 5, 6)] == ["≥17000 万条", "未填报", "未填报"]
    r = find_row(ws, "项目预算执行率")
    assert ws.cell(r, 1).value == "成本" and ws.cell(r, 6).value == "达标"
    merged = {str(m) for m in ws.merged_cells.ranges}
    assert "A6:A42" in merged  # 产出指标 spans its 37 rows, as in the printed table
    assert "B6:B23" in merged  # 数量指标


def test_xlsx_colours_failing_rows_conditionally(sample):
    ws = sheet(sample["zh"])
    rules = [(str(rng.sqref), rule) for rng in ws.conditional_formatting for rule in rng.rules]
    formulas = {rule.formula[0]: (sqref, rule.dxf.fill.fgColor.rgb) for sqref, rule in rules}
    assert formulas['ISNUMBER(SEARCH("未达标",$F6))'] == ("C6:I50", "00FFC7CE")
    assert 'ISNUMBER(SEARCH("未填报",$F6))' in formulas and 'ISNUMBER(SEARCH("数据不足",$F6))' in formulas


def test_xlsx_english(sample):
    ws = sheet(sample["en"])
    assert [c.value for c in ws[5]][:4] == ["一级指标 Level 1", "二级指标 Level 2", "三级指标 Indicator", "Indicator (English)"]
    r = find_row(ws, "政务外网移动办公出口链路可用率")
    assert ws.cell(r, 4).value == "Mobile-office egress link availability"
    assert ws.cell(r, 7).value == "未达标 (not met)"
    assert ws.cell(r, 10).value == "2 outages, 16.8 h total"


def test_csv_is_utf8_with_bom_and_the_same_table(sample):
    data = csv_writer.render(sample["zh"])
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == ["一级指标", "二级指标", "三级指标", "目标值", "实际完成值", "是否达标", "数据覆盖率", "维护排除时间", "说明"]
    assert len(rows) == 1 + len(table12())
    mobile = next(r for r in rows if r[2] == "政务外网移动办公出口链路可用率")
    assert mobile[4:7] == ["98.87%", "未达标", "99.7%"]
    assert rows[1][:2] == ["产出指标", "数量指标"]  # every row carries its groups: CSV has no merged cells


def test_json_has_raw_numbers_in_base_units_next_to_the_strings(sample):
    doc = json.loads(json_writer.render(sample["zh"]))
    assert doc["unit"] == "深圳市大数据资源管理中心"
    assert doc["period"]["label"] == "2026-10" and doc["period"]["complete"] is True
    assert doc["period"]["start_iso"] == "2026-10-01T00:00:00+08:00"
    rows = {r["id"]: r for r in doc["rows"]}
    bandwidth = rows["egress_bandwidth"]
    assert bandwidth["actual"] == "29.99G" and bandwidth["unit"] == "bytes_per_second"
    assert bandwidth["target_value"] == 15 * GBIT and bandwidth["minimum"] == 20 * GBIT
    assert bandwidth["compliance"] == 1.0 and bandwidth["objective"] == 0.99
    egress = rows["egress_link_availability"]
    assert egress["status"] == "met" and egress["status_text"] == "达标"
    assert egress["maintenance_seconds"] == 7200
    assert [(o["series"], o["seconds"], o["start_iso"]) for o in egress["outages"]] == [
        ("egress-cu", 1560.0, "2026-10-12T14:05:00+08:00"), ("egress-ct", 600.0, "2026-10-31T23:50:00+08:00")]
    assert rows["cloud_memory_capacity"]["value"] == 102272 * 2**30
    magazine = rows["magazine_issues"]
    assert magazine["source"] == "manual" and magazine["value"] == 3 and magazine["target_full"] == 4
    assert rows["sms_annual_volume"]["status"] == "not_reported" and rows["sms_annual_volume"]["value"] is None


def test_html_is_self_contained_with_the_table_and_charts(sample):
    page = html.render(sample["zh"]).decode("utf-8")
    assert '<table class="report" id="report">' in page
    assert page.count('<tr class="') == len(table12())
    assert not re.search(r'(src|href)\s*=\s*"(https?:)?//', page)  # no external assets
    assert "<script" not in page
    assert page.count('<svg xmlns="http://www.w3.org/2000/svg" class="timeline"') == 2  # two link groups
    assert page.count('class="gauge"') == 4  # bandwidth and the three cloud capacities
    assert "egress-cu" in page and "mobile-cu" in page
    assert "未达标：4" in page


def test_html_labels_every_capacity_chart_with_its_peak(sample):
    """Memory and storage are only 3 and 6 px above their targets: their labels move off the target's."""
    page = html.render(sample["zh"]).decode("utf-8")
    charts = re.findall(r'<svg xmlns="http://www.w3.org/2000/svg" class="gauge".*?</svg>', page)
    assert [re.findall(r'text-anchor="end">([^<]+)</text>', chart) for chart in charts] == [
        ["30G"], ["17344核"], ["102272GB"], ["4180TB"]]


def test_html_sms_latency_histogram(sample):
    """The sample's 6167 delivered messages as a histogram of the stored bins, the 10 s bound marked."""
    page = html.render(sample["zh"]).decode("utf-8")
    (chart,) = re.findall(r'<svg xmlns="http://www.w3.org/2000/svg" class="histogram".*?</svg>', page)
    assert "短信发送时延分布 SMS latency distribution" in page and "<h3>短信发送速度</h3>" in page
    counts = [int(n) for n in re.findall(r"秒：(\d+) 条</title>", chart)]
    assert sum(counts) == 6167 and len(counts) > 10  # a distribution, not a few summary bars
    late = [int(n) for n in re.findall(r'<rect class="late"[^>]*><title>[^<]*?：(\d+) 条', chart)]
    speed = next(r for r in sample["zh"].rows if r.id == "sms_send_latency")
    assert sum(late) == 6167 - speed.details["within_target"] > 0  # orange: exactly the messages slower than 10 s
    assert 'class="bound"' in chart and "目标 ≤10秒 bound" in chart
    assert "p95 6.85秒" in chart and "10秒内送达 98.73%" in chart


def coverage_report(coverages):
    """Rows that differ only in their coverage, for the four writers."""
    october = month(2026, 10, SH)
    rows = tuple(Row(id=f"r{i}", source="measured", level1="产出指标", level2="质量指标", name=f"指标{i}", name_en="",
                     target_text="≥99%", actual="100.00%", status="met", note="", coverage=c)
                 for i, c in enumerate(coverages))
    return Report(period=october, kind="month", until=october.end, generated_at=SAMPLE_NOW, timezone="Asia/Shanghai",
                  lang="zh", rows=rows)


def test_every_writer_shows_the_same_coverage():
    shown = ["0.04%", "99.9%", "100%", "0%", "99.7%"]
    report = coverage_report([0.0004167, 0.99996, 1.0, 0.0, 0.997304])
    ws = sheet(report)
    assert [excel_text(ws.cell(6 + i, 7)) for i in range(len(shown))] == shown
    rows = list(csv.reader(io.StringIO(csv_writer.render(report).decode("utf-8-sig"))))
    assert [r[6] for r in rows[1:]] == shown
    doc = json.loads(json_writer.render(report))
    assert [r["coverage_text"] for r in doc["rows"]] == shown
    assert doc["rows"][0]["coverage"] == 0.0004167  # the raw ratio stays in the JSON
    page = html.render(report).decode("utf-8")
    assert re.findall(r'<td class="row num">([^<]*%)</td>', page)[1::2] == shown  # after each row's 实际完成值
