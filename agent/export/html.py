"""A self-contained HTML page: the table and small inline SVG charts, no external assets."""

from __future__ import annotations

from html import escape
from itertools import groupby
from zoneinfo import ZoneInfo

from agent import sources
from agent.export import columns, svg
from agent.export.rows import Report

_CSS = """
body { font-family: "Noto Sans CJK SC", "WenQuanYi Micro Hei", "WenQuanYi Zen Hei", "Microsoft YaHei", "PingFang SC", sans-serif;
       margin: 24px; color: #222; }
h1 { font-size: 20px; margin: 0 0 6px; } h2 { font-size: 16px; margin: 28px 0 8px; }
h3 { font-size: 14px; margin: 14px 0 4px; color: #333; }
p.meta { margin: 2px 0; color: #555; font-size: 13px; }
table.report { border-collapse: collapse; width: 100%; font-size: 13px; margin-top: 14px; table-layout: fixed; }
table.report th, table.report td { border: 1px solid #999; padding: 4px 6px; vertical-align: middle; }
table.report th { background: #ddebf7; }
col.level1 { width: 3em; } col.level2 { width: 4em; } col.name { width: 13em; } col.name_en { width: 13em; }
col.target { width: 15em; } col.actual { width: 9em; } col.status { width: 5.5em; } col.coverage { width: 5em; }
col.maintenance { width: 5.5em; }
td.status { white-space: nowrap; text-align: center; }
tr.not_met td.row { background: #ffc7ce; } tr.not_met td.status { color: #9c0006; font-weight: bold; }
tr.insufficient td.row { background: #ffeb9c; } tr.not_reported td.row { background: #f0f0f0; color: #666; }
td.num { text-align: right; overflow-wrap: anywhere; }
.summary span { display: inline-block; margin-right: 18px; font-size: 13px; }
@media print { body { margin: 8mm; } h2 { page-break-before: auto; } svg { max-width: 100%; height: auto; } }
"""


def _table(report: Report) -> str:
    keys = columns.keys(report.lang)
    head = "".join(f"<th>{escape(h)}</th>" for h in columns.headers(report.lang))
    body: list[str] = []
    # Level-1 and level-2 cells span their group's rows, as in the printed table.
    spans1: dict[int, int] = {}  # first row index of each group -> rows it spans
    spans2: dict[int, int] = {}
    index = 0
    for _, group in groupby(report.rows, key=lambda r: r.level1):
        rows = list(group)
        spans1[index] = len(rows)
        sub = index
        for _, group2 in groupby(rows, key=lambda r: r.level2):
            n = len(list(group2))
            spans2[sub] = n
            sub += n
        index += len(rows)
    for i, row in enumerate(report.rows):
        cells = dict(zip(keys, columns.cells(row, report.lang)))
        tds: list[str] = []
        for key in keys:
            text = escape(cells[key])
            if key == "level1":
                if i in spans1:
                    tds.append(f'<td rowspan="{spans1[i]}">{text}</td>')
            elif key == "level2":
                if i in spans2:
                    tds.append(f'<td rowspan="{spans2[i]}">{text}</td>')
            elif key == "status":
                tds.append(f'<td class="row status">{text}</td>')
            elif key in ("actual", "coverage", "maintenance"):
                tds.append(f'<td class="row num">{text}</td>')
            else:
                tds.append(f'<td class="row">{text}</td>')
        body.append(f'<tr class="{row.status}" data-id="{escape(row.id)}" data-source="{row.source}">{"".join(tds)}</tr>')
    cols = "".join(f'<col class="{key}">' for key in keys)
    return (f'<table class="report" id="report"><colgroup>{cols}</colgroup><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table>')


def _summary(report: Report) -> str:
    counts: dict[str, int] = {}
    for row in report.rows:
        counts[row.status] = counts.get(row.status, 0) + 1
    labels = (("met", "达标"), ("not_met", "未达标"), ("insufficient", "数据不足"), ("not_reported", "未填报"))
    return '<p class="summary">' + "".join(f"<span>{zh}：{counts.get(code, 0)}</span>" for code, zh in labels) + "</p>"


def _distribution_texts() -> tuple[str, str]:
    """The distributions' heading and what it says without one: the first histogram kind's (KindSpec)."""
    for kind in sources.kinds().values():
        if kind.histogram is not None and kind.histogram_texts:
            return kind.histogram_texts
    return "分布 Distributions", "暂无分布图。No distribution."


def _charts(report: Report) -> str:
    zone = ZoneInfo(report.timezone)
    start, end = report.period.start, report.period.end
    # Every KPI whose inputs are states (links, probes), one line per input.
    parts = ["<h2>可用性时间线 Availability over the period</h2>"]
    if not report.charts.timelines:
        parts.append('<p class="meta">未配置可用率类指标。No availability KPI configured.</p>')
    for kpi, group in groupby(report.charts.timelines, key=lambda t: t.kpi):
        lines = list(group)
        parts.append(f"<h3>{escape(lines[0].title)}</h3>{svg.timeline(lines, start, end, zone)}")
    heading, empty = _distribution_texts()
    parts.append(f"<h2>{heading}</h2>")
    if not report.charts.distributions:
        parts.append(f'<p class="meta">{empty}</p>')
    for dist in report.charts.distributions:
        parts.append(f"<h3>{escape(dist.title)}</h3>{svg.histogram(dist)}")
    parts.append("<h2>容量与带宽 Capacity over the period</h2>")
    if not report.charts.gauges:
        parts.append('<p class="meta">未配置容量类指标。No capacity KPI configured.</p>')
    for chart in report.charts.gauges:
        parts.append(f"<h3>{escape(chart.title)}</h3>{svg.gauge(chart, start, end, zone)}")
    return "".join(parts)


def render(report: Report) -> bytes:
    title = columns.title(report)
    page = (
        '<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>"
        f"<h1>{escape(title)}</h1>"
        f'<p class="meta">{escape(columns.period_line(report))}</p>'
        f'<p class="meta">{escape(columns.generated_line(report))}</p>'
        f"{_summary(report)}{_table(report)}{_charts(report)}"
        "</body></html>\n"
    )
    return page.encode("utf-8")
