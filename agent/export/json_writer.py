"""JSON: every row with its formatted strings and its raw figures in base units."""

from __future__ import annotations

import json
import math
from dataclasses import asdict
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from agent.export import columns
from agent.export.rows import Report, Row, status_text

FORMAT_VERSION = 1


def _iso(ts: float | None, zone: ZoneInfo) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, zone).isoformat()


def _clean(value: Any) -> Any:
    """NaN and infinities are not JSON: they become null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def row_dict(row: Row, report: Report) -> dict[str, Any]:
    zone = ZoneInfo(report.timezone)
    raw = asdict(row)
    raw.pop("outages")
    raw.pop("actual_figure")  # the spreadsheet's form of ``actual``; ``value`` is the raw figure
    return {
        **{k: _clean(v) for k, v in raw.items() if k not in ("details",)},
        "status_text": status_text(row.status, report.lang),
        "coverage_text": columns.coverage_text(row),
        "maintenance_text": columns.maintenance_text(row, report.lang),
        "window_start_iso": _iso(row.window_start, zone),
        "window_end_iso": _iso(row.window_end, zone),
        "details": {k: _clean(v) for k, v in row.details.items()},
        "outages": [
            {"series": o.series, "start": o.start, "end": o.end, "seconds": o.seconds,
             "start_iso": _iso(o.start, zone), "end_iso": _iso(o.end, zone)}
            for o in row.outages
        ],
    }


def document(report: Report) -> dict[str, Any]:
    zone = ZoneInfo(report.timezone)
    return {
        "format_version": FORMAT_VERSION,
        "unit": report.unit_name,
        "period": {
            "label": report.period.label, "kind": report.kind, "start": report.period.start,
            "end": report.period.end, "until": report.until, "complete": report.complete,
            "start_iso": _iso(report.period.start, zone), "end_iso": _iso(report.period.end, zone),
            "until_iso": _iso(report.until, zone), "timezone": report.timezone,
        },
        "generated_at": report.generated_at,
        "generated_at_iso": _iso(report.generated_at, zone),
        "lang": report.lang,
        "units": "raw figures are in base units: ratio 0-1, bytes_per_second, bytes, seconds, count",
        "rows": [row_dict(row, report) for row in report.rows],
    }


def render(report: Report) -> bytes:
    return (json.dumps(document(report), ensure_ascii=False, indent=2) + "\n").encode("utf-8")
