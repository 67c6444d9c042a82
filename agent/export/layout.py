"""The layout of the evaluation table (table 12, 单位整体支出绩效目标表) as data.

``table12.yaml`` lists every row of the table in order, verbatim: rows the
agent measures name a catalogue KPI (``kpi``), the others carry what a manual
entry needs (kind, machine-readable target, aggregation over months). The
catalogue stays the source of truth for measured KPIs; the layout only says
where they sit, so a new KPI needs no layout change (see agent.export.model).
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any, Literal

import yaml
from pydantic import Field, ValidationError, model_validator

from agent import units
from agent.config_keys import error_message
from agent.periods import PeriodKind
from agent.schema import ConfigError, Items, Model

ManualKind = Literal["count", "ratio", "seconds", "text"]
Aggregate = Literal["sum", "mean", "last"]
LAYOUT_FILE = "table12.yaml"


class Milestone(Model):
    """A cumulative count due by a day of the year, e.g. one test by 30 June."""

    by: str = Field(pattern=r"^\d{2}-\d{2}$")  # MM-DD, inclusive
    count: float = Field(ge=0)


class LayoutRow(Model):
    """One row of table 12 (one target: an indicator with three targets has three rows)."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")  # key of manual values; a KPI id for measured rows
    level1: str  # 一级指标
    level2: str  # 二级指标 ("" where the table has none: 成本)
    name: str  # 三级指标, verbatim
    name_en: str
    part: str | None = None  # which target of a multi-target indicator, e.g. "CPU"
    part_en: str | None = None
    target_text: str  # 目标值, verbatim
    kpi: str | None = None  # catalogue id of the KPI that measures this row
    period: PeriodKind = "month"  # the period the target is set for
    kind: ManualKind = "text"  # what a manual value is
    target: str | None = None  # machine-readable target of a manual value, e.g. ">= 4"
    aggregate: Aggregate = "last"  # manual values of several months: summed, averaged or the latest
    prorate: bool = False  # compare to-date against the target pro-rated by days
    milestones: Items[Milestone] = ()  # instead of pro-rating: counts due by dates
    suffix: str = ""  # written after a manual number when the target text has none to copy

    @model_validator(mode="after")
    def _consistent(self) -> "LayoutRow":
        if self.kind == "text" and (self.target or self.milestones or self.aggregate != "last"):
            raise ValueError("text rows take no target, milestones or aggregate")
        if self.kind != "text" and self.kpi is None and self.target is None:
            raise ValueError(f"a {self.kind} row needs a machine-readable target")
        if self.target is not None:
            units.parse_target(self.target, self.kind)
        return self

    @property
    def display_name(self) -> str:
        return f"{self.name}（{self.part}）" if self.part else self.name

    @property
    def display_name_en(self) -> str:
        return f"{self.name_en} ({self.part_en})" if self.part_en else self.name_en


def parse_layout(data: Any, source: str) -> tuple[LayoutRow, ...]:
    """Validate a layout document; ConfigError with ``source: rows[i].key: problem`` lines."""
    if not isinstance(data, dict) or not isinstance(data.get("rows"), list):
        raise ConfigError([f"{source}: (top level): expected a mapping with a list of rows"])
    rows: list[LayoutRow] = []
    problems: list[str] = []
    for i, raw in enumerate(data["rows"]):
        try:
            rows.append(LayoutRow.model_validate(raw))
        except ValidationError as exc:
            for error in exc.errors(include_url=False, include_input=False):
                where = ".".join(str(p) for p in error["loc"] if not str(p).startswith("function-"))
                problems.append(f"{source}: rows[{i}]{'.' + where if where else ''}: {error_message(LayoutRow, error)}")
        except ValueError as exc:
            problems.append(f"{source}: rows[{i}]: {exc}")
    seen: set[str] = set()
    for i, row in enumerate(rows):
        if row.id in seen:
            problems.append(f"{source}: rows[{i}].id: duplicate id {row.id!r}")
        seen.add(row.id)
    if problems:
        raise ConfigError(problems)
    return tuple(rows)


@cache
def table12() -> tuple[LayoutRow, ...]:
    """The bundled layout of table 12."""
    try:
        text = resources.files("agent.export").joinpath(LAYOUT_FILE).read_text(encoding="utf-8")
    except FileNotFoundError:  # an install that left the package data out (pyproject package-data)
        raise ConfigError([f"agent/export/{LAYOUT_FILE}: missing from this installation of sla-agent"]) from None
    return parse_layout(yaml.safe_load(text), f"agent/export/{LAYOUT_FILE}")
