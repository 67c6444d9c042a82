"""The power source: UPS and distribution cabinets over SNMP; the data center's zero-fault KPI."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Mapping

from agent.config import Config
from agent.sources import KindSpec, SourceSpec
from collectors.base import Collector
from collectors.power import kpi

if TYPE_CHECKING:
    from agent.generators.queries import KpiQueries, Sli

COVERAGE_HINT = (
    "供电 KPI 的覆盖率是能读到 UPS 与配电柜状态的时间：SNMP 轮询失败或某个必需的 OID 读不到时，"
    "该单元状态未知，既不算故障也不算正常（sla_target_up{collector=\"power\"}）。",
    " For the power KPI coverage is the unit-time with a known state: while a unit's SNMP poll fails or a "
    "required OID is missing, its state is unknown, neither fault nor normal (sla_target_up{collector=\"power\"}).",
)


def dashboards(config: Config, queries: list[KpiQueries], job: str) -> dict[str, Any]:
    from collectors.power.dashboard import power  # generators only: not imported by the running agent

    return {"sla-power.json": power(queries, job)} if getattr(config, "power", ()) else {}


def alerts(config: Config, job: str, runbooks: str) -> list[tuple[str, list[dict[str, Any]]]]:
    from collectors.power.alerts import alerts as power_alerts  # generators only

    return power_alerts(config, job, runbooks)


def note(*args: Any) -> list[str]:
    from collectors.power.notes import fault_events  # the export only: not imported by the running agent

    return fault_events(*args)


def build(config: Config, ledger: Any) -> list[Collector]:
    if not config.power:
        return []
    from collectors.power.collector import PowerCollector

    return [PowerCollector(config.power, config.snmp.devices, config.snmp.defaults, ledger)]


def slis() -> Mapping[str, Sli]:
    from collectors.power.queries import SLIS  # generators only

    return SLIS


def intervals(config: Config) -> list[float]:
    return [unit.interval for unit in config.power]


def counts(config: Config) -> list[tuple[int, str]]:
    return [(len(config.power), "power units")]


def shard(config: Config, owns: Callable[[str, str], bool]) -> dict[str, Any]:
    # A unit goes with its SNMP device: the shard that keeps the device keeps the unit, so its
    # device is always in the shard's config (the SNMP source keeps the devices it owns).
    return {"power": tuple(u for u in config.power if owns("snmp", u.device))}


def store(view: Any) -> Any:
    from collectors.power.store_export import power_store  # the store-based export only

    return power_store(view)


SOURCE = SourceSpec(
    name="power", serves=("power",), inputs=kpi.power_inputs, parts=kpi.power_parts, collectors=build,
    kinds=(KindSpec("fault_count", kpi.fault_count,
                    met_help="1 when the power faults that began month-to-date (UPS and cabinets, maintenance "
                             "excluded) number {target}", note=note),),
    coverage_hint=COVERAGE_HINT, dashboards=dashboards, alerts=alerts, slis=slis,
    intervals=intervals, counts=counts, shard=shard,
    store=store,
)
