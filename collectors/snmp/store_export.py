"""The SNMP source in the store-based export: link availability from the link-state counters, bandwidth gauges.

Link availability is exact, from ``sla_link_state_seconds_total``
(agent/export/prometheus_measure.py): time no agent measured a link is unknown,
as in the ledger; outage times are approximate to the scrape interval.
"""

from __future__ import annotations

from typing import Iterator

from agent import sli
from collectors.snmp import series
from agent.export import prometheus_measure as pm
from agent.export.prometheus_source import Labels, Points, label, without
from agent.export.rows import Outage
from agent.export.store_sampled import Sampled, SampledStore
from agent.export.store_view import EDGE, GaugeQuery, StoreView, gauge_note
from agent.kpi_types import KpiResult, Plan
from agent.periods import Period

STATE_METRIC = "sla_link_state_seconds_total"


def _answered(value: float) -> float | None:
    return 1.0 if value >= 0.5 else None  # sla_target_up 0 is a failed poll: unknown in the ledger, not "down"


def _inventory_families(plan: Plan) -> tuple[Sampled, ...]:
    """The inventory counts' series: each device's answers (sla_target_up), or each link's state (sla_link_up)."""
    if plan.definition.source == "devices":
        up = 'sla_target_up{collector="snmp"}'
        return (Sampled(up, f"max by (target) ({up})", lambda labels: series.device_answered(label(labels, "target") or ""),
                        _answered),)
    return (Sampled("sla_link_up", "max by (link) (sla_link_up)",
                    lambda labels: series.link_up(label(labels, "link") or "")),)


class LinkStore:
    def __init__(self, view: StoreView):
        self._view = view
        self._links = {g.name: [link.name for link in g.links] for g in view.config.link_groups}
        self._cache: dict[tuple[str, float, float], dict[str, list[pm.Step]]] = {}
        self._inventory = SampledStore(view, _inventory_families)

    def link_steps(self, group: str, start: float, end: float) -> dict[str, list[pm.Step]]:
        """Each configured link of ``group``: its state steps in ``[start, end]`` (all runs and shards)."""
        key = (group, start, end)
        if key not in self._cache:
            raw = self._view.api.raw(f'{STATE_METRIC}{{group="{group}"}}', start - EDGE, self._view.read_until(end))
            runs: dict[Labels, list[tuple[str, Points]]] = {}
            for labels, points in raw.items():
                state = label(labels, "state")
                if state in pm.STATES:
                    runs.setdefault(without(labels, "state", "__name__"), []).append((state, points))
            wanted = set(self._links.get(group, ()))
            out: dict[str, list[pm.Step]] = {}
            for labels, states in runs.items():
                link = label(labels, "link")
                if link in wanted:
                    steps = pm.link_steps(pm.joint_samples(states))
                    out.setdefault(link, []).extend(pm.clip(steps, start, end))
            self._cache[key] = out
        return self._cache[key]

    def evaluate(self, plan: Plan, period: Period) -> KpiResult | None:
        if plan.definition.kind == "answered_count":
            return self._inventory.evaluate(plan, period)
        if plan.definition.kind != "availability":
            return None
        end = self._view.end(period)
        steps = self.link_steps(plan.config.link_group or "", period.start, end)
        maintenance = self._view.maintenance(plan, period)
        totals = sli.Totals()
        for link in self._links.get(plan.config.link_group or "", ()):
            windows = sli.length(maintenance.of(series.link_up(link)))
            totals = totals + pm.link_totals(steps.get(link, []), period.start, end, windows)
        value = sli.availability(totals)
        return KpiResult(definition=plan.definition, target=plan.target, period=period, until=end,
                         value=value, met=None if value is None else plan.target.met_by(value),
                         coverage=totals.coverage, min_coverage=plan.config.min_coverage, totals=totals)

    def gauge_query(self, plan: Plan) -> GaugeQuery:
        where = f'{{group="{plan.config.link_group}"}}'
        return GaugeQuery(f"sla_link_up{where}",
                          f"max by (link) (sla_link_capacity_bytes_per_second{where} * sla_link_up{where})",
                          lambda labels: series.link_available(label(labels, "link") or ""))

    def outages(self, plan: Plan, period: Period) -> list[Outage]:
        """Each link's runs of scrape intervals in which "down" grew (times approximate, seconds exact)."""
        end = self._view.end(period)
        steps = self.link_steps(plan.config.link_group or "", period.start, end)
        return [Outage(link, max(period.start, a), min(end, b), seconds)
                for link in self._links.get(plan.config.link_group or "", ())
                for a, b, seconds in pm.outages(steps.get(link, [])) if seconds > 0]

    def state_spans(self, plan: Plan, period: Period) -> Iterator[tuple[str, list[tuple[float, float, str]]]]:
        end = self._view.end(period)
        steps = self.link_steps(plan.config.link_group or "", period.start, end)
        for link in self._links.get(plan.config.link_group or "", ()):
            yield link, pm.state_spans(steps.get(link, []), period.start, end)

    def note(self, kind: str, step: float | None, lang: str) -> str:
        zh = lang == "zh"
        if kind == "answered_count":
            return self._inventory.note(kind, step, lang)
        if kind == "availability":
            return ("来源 Prometheus：链路状态秒数计数器精确累计，中断起止时间按采集间隔近似" if zh else
                    "from the store: exact link-state counters; outage times approximate to the scrape interval")
        if kind == "capacity_sum":
            return gauge_note(step, lang)
        return ""
