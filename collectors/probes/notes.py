"""The export's 说明 for a platform judged system by system (worst_availability)."""

from __future__ import annotations

from typing import Sequence

from agent.export.format import Lang
from agent.export.notes import Show, availability
from agent.export.rows import Outage
from agent.kpi_definition import KpiDefinition
from agent.kpi_types import KpiResult


def worst_system(definition: KpiDefinition, result: KpiResult, outages: Sequence[Outage], show: Show,
                 lang: Lang) -> list[str]:
    """``最差业务系统 venue-code 96.7%；4 个业务系统中 4 个达标`` and the probes' outages."""
    known = {name: part for name, part in result.parts.items() if part.value is not None}
    if not known:
        return []
    worst, figure = min(known.items(), key=lambda item: item[1].value or 0.0)
    met = sum(1 for part in known.values() if part.met)
    value = show(figure.value or 0.0)
    zh = f"最差业务系统 {worst} {value}；{len(result.parts)} 个业务系统中 {met} 个达标"
    en = f"worst business system {worst} {value}; {met} of {len(result.parts)} systems meet the target"
    missing = len(result.parts) - len(known)
    if missing:
        zh += f"，{missing} 个无数据"
        en += f", {missing} without data"
    return [zh if lang == "zh" else en, *availability(definition, result, outages, show, lang)]


__all__ = ["worst_system"]
