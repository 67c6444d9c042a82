"""The report's data types: rows, chart data and the report itself (no logic)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Mapping

from agent.export.format import Figure, Lang
from agent.periods import Period, PeriodKind

Status = Literal["met", "not_met", "insufficient", "not_reported"]
Source = Literal["measured", "manual", "unconfigured"]

STATUS_ZH: dict[str, str] = {"met": "达标", "not_met": "未达标", "insufficient": "数据不足", "not_reported": "未填报"}
STATUS_EN: dict[str, str] = {"met": "met", "not_met": "not met", "insufficient": "insufficient data",
                             "not_reported": "not reported"}
UNIT_NAME = "深圳市大数据资源管理中心"


def status_text(status: str, lang: Lang) -> str:
    """What the 是否达标 column says: Chinese always, English alongside with ``--lang en``."""
    return STATUS_ZH[status] if lang == "zh" else f"{STATUS_ZH[status]} ({STATUS_EN[status]})"


@dataclass(frozen=True, slots=True)
class Outage:
    """A stretch of "down" of one input series, clipped to the report window."""

    series: str
    start: float
    end: float
    seconds: float  # down time outside maintenance (what the availability figure counts)


@dataclass(frozen=True, slots=True)
class Row:
    """One row of the report, formatted for people and with raw figures for machines."""

    id: str
    source: Source
    level1: str
    level2: str
    name: str  # 三级指标 (with the target's part for multi-target indicators)
    name_en: str
    target_text: str  # 目标值 as written
    actual: str  # 实际完成值, formatted like the target
    status: Status
    note: str
    kpi: str | None = None
    unit: str | None = None  # base unit of ``value`` (ratio, bytes_per_second, bytes, seconds, count, text)
    value: float | str | None = None  # raw, base units
    actual_figure: Figure | None = None  # ``actual`` as a number for spreadsheets (None: it is text)
    target_op: str | None = None
    target_value: float | None = None  # the threshold applied (pro-rated where the row is to-date)
    target_full: float | None = None  # the threshold as set for the whole target period
    period: PeriodKind = "month"  # the period the target is set for
    window_start: float | None = None  # what the figure covers (year-to-date for yearly totals)
    window_end: float | None = None
    coverage: float | None = None  # share of the window (maintenance excluded) with data
    maintenance_seconds: float | None = None  # wall-clock maintenance time excluded
    minimum: float | None = None
    compliance: float | None = None
    objective: float | None = None
    report_period_value: float | None = None  # the report period's own figure when ``value`` is to-date
    outages: tuple[Outage, ...] = ()
    details: Mapping[str, float] = field(default_factory=dict)
    part_of: str | None = None  # a sub-row: the id of the row whose KPI it is one part of (a business system)


@dataclass(frozen=True, slots=True)
class Timeline:
    """One input series of an availability KPI as coloured stretches: up, down, unknown, maintenance."""

    kpi: str
    title: str
    series: str
    spans: tuple[tuple[float, float, str], ...]


@dataclass(frozen=True, slots=True)
class GaugeChart:
    """A gauge KPI's summed value over the period (step line), with its target."""

    kpi: str
    title: str
    unit: str
    target_text: str
    target_value: float
    points: tuple[tuple[float, float, float | None], ...]  # (start, end, value) segments


@dataclass(frozen=True, slots=True)
class Distribution:
    """A latency KPI's distribution over the period (SMS send speed): a histogram of the stored bins.

    ``bins`` are consecutive (lower, upper, count) in seconds, empty ones included, with the
    bound ``target_value`` on an edge; ``markers`` are the percentiles and mean of the KPI's
    details (``p95``: seconds); ``within`` is the share at or below the bound.
    """

    kpi: str
    title: str
    bins: tuple[tuple[float, float, int], ...]
    target_value: float | None
    markers: tuple[tuple[str, float], ...] = ()
    within: float | None = None


@dataclass(frozen=True, slots=True)
class Charts:
    timelines: tuple[Timeline, ...] = ()
    gauges: tuple[GaugeChart, ...] = ()
    distributions: tuple[Distribution, ...] = ()


@dataclass(frozen=True, slots=True)
class Report:
    period: Period
    kind: PeriodKind
    until: float  # figures run to here: the period's end, or now for a running period
    generated_at: float
    timezone: str
    lang: Lang
    rows: tuple[Row, ...]
    charts: Charts = Charts()
    unit_name: str = UNIT_NAME
    store_url: str = ""  # the Prometheus API the measured rows come from; "" for the ledger

    @property
    def complete(self) -> bool:
        return self.until >= self.period.end
