"""PromQL of the cloud source's KPIs (agent/generators/queries.py): the capacity the clouds offer."""

from __future__ import annotations

from typing import Mapping

from agent.generators.queries import CapacitySli, Sli, selector

_CLOUD_METRIC = {
    "vcpu": "sla_cloud_vcpu_capacity",
    "memory": "sla_cloud_memory_capacity_bytes",
    "storage": "sla_cloud_storage_capacity_bytes",
}


def _cloud_capacity(q: Mapping[str, str]) -> CapacitySli:
    metric = _CLOUD_METRIC[q["resource"]]
    labels = {"job": q["job"]}
    if q.get("clouds"):
        labels["cloud"] = "~" + q["clouds"]
    return CapacitySli(expr=f"sum({metric}{selector(**labels)})", metrics=(metric,))


SLIS: Mapping[str, Sli] = {"capacity_sum": _cloud_capacity}
