"""Small inline SVG charts for the HTML report (pure; no scripts, no external assets)."""

from __future__ import annotations

from datetime import datetime, timedelta
from html import escape
from typing import Sequence
from zoneinfo import ZoneInfo

from agent.export import format as fmt
from agent.export.rows import Distribution, GaugeChart, Timeline

WIDTH = 1000
LABEL = 130  # left margin for series names
PLOT = WIDTH - LABEL - 20
COLOURS = {"up": "#2e7d32", "down": "#c62828", "unknown": "#c8c8c8", "maintenance": "#1e88e5"}
LEGEND_ZH = {"up": "正常 up", "down": "中断 down", "unknown": "无数据 unknown", "maintenance": "维护 maintenance"}


def _x(ts: float, start: float, end: float) -> float:
    return LABEL + (ts - start) / (end - start) * PLOT if end > start else LABEL


def _ticks(start: float, end: float, zone: ZoneInfo) -> list[tuple[float, str]]:
    """Day ticks for a month, month ticks for longer periods, in the report's time zone."""
    ticks: list[tuple[float, str]] = []
    local = datetime.fromtimestamp(start, zone).replace(hour=0, minute=0, second=0, microsecond=0)
    days = (end - start) / 86400
    for _ in range(400):  # bounded: a year of days at most
        ts = local.timestamp()
        if ts >= end:
            break
        if ts >= start:
            if days <= 62 and local.day in (1, 5, 10, 15, 20, 25):
                ticks.append((ts, local.strftime("%m-%d")))
            elif days > 62 and local.day == 1:
                ticks.append((ts, local.strftime("%Y-%m")))
        local = (local + timedelta(days=1, hours=2)).replace(hour=0)  # next local midnight, DST-proof
    return ticks


def _axis(start: float, end: float, zone: ZoneInfo, y: float, height: float) -> list[str]:
    parts = []
    for ts, label in _ticks(start, end, zone):
        x = _x(ts, start, end)
        parts.append(f'<line x1="{x:.1f}" y1="0" x2="{x:.1f}" y2="{y:.1f}" stroke="#e0e0e0"/>')
        parts.append(f'<text x="{x:.1f}" y="{y + 14:.1f}" font-size="11" text-anchor="middle" fill="#555">{label}</text>')
    return parts


def timeline(lines: Sequence[Timeline], start: float, end: float, zone: ZoneInfo) -> str:
    """One bar per input series (link), coloured by state over the period."""
    row_h, gap = 18, 8
    height = len(lines) * (row_h + gap)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="timeline" width="{WIDTH}" height="{height + 44}" '
             f'viewBox="0 0 {WIDTH} {height + 44}" role="img">']
    parts.extend(_axis(start, end, zone, height, height))
    for i, line in enumerate(lines):
        y = i * (row_h + gap)
        parts.append(f'<text x="{LABEL - 8}" y="{y + 13}" font-size="12" text-anchor="end">{escape(line.series)}</text>')
        for s, e, state in line.spans:
            x0, x1 = _x(s, start, end), _x(e, start, end)
            parts.append(f'<rect x="{x0:.1f}" y="{y}" width="{max(x1 - x0, 0.6):.1f}" height="{row_h}" '
                         f'fill="{COLOURS[state]}"><title>{escape(line.series)}: {state}</title></rect>')
    x = LABEL
    for state, colour in COLOURS.items():
        parts.append(f'<rect x="{x}" y="{height + 26}" width="12" height="12" fill="{colour}"/>')
        parts.append(f'<text x="{x + 16}" y="{height + 36}" font-size="11">{LEGEND_ZH[state]}</text>')
        x += 150
    parts.append("</svg>")
    return "".join(parts)


def gauge(chart: GaugeChart, start: float, end: float, zone: ZoneInfo) -> str:
    """The gauge's summed value as a step line, with the target as a dashed line."""
    height = 160
    known = [v for _, _, v in chart.points if v is not None]
    top = max(known + [chart.target_value]) * 1.15 or 1.0

    def y(v: float) -> float:
        return height - v / top * height

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="gauge" width="{WIDTH}" height="{height + 24}" '
             f'viewBox="0 0 {WIDTH} {height + 24}" role="img">']
    parts.extend(_axis(start, end, zone, height, height))
    parts.append(f'<line x1="{LABEL}" y1="{height}" x2="{LABEL + PLOT}" y2="{height}" stroke="#999"/>')
    path: list[str] = []
    previous_end: float | None = None
    for s, e, v in chart.points:
        if v is None:
            previous_end = None
            continue
        x0, x1 = _x(s, start, end), _x(e, start, end)
        # A step joins the previous level when contiguous, so a short dip shows as a notch.
        path.append(f"{'L' if previous_end == s else 'M'}{x0:.1f},{y(v):.1f}H{x1:.1f}")
        previous_end = e
    parts.append(f'<path d="{"".join(path)}" stroke="#1565c0" stroke-width="2" fill="none"/>')
    ty = y(chart.target_value)
    target_label = escape(fmt.value(chart.target_value, chart.unit, chart.target_text))
    parts.append(f'<line x1="{LABEL}" y1="{ty:.1f}" x2="{LABEL + PLOT}" y2="{ty:.1f}" stroke="#c62828" stroke-dasharray="6 4"/>')
    parts.append(f'<text x="{LABEL - 8}" y="{ty + 4:.1f}" font-size="11" text-anchor="end" fill="#c62828">目标 {target_label}</text>')
    if known and abs(y(max(known)) - ty) > 12:  # a peak label next to the target's would overprint it
        peak = max(known)
        parts.append(f'<text x="{LABEL - 8}" y="{y(peak) + 4:.1f}" font-size="11" text-anchor="end">'
                     f'{escape(fmt.value(peak, chart.unit, chart.target_text))}</text>')
    if not known:
        parts.append(f'<text x="{LABEL + PLOT / 2}" y="{height / 2}" font-size="13" text-anchor="middle" fill="#777">无数据 no data</text>')
    parts.append("</svg>")
    return "".join(parts)


def bars(dist: Distribution) -> str:
    """Kind-specific figures of a seconds KPI (e.g. latency percentiles) as horizontal bars."""
    row_h = 22
    height = len(dist.bars) * row_h + 10
    top = max([v for _, v in dist.bars] + [dist.target_value or 0.0]) * 1.1 or 1.0
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="bars" width="{WIDTH}" height="{height}" '
             f'viewBox="0 0 {WIDTH} {height}" role="img">']
    for i, (label, value) in enumerate(dist.bars):
        y = i * row_h
        w = value / top * PLOT
        parts.append(f'<text x="{LABEL - 8}" y="{y + 15}" font-size="12" text-anchor="end">{escape(label)}</text>')
        parts.append(f'<rect x="{LABEL}" y="{y + 3}" width="{w:.1f}" height="{row_h - 6}" fill="#1565c0"/>')
        parts.append(f'<text x="{LABEL + w + 6:.1f}" y="{y + 15}" font-size="11">{fmt.number(value, 2)}</text>')
    if dist.target_value:
        x = LABEL + dist.target_value / top * PLOT
        parts.append(f'<line x1="{x:.1f}" y1="0" x2="{x:.1f}" y2="{height}" stroke="#c62828" stroke-dasharray="6 4"/>')
    parts.append("</svg>")
    return "".join(parts)
