"""Data-center power in the store-based export: each unit's conditions from ``sla_power_fault``, sampled at the scrape interval.

A unit is in fault while any of its conditions is 1 (``max by (unit)``). The
ledger calls the fault unknown when a condition is unknown and none holds; the
store has no sample for such a condition, so there the others decide.
"""

from __future__ import annotations

from typing import Any

from agent.export.prometheus_source import label, regex_of
from agent.export.store_sampled import Sampled, SampledStore
from agent.kpi_types import Plan
from collectors.power.series import unit_condition, unit_fault


def _families(plan: Plan) -> tuple[Sampled, ...]:
    selector = f'sla_power_fault{{unit=~"{regex_of(plan.parts)}"}}'
    return (
        Sampled(selector, f"max by (unit) ({selector})", lambda labels: unit_fault(label(labels, "unit") or "")),
        Sampled(selector, f"max by (unit, condition) ({selector})",
                lambda labels: unit_condition(label(labels, "unit") or "", label(labels, "condition") or "")),
    )


def power_store(view: Any) -> SampledStore:
    return SampledStore(view, _families)
