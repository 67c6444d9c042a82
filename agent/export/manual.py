"""Manual indicator values: the YAML file the center's staff keep, one block per period.

::

    2026-11:
      magazine_issues: 1
      staff_turnover: 4.5%
      network_fault_timeliness: 及时
      citizen_satisfaction: {value: 满意, note: 问卷 96% 满意}
    2026H1:
      security_services: 4

Keys are period labels (``YYYY-MM``, ``YYYYQn``, ``YYYYHn``, ``YYYY``) and the
layout's row ids. Every problem is one line ``FILE: path: problem``, all at
once, as for the config. A row without a value reads 未填报, never 达标.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence
from zoneinfo import ZoneInfo


from agent import periods, units
from agent.export.layout import LayoutRow
from agent.periods import Period
from agent.schema import ConfigError
from agent.yamlfile import read_yaml


@dataclass(frozen=True, slots=True)
class ManualEntry:
    """One reported value of one indicator for one period."""

    period: Period
    value: float | str  # base units (ratio 0-1, seconds, count) or text
    met: bool | None = None  # the staff's own judgement, for text values
    note: str = ""


ManualValues = Mapping[str, Sequence[ManualEntry]]  # row id -> entries, oldest first


def _number(raw: Any, row: LayoutRow) -> float:
    if isinstance(raw, bool):
        raise ValueError(f"expected a {row.kind}, not {raw!r}")
    if row.kind == "ratio":
        if isinstance(raw, str) and raw.strip().endswith("%"):
            number = float(raw.strip()[:-1]) / 100.0
        elif isinstance(raw, (int, float)):
            number = float(raw)
        else:
            raise ValueError(f"expected a percentage such as 99.5% or a ratio 0-1, not {raw!r}")
        if not 0.0 <= number <= 1.0:
            raise ValueError(f"{raw!r} is not between 0% and 100%")
        return number
    if row.kind == "seconds":
        return units.parse_duration(raw)
    if not isinstance(raw, (int, float)):
        raise ValueError(f"expected a number, not {raw!r}")
    if raw < 0:
        raise ValueError("a count cannot be negative")
    return float(raw)


def _entry(raw: Any, row: LayoutRow, period: Period) -> ManualEntry | None:
    met: bool | None = None
    note = ""
    if isinstance(raw, dict):
        extra = set(raw) - {"value", "met", "note"}
        if extra:
            raise ValueError(f"unknown key {sorted(extra)[0]!r} (use value, met, note)")
        if "met" in raw and not isinstance(raw["met"], bool):
            raise ValueError("met must be true or false")
        met, note, raw = raw.get("met"), str(raw.get("note") or ""), raw.get("value")
    if raw is None or raw == "":
        if met is not None:
            raise ValueError("met needs a value: a row without a value is 未填报")
        return None  # left blank on purpose: 未填报
    if row.kind == "text":
        text = str(raw).strip()
        if met is None and text != row.target_text.strip():
            raise ValueError(f"{text!r} differs from the target {row.target_text!r}: add met: true or false")
        return ManualEntry(period, text, met if met is not None else True, note)
    return ManualEntry(period, _number(raw, row), met, note)


def parse_manual(data: Any, source: str, layout: Sequence[LayoutRow], zone: ZoneInfo) -> dict[str, list[ManualEntry]]:
    """Validate parsed YAML against the layout; ConfigError with every problem."""
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError([f"{source}: (top level): expected a mapping of periods (2026-11: {{...}})"])
    rows = {row.id: row for row in layout}
    problems: list[str] = []
    values: dict[str, list[ManualEntry]] = {}
    for key, block in data.items():
        label = str(key)
        try:
            _, period = periods.parse_any(label, zone)
        except ValueError as exc:
            problems.append(f"{source}: {label}: {exc}")
            continue
        if block is None:
            continue
        if not isinstance(block, dict):
            problems.append(f"{source}: {label}: expected a mapping of indicator ids to values")
            continue
        for name, raw in block.items():
            where = f"{source}: {label}.{name}"
            row = rows.get(str(name))
            if row is None:
                problems.append(f"{where}: unknown indicator (see the ids in agent/export/table12.yaml)")
                continue
            if row.kpi is not None:
                problems.append(f"{where}: measured by the agent (KPI {row.kpi}), not reported by hand")
                continue
            try:
                entry = _entry(raw, row, period)
            except ValueError as exc:
                problems.append(f"{where}: {exc}")
                continue
            if entry is None:
                continue
            clash = next((e for e in values.get(row.id, ()) if e.period.start < period.end and period.start < e.period.end), None)
            if clash is not None:
                # Overlapping periods would be counted twice in a sum: one figure per stretch of time.
                problems.append(f"{where}: overlaps {clash.period.label} (give one or the other)")
                continue
            values.setdefault(row.id, []).append(entry)
    if problems:
        raise ConfigError(problems)
    for entries in values.values():
        entries.sort(key=lambda e: (e.period.start, e.period.end))
    return values


def load_manual(path: str | Path, layout: Sequence[LayoutRow], zone: ZoneInfo) -> dict[str, list[ManualEntry]]:
    """Read and validate a manual-values file."""
    path = Path(path)
    data = read_yaml(path)
    return parse_manual(data, str(path), layout, zone)
