"""The SMS source: gateways' delivery records and an optional canary; delivery rate, send speed, annual volume."""

from __future__ import annotations

from typing import Any

from agent.config import Config
from agent.sources import KindSpec, SourceSpec
from collectors.base import Collector
from collectors.sms import kpi


def build(config: Config, ledger: Any) -> list[Collector]:
    collectors: list[Collector] = []
    if config.sms:
        from collectors.sms.collector import SmsCollector

        collectors.append(SmsCollector(config.sms, ledger))
    if any(gateway.canary is not None for gateway in config.sms):
        from collectors.sms.canary import SmsCanaryCollector

        collectors.append(SmsCanaryCollector(config.sms))
    return collectors


SOURCE = SourceSpec(
    name="sms", serves=("sms",), inputs=kpi.sms_inputs, collectors=build,
    kinds=(
        KindSpec("delivery_rate", kpi.delivery_rate),
        KindSpec("latency_within", kpi.latency_within, histogram=kpi.latency_bins),
        KindSpec("annual_volume", kpi.annual_volume, on_pace=True),
    ),
)
