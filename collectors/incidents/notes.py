"""The export's 说明 for the incident KPIs: how many were raised, resolved, open, and in time."""

from __future__ import annotations

from typing import Sequence

from agent.export.format import Lang
from agent.export.notes import Show
from agent.export.rows import Outage
from agent.kpi_definition import KpiDefinition
from agent.kpi_types import KpiResult


def incident_note(definition: KpiDefinition, result: KpiResult, outages: Sequence[Outage], show: Show,
                  lang: Lang) -> list[str]:
    d = result.details
    raised, resolved, still_open = (int(d.get(k, 0)) for k in ("raised", "resolved", "open"))
    if not raised:
        return ["本期无故障" if lang == "zh" else "no incident raised"]
    if "within_bound" in d:
        hours = d.get("bound_seconds", 0) / 3600
        within = int(d["within_bound"])
        return [f"网络故障 {raised} 起，{hours:g} 小时内处理 {within} 起，未结束 {still_open} 起" if lang == "zh" else
                f"{raised} network incidents, {within} resolved within {hours:g} h, {still_open} open"]
    return [f"故障 {raised} 起，已处理 {resolved} 起，未结束 {still_open} 起" if lang == "zh" else
            f"{raised} incidents, {resolved} resolved, {still_open} open"]
