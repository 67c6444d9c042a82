"""The cloud source in the store-based export: each region's offered capacity, a gauge sampled at the scrape interval."""

from __future__ import annotations

from agent.export.prometheus_source import label, regex_of
from agent.export.store_view import GaugeQuery, StoreView, gauge_note
from agent.kpi_types import KpiResult, Plan
from agent.periods import Period
from collectors.cloud.series import cloud as cloud_series

CAPACITY_METRICS = {"vcpu": "sla_cloud_vcpu_capacity", "memory": "sla_cloud_memory_capacity_bytes",
                    "storage": "sla_cloud_storage_capacity_bytes"}


class CloudStore:
    def __init__(self, view: StoreView):
        self._view = view

    def evaluate(self, plan: Plan, period: Period) -> KpiResult | None:
        return None  # capacity is a gauge: the export's own evaluation of gauge_query's samples

    def gauge_query(self, plan: Plan) -> GaugeQuery:
        resource = plan.definition.resource or ""
        clouds = tuple(sorted({name.split(":")[1] for name in plan.inputs}))
        probe = f'{CAPACITY_METRICS[resource]}{{cloud=~"{regex_of(clouds)}"}}'
        return GaugeQuery(probe, f"max by (cloud, region) ({probe})",
                          lambda labels: cloud_series(label(labels, "cloud") or "", label(labels, "region") or "",
                                                      resource, "capacity"))

    def note(self, kind: str, step: float | None, lang: str) -> str:
        return gauge_note(step, lang) if kind == "capacity_sum" else ""
