"""Incident accounting: every source's down time as incidents, plus Alertmanager's; resolution KPIs."""

from __future__ import annotations

from typing import Any

from agent.config import Config
from agent.sources import KindSpec, SourceSpec
from collectors.base import Collector
from collectors.incidents import kpi


def build(config: Config, ledger: Any) -> list[Collector]:
    webhook = config.incidents.webhook
    if webhook is None:
        return []
    from collectors.incidents.collector import IncidentCollector

    return [IncidentCollector(webhook, ledger)]


def counts(config: Config) -> list[tuple[int, str]]:
    return [(len(kpi.incident_series(config)), "incident series")] if config.incidents.webhook else []


def commands(sub: Any, common: Any) -> None:
    from collectors.incidents.command import add_parser  # the CLI only

    add_parser(sub, common)


def note(*args: Any) -> list[str]:
    from collectors.incidents.notes import incident_note  # the export only

    return incident_note(*args)


SOURCE = SourceSpec(
    name="incidents", serves=("incidents",), inputs=kpi.incident_inputs, parts=kpi.incident_parts,
    collectors=build, counts=counts, commands=commands,
    kinds=(
        KindSpec("incident_resolution", kpi.fault_handling, note=note,
                 met_help="1 when the incidents raised this month and resolved by now / raised is {target}"),
        KindSpec("incident_timeliness", kpi.fault_timeliness, note=note,
                 met_help="1 when the network incidents raised this month resolved within the bound / raised is "
                          "{target}"),
    ),
)
