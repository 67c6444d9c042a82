"""The power source's own alert (generators only): a fault condition holding on a UPS or cabinet.

The KPI counts faults after the fact; the people on duty need to know while
the UPS is still on battery. So every condition that holds for a minute pages,
per unit and condition, from the collector's own sla_power_fault. A unit that
cannot be read is not this alert: its target goes down (SlaTargetDown).
"""

from __future__ import annotations

from typing import Any

from agent.config import Config, kpi_definition
from agent.generators.alert_texts import runbook
from agent.generators.queries import selector

POWER_FAULT = "SlaPowerFault"
FOR = "1m"  # a transfer to battery and back within seconds is the UPS doing its job; a minute is a fault
SEVERITY = "page"  # on battery the load has minutes: someone must look now

SUMMARY = "数据中心供电故障 / Data-center power fault"
DESCRIPTION = (
    "供电单元 {{ $labels.unit }} 的故障条件 {{ $labels.condition }} 已持续 {for_}："
    "on_battery 市电中断、由电池供电（电池耗尽前须恢复市电或启动发电机），bypass 负载经旁路直接由市电供电、失去保护，"
    "output_off 无输出，battery_low 电池电量低，alarm 设备有告警，input_failure 市电输入异常，"
    "breaker_open 断路器断开，phase_loss 缺相。每次故障都计入“数据中心供电零故障”。"
    " / Condition {{ $labels.condition }} of power unit {{ $labels.unit }} has held for {for_}: on_battery the "
    "mains failed and the battery carries the load (restore the mains or start the generator before it runs "
    "out), bypass the load is fed straight from the mains, unprotected, output_off no output, battery_low the "
    "battery is low, alarm the device reports an alarm, input_failure the mains went out of tolerance, "
    "breaker_open a breaker is open, phase_loss a phase is lost. Each fault counts against the zero-fault KPI."
)


def _kpi(config: Config) -> str:
    # The configured KPI the faults count against, for routing; "all" without one.
    ids = [k.id for k in config.kpis if kpi_definition(k).kind == "fault_count"]
    return ids[0] if len(ids) == 1 else "all"


def alerts(config: Config, job: str, runbooks: str) -> list[tuple[str, list[dict[str, Any]]]]:
    """The power alert group (none without power units)."""
    if not getattr(config, "power", ()):
        return []
    rule = {
        "alert": POWER_FAULT,
        "expr": f"sla_power_fault{selector(job=job)} == 1",
        "for": FOR,
        "labels": {"severity": SEVERITY, "kpi": _kpi(config)},
        "annotations": {"summary": SUMMARY, "description": DESCRIPTION.replace("{for_}", FOR),
                        "runbook_url": runbook(runbooks, POWER_FAULT)},
    }
    return [("sla-agent.power-alerts", [rule])]


__all__ = ["POWER_FAULT", "alerts"]
