"""The KPI catalogue: the one source of truth for every indicator.

Each entry mirrors a row of the evaluation table (table 12 of the center's
budget: 一级指标 / 二级指标 / 三级指标 / 目标值) plus how the agent measures it.
Exposition, the README's KPI table, and later the rules, dashboards and the
monthly export are all derived from here; a config may override a target or
objective, or add a KPI of a known kind, but never restates the table.
The rows are each source's own (collectors/<source>/kpis.py); this module
holds their shape and puts them together in collector order.
"""

from __future__ import annotations

import importlib

from agent.kpi_definition import KpiDefinition, KpiKind, Source, Unit

__all__ = ["BY_ID", "CATALOGUE", "KpiDefinition", "KpiKind", "Source", "Unit"]


def _rows() -> tuple[KpiDefinition, ...]:
    # Each source package's rows (its kpis.py's KPIS), in collector order, read on
    # importing this module.
    import collectors

    return tuple(row for name in collectors.PACKAGES for row in importlib.import_module(f"collectors.{name}.kpis").KPIS)


CATALOGUE: tuple[KpiDefinition, ...] = _rows()
BY_ID: dict[str, KpiDefinition] = {kpi.id: kpi for kpi in CATALOGUE}
