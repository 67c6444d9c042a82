"""Small inline SVG charts for the HTML report (pure; no scripts, no external assets)."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from html import escape
from typing import Callable, Sequence
from zoneinfo import ZoneInfo

from agent.export import format as fmt
from agent.export.rows import Distribution, GaugeChart, Timeline

WIDTH = 1000
LABEL = 130  # left margin for series names
PLOT = WIDTH - LABEL - 20
COLOURS = {"up": "#2e7d32", "down": "#c62828", "unknown": "#c8c8c8", "maintenance": "#1e88e5"}
# px: data that exists is never drawn smaller, however short it is (an outage of a few minutes or a
# demo of 20 s in a month, one slow message among thousands): a chart must not hide what it has.
MIN_VISIBLE = 3.0
LABEL_GAP = 12  # px between the baselines of two axis labels (11 px text) so that neither overprints the other
_LAYER = {"unknown": 0, "maintenance": 0, "up": 1, "down": 2}  # drawn in this order: data on top of no data
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
        # Every state as wide as its time; data (up, down) at least MIN_VISIBLE wide and drawn over
        # "no data", outages last, so a few minutes of "down" or seconds of "up" in a month stay visible
        # while seconds without data do not grey a bucket.
        for s, e, state in sorted(line.spans, key=lambda span: _LAYER[span[2]]):
            x0, x1 = _x(s, start, end), _x(e, start, end)
            w = max(x1 - x0, MIN_VISIBLE) if _LAYER[state] else x1 - x0
            if w < 0.05:
                continue  # far below a pixel: nothing to see
            parts.append(f'<rect class="{state}" x="{x0:.2f}" y="{y}" width="{w:.2f}" height="{row_h}" '
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
    path = "".join(_step_path(run, start, end, y) for run in _runs(chart.points))
    parts.append(f'<path d="{path}" stroke="#1565c0" stroke-width="2" fill="none"/>')
    ty = y(chart.target_value)
    target_label = escape(fmt.value(chart.target_value, chart.unit, chart.target_text))
    parts.append(f'<line x1="{LABEL}" y1="{ty:.1f}" x2="{LABEL + PLOT}" y2="{ty:.1f}" stroke="#c62828" stroke-dasharray="6 4"/>')
    parts.append(f'<text x="{LABEL - 8}" y="{ty + 4:.1f}" font-size="11" text-anchor="end" fill="#c62828">目标 {target_label}</text>')
    if known:  # the peak's label, moved off the target's when the two levels are close (capacity just above it)
        peak = max(known)
        parts.append(f'<text x="{LABEL - 8}" y="{_apart(y(peak), ty) + 4:.1f}" font-size="11" text-anchor="end">'
                     f'{escape(fmt.value(peak, chart.unit, chart.target_text))}</text>')
    else:
        parts.append(f'<text x="{LABEL + PLOT / 2}" y="{height / 2}" font-size="13" text-anchor="middle" fill="#777">无数据 no data</text>')
    parts.append("</svg>")
    return "".join(parts)


def _apart(y: float, other: float) -> float:
    """A label's ``y`` moved at least LABEL_GAP from another label's: above it when level or higher."""
    if abs(y - other) >= LABEL_GAP:
        return y
    return other - LABEL_GAP if y <= other else other + LABEL_GAP


def _runs(points: Sequence[tuple[float, float, float | None]]) -> list[list[tuple[float, float, float]]]:
    """A gauge's known steps, split where it has no value or a gap."""
    runs: list[list[tuple[float, float, float]]] = []
    previous_end: float | None = None
    for s, e, v in points:
        if v is None:
            previous_end = None
            continue
        if previous_end != s:
            runs.append([])
        runs[-1].append((s, e, v))
        previous_end = e
    return runs


def _step_path(run: Sequence[tuple[float, float, float]], start: float, end: float, y: Callable[[float], float]) -> str:
    """One run as a step line (a short dip shows as a notch), at least MIN_VISIBLE wide however short."""
    x_first = _x(run[0][0], start, end)
    steps = []
    for i, (s, e, v) in enumerate(run):
        x1 = _x(e, start, end)
        if i == len(run) - 1:
            x1 = max(x1, x_first + MIN_VISIBLE)
        steps.append(f"{'L' if i else 'M'}{_x(s, start, end):.1f},{y(v):.1f}H{x1:.1f}")
    return "".join(steps)


def _seconds(value: float) -> str:
    return f"{fmt.number(value, 2)}秒"


