"""The security scan source: OWASP ZAP report directories; the 网站安全检测结果 KPI."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Mapping

from agent.config import Config, KpiConfig
from agent.kpi_definition import KpiDefinition
from agent.sources import KindSpec, SourceSpec
from agent.units import Target
from collectors.base import Collector
from collectors.scans import kpi

if TYPE_CHECKING:
    from agent.generators.queries import KpiQueries, Sli


def query_labels(definition: KpiDefinition, kpi_config: KpiConfig, target: Target) -> tuple[dict[str, str], dict[str, str]]:
    """The scans the KPI names (all when empty)."""
    return {}, {"scans": "|".join(getattr(kpi_config, "scans", None) or ())}


# Coverage of latest_count is the share of scans with a known figure, not of time (collectors/scans/kpi.py).
COVERAGE_HINT = (
    "网站安全检测结果的覆盖率是本期内有已知结果的扫描所占比例：某个扫描整期都没有可用的最新报告"
    "（目录为空、不可读，或最新报告损坏，见 SlaTargetDown 与 sla_scan_reports_rejected_total）时即不计入。",
    " For the website security KPI coverage is the share of its scans with a known figure in the period: a scan "
    "whose directory was empty or unreadable, or whose newest report could not be used, all period long has none "
    "(see SlaTargetDown and sla_scan_reports_rejected_total).",
)


def dashboards(config: Config, queries: list[KpiQueries], job: str) -> dict[str, Any]:
    from collectors.scans.dashboard import scans  # generators only: not imported by the running agent

    return {"sla-scans.json": scans(queries, job)} if getattr(config, "security_scans", ()) else {}


def alerts(config: Config, job: str, runbooks: str) -> list[tuple[str, list[dict[str, Any]]]]:
    from collectors.scans.alerts import alerts as scan_alerts  # generators only

    return scan_alerts(config, job, runbooks)


def note(*args: Any) -> list[str]:
    from collectors.scans.notes import latest_report  # the export only: not imported by the running agent

    return latest_report(*args)


def build(config: Config, ledger: Any) -> list[Collector]:
    if not config.security_scans:
        return []
    from collectors.scans.collector import ScanCollector

    return [ScanCollector(config.security_scans, config.agent.zone)]


def slis() -> Mapping[str, Sli]:
    from collectors.scans.queries import SLIS  # generators only: not imported by the running agent

    return SLIS


def intervals(config: Config) -> list[float]:
    return [scan.interval for scan in config.security_scans]


def counts(config: Config) -> list[tuple[int, str]]:
    return [(len(config.security_scans), "security scans")]


def shard(config: Config, owns: Callable[[str, str], bool]) -> dict[str, Any]:
    return {"security_scans": tuple(s for s in config.security_scans if owns("scan", s.name))}


def store(view: Any) -> Any:
    from collectors.scans.store_export import scan_store  # the store-based export only

    return scan_store(view)


SOURCE = SourceSpec(
    name="scans", serves=("security_scan",), inputs=kpi.scan_inputs, collectors=build,
    kinds=(KindSpec("latest_count", kpi.latest_count,
                    met_help="1 when the medium and high findings of each selected scan's latest report, summed, "
                             "are {target}", note=note),),
    query_labels=query_labels, coverage_hint=COVERAGE_HINT, dashboards=dashboards, alerts=alerts, slis=slis,
    intervals=intervals, counts=counts, shard=shard,
    store=store,
)
