"""The shape of a KPI catalogue row (agent/catalogue.py), which each source's kpis.py fills in."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# How a KPI is computed from ledger series: a kind the source registry knows (agent/sources.py),
# the engine's generic ones (availability, capacity_sum: agent/kpi.py) or a source's own.
KpiKind = str
Unit = Literal["ratio", "bytes_per_second", "bytes", "seconds", "count"]
# Where a KPI's input series come from: a catalogue source some collectors/ package serves
# (its SourceSpec.serves), e.g. the links of one configured link group.
Source = str


@dataclass(frozen=True, slots=True)
class KpiDefinition:
    id: str
    name_zh: str  # 三级指标, verbatim from the evaluation table
    name_en: str
    level1: str  # 一级指标
    level2: str  # 二级指标
    kind: KpiKind
    unit: Unit
    target: str  # 目标值 as a comparison in config syntax, e.g. ">= 99%"
    target_text: str  # 目标值 as written in the table, e.g. "≥99%"
    objective: float | None  # share of time in compliance needed (gauge kinds)
    source: Source
    description: str
    # For cloud KPIs: the resource whose capacity is summed (vcpu, memory, storage).
    resource: str | None = None