def histogram(dist: Distribution) -> str:
    """The latency distribution as a histogram on a logarithmic time axis, the bound as a dashed line.

    Bars at or below the bound are blue, slower ones orange; the objective's percentile
    (p95) is marked, and the percentiles, mean and share within the bound are written below.
    """
    height, top_pad = 170, 30
    bottom = top_pad + height
    total_h = bottom + 64
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="histogram" width="{WIDTH}" height="{total_h}" '
             f'viewBox="0 0 {WIDTH} {total_h}" role="img">']
    if not dist.bins:
        parts.append(f'<text x="{LABEL + PLOT / 2}" y="{top_pad + height / 2}" font-size="13" text-anchor="middle" '
                     f'fill="#777">本期无送达短信 no delivered messages</text></svg>')
        return "".join(parts)
    lo, hi = math.log2(dist.bins[0][0]), math.log2(dist.bins[-1][1])

    def x(seconds: float) -> float:
        return LABEL + (math.log2(seconds) - lo) / (hi - lo) * PLOT if hi > lo else LABEL

    peak = max(n for _, _, n in dist.bins) or 1
    bound = dist.target_value

    def y(count: float) -> float:
        return bottom - count / peak * height

    # Grid and time axis: a tick at every doubling of 10 s (10 s itself among them).
    k_first, k_last = math.ceil(lo - math.log2(10) - 1e-9), math.floor(hi - math.log2(10) + 1e-9)
    step = 1 if k_last - k_first <= 14 else 2
    for k in range(k_first, k_last + 1):
        if k % step:
            continue
        v = 10.0 * 2.0**k
        parts.append(f'<line x1="{x(v):.1f}" y1="{top_pad}" x2="{x(v):.1f}" y2="{bottom}" stroke="#eee"/>')
        parts.append(f'<text x="{x(v):.1f}" y="{bottom + 14}" font-size="11" text-anchor="middle" fill="#555">'
                     f'{fmt.number(v, 2)}</text>')
    parts.append(f'<text x="{LABEL + PLOT}" y="{bottom + 28}" font-size="11" text-anchor="end" fill="#555">'
                 f'时延（秒，对数刻度）latency, s (log scale)</text>')
    for count in (0, peak / 2, peak):
        parts.append(f'<text x="{LABEL - 8}" y="{y(count) + 4:.1f}" font-size="11" text-anchor="end" fill="#555">'
                     f'{fmt.number(count, 0)} 条</text>')
        parts.append(f'<line x1="{LABEL}" y1="{y(count):.1f}" x2="{LABEL + PLOT}" y2="{y(count):.1f}" stroke="#eee"/>')
    parts.append(f'<line x1="{LABEL}" y1="{bottom}" x2="{LABEL + PLOT}" y2="{bottom}" stroke="#999"/>')
    for lower, upper, count in dist.bins:
        if count <= 0:
            continue
        late = bound is not None and upper > bound * (1 + 1e-9)
        x0, x1 = x(lower), x(upper)
        top = min(y(count), bottom - MIN_VISIBLE)
        parts.append(f'<rect class="{"late" if late else "within"}" x="{x0 + 0.5:.1f}" y="{top:.1f}" '
                     f'width="{max(x1 - x0 - 1, 0.8):.1f}" height="{bottom - top:.1f}" '
                     f'fill="{"#ef6c00" if late else "#1565c0"}"><title>{fmt.number(lower, 2)}–{fmt.number(upper, 2)} 秒：'
                     f'{count} 条</title></rect>')
    if bound is not None and dist.bins[0][0] <= bound <= dist.bins[-1][1]:
        bx = x(bound)
        parts.append(f'<line class="bound" x1="{bx:.1f}" y1="{top_pad - 18}" x2="{bx:.1f}" y2="{bottom}" '
                     f'stroke="#c62828" stroke-width="2" stroke-dasharray="6 4"/>')
        parts.append(f'<text x="{bx + 6:.1f}" y="{top_pad - 8}" font-size="12" fill="#c62828">'
                     f'目标 ≤{_seconds(bound)} bound</text>')
    markers = dict(dist.markers)
    if "p95" in markers and dist.bins[0][0] <= markers["p95"] <= dist.bins[-1][1]:
        px = x(markers["p95"])
        parts.append(f'<line class="p95" x1="{px:.1f}" y1="{top_pad + 4}" x2="{px:.1f}" y2="{bottom}" stroke="#222"/>')
        parts.append(f'<text x="{px - 5:.1f}" y="{top_pad + 14}" font-size="11" text-anchor="end">'
                     f'p95 {_seconds(markers["p95"])}</text>')
    names = {"mean": "均值 mean"}
    summary = [f"{names.get(k, k)} {_seconds(v)}" for k, v in dist.markers]
    if dist.within is not None and bound is not None:
        summary.append(f"{_seconds(bound)}内送达 {fmt.percent(dist.within, '>=')} within the bound")
    summary.append(f"共 {fmt.number(sum(n for _, _, n in dist.bins), 0)} 条")
    parts.append(f'<text x="{LABEL}" y="{bottom + 50}" font-size="12">{escape(" · ".join(summary))}</text>')
    if bound is not None:
        for i, (colour, text) in enumerate((("#1565c0", f"≤{_seconds(bound)}"), ("#ef6c00", f">{_seconds(bound)}"))):
            lx = LABEL + PLOT - 150 + i * 80
            parts.append(f'<rect x="{lx}" y="{bottom + 40}" width="12" height="12" fill="{colour}"/>')
            parts.append(f'<text x="{lx + 16}" y="{bottom + 50}" font-size="11">{escape(text)}</text>')
    parts.append("</svg>")
    return "".join(parts)
