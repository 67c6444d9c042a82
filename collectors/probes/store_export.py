"""The HTTP probes in the store-based export: each probe's outcome from ``sla_probe_success``, sampled at the scrape interval."""

from __future__ import annotations

from typing import Any

from agent.export.prometheus_source import label, regex_of
from agent.export.store_sampled import Sampled, SampledStore
from agent.kpi_types import Plan
from collectors.probes.series import probe_up


def _families(plan: Plan) -> tuple[Sampled, ...]:
    probes = [name.split(":")[1] for name in plan.inputs]
    selector = f'sla_probe_success{{probe=~"{regex_of(probes)}"}}'
    return (Sampled(selector, f"max by (probe) ({selector})", lambda labels: probe_up(label(labels, "probe") or "")),)


def probe_store(view: Any) -> SampledStore:
    return SampledStore(view, _families)
