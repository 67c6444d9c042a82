"""The SMS source: gateways' delivery records and an optional canary; delivery rate, send speed, annual volume."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Mapping

from prometheus_client.utils import floatToGoString

from agent.catalogue import KpiDefinition
from agent.config import Config, KpiConfig
from agent.sources import KindSpec, SourceSpec
from agent.units import Target
from collectors.base import Collector
from collectors.sms import kpi as sms

if TYPE_CHECKING:
    from agent.generators.queries import KpiQueries, Sli


def query_labels(definition: KpiDefinition, kpi: KpiConfig, target: Target) -> tuple[dict[str, str], dict[str, str]]:
    """The gateways (all when empty) and the latency bound as the histogram's ``le``."""
    return {}, {"gateways": "|".join(getattr(kpi, "gateways", None) or ()), "le": floatToGoString(target.value)}


# The SMS KPIs' coverage is the feed time read without a gap (collectors/sms/coverage.py), not uptime.
COVERAGE_HINT = (
    "短信 KPI 的覆盖率是无缺口读完的记录流时间：停机期间在从游标续读后即补齐，缺口只来自游标重置"
    "（sla_sms_cursor_resets_total，代理日志写明缺口起止）或首次读取之前（backfill）。",
    " For the SMS KPIs coverage is the feed time read without a gap: time the agent or gateway was away is "
    "covered once the feed is read up from its cursor; gaps come only from cursor resets "
    "(sla_sms_cursor_resets_total; the agent logs each gap's ends) or from before the first read (backfill).",
)


# A feed's coverage is caught up from its cursor; the canary feeds no KPI.
TARGET_DOWN_HINT = (
    "；短信记录流的覆盖率暂停增长，恢复后从游标续读即补齐，游标被重置时除外"
    "（拨测对象 sms_canary 不进入 KPI，失败即拨测短信未能发出或未获回执）",
    "; an SMS feed's coverage stops growing until the feed is read again from its cursor, which covers the "
    "time missed unless the cursor is reset (an sms_canary target feeds no KPI: its test message could not be "
    "sent or got no final status in time)",
)


def dashboards(config: Config, queries: list[KpiQueries], job: str) -> dict[str, Any]:
    # generators only: not imported by the running agent
    from collectors.sms.alerts import canary_queries
    from collectors.sms.dashboard import sms

    return {"sla-sms.json": sms(queries, job, canary_queries(config, job))} if getattr(config, "sms", ()) else {}


def store(view: Any) -> Any:
    from collectors.sms.store_export import SmsStore  # the store-based export only

    return SmsStore(view)


def build(config: Config, ledger: Any) -> list[Collector]:
    collectors: list[Collector] = []
    if config.sms:
        from collectors.sms.collector import SmsCollector

        collectors.append(SmsCollector(config.sms, ledger))
    if any(gateway.canary is not None for gateway in config.sms):
        from collectors.sms.canary import SmsCanaryCollector

        collectors.append(SmsCanaryCollector(config.sms))
    return collectors


def intervals(config: Config) -> list[float]:
    found = [gateway.interval for gateway in config.sms]
    return found + [gateway.canary.interval for gateway in config.sms if gateway.canary is not None]


def alerts(config: Config, job: str, runbooks: str) -> list[tuple[str, list[dict[str, Any]]]]:
    from collectors.sms.alerts import alerts as canary  # generators only: not imported by the running agent

    return canary(config, job, runbooks)


def slis() -> Mapping[str, Sli]:
    from collectors.sms.queries import SLIS  # generators only: not imported by the running agent

    return SLIS


def counts(config: Config) -> list[tuple[int, str]]:
    return [(len(config.sms), "SMS gateways")]


def shard(config: Config, owns: Callable[[str, str], bool]) -> dict[str, Any]:
    return {"sms": tuple(g for g in config.sms if owns("sms", g.name))}


SOURCE = SourceSpec(
    name="sms", serves=("sms",), inputs=sms.sms_inputs, collectors=build, query_labels=query_labels,
    coverage_hint=COVERAGE_HINT, target_down_hint=TARGET_DOWN_HINT, dashboards=dashboards,
    kinds=(
        KindSpec("delivery_rate", sms.delivery_rate,
                 met_help="1 when the month-to-date delivery rate (delivered / final messages) is {target}"),
        KindSpec("latency_within", sms.latency_within, histogram=sms.latency_bars,
                 histogram_texts=("短信发送时延分布 SMS latency distribution",
                                  "暂无短信时延指标数据（短信 KPI 配置后显示）。No SMS latency KPI with data."),
                 met_help="1 when the share of delivered messages reported within {bound} reaches {objective}"),
        KindSpec("annual_volume", sms.annual_volume, on_pace=True,
                 met_help="1 when on pace for the year: messages submitted so far this year are {target} "
                          "pro-rated by the share of the year elapsed"),
    ),
    slis=slis,
    alerts=alerts,
    intervals=intervals,
    counts=counts,
    shard=shard,
    store=store,
)
