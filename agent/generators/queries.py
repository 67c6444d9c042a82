"""PromQL for every configured KPI, derived from the catalogue and the config.

The rule generator (agent/generators/rules.py) and the dashboard generator
(agent/generators/dashboards.py) both start here, so an SLI is written once. Each KPI is
one of:

* a **ratio** SLI: good / valid over a window (link-time up / link-time known,
  messages delivered / messages finished, ...), with an objective, for
  error-budget burn alerts;
* a **capacity** SLI: a sum of gauges now (bandwidth of the links that are
  up, capacity the cloud regions offer), compared with the KPI's target.

How a (source, kind) pair of the catalogue becomes PromQL is one entry of
``RATIO_SLIS`` / ``CAPACITY_SLIS``; KPIs of other kinds (the SMS yearly
volume) or whose metrics are not (yet) in agent.metrics get no SLI rules, only
the agent's own month-to-date series on the dashboards.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping

from agent import sources
from agent.catalogue import BY_ID, KpiDefinition
from agent.config import Config, KpiConfig, kpi_definition
from agent.metrics import METRICS
from agent.units import Target, parse_target

DEFAULT_JOB = "sla-agent"


def selector(**labels: str) -> str:
    """``{a="x",b=~"y"}`` from keyword labels; a value starting with ``~`` is a regex match."""
    parts = []
    for name, value in labels.items():
        op, value = ("=~", value[1:]) if value.startswith("~") else ("=", value)
        parts.append(f'{name}{op}"{value}"')
    return "{" + ",".join(parts) + "}"


@dataclass(frozen=True, slots=True)
class RatioSli:
    """good / valid events (or sample counts) over a window ``{w}``."""

    good: str  # PromQL with a {w} placeholder for the range
    valid: str
    counted: str  # what good/valid count, for descriptions: "link-time", "messages"
    metrics: tuple[str, ...]  # metric families the SLI needs (for the "declared yet?" check)


@dataclass(frozen=True, slots=True)
class CapacitySli:
    """Capacity available now, in the KPI's base unit."""

    expr: str
    metrics: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class KpiQueries:
    """One configured KPI with everything the generators need."""

    config: KpiConfig
    definition: KpiDefinition
    target: Target
    labels: Mapping[str, str]  # static labels of its recording rules and alerts: kpi (+ group)
    job: str
    ratio: RatioSli | None = None
    capacity: CapacitySli | None = None
    objective: float | None = None  # ratio SLIs: share of good events required
    extra: Mapping[str, str] = field(default_factory=dict)  # source details: group, clouds

    @property
    def id(self) -> str:
        return self.definition.id

    def kpi_selector(self) -> str:
        """Selector of the agent's own per-KPI series (sla_kpi_value, sla_kpi_target, ...)."""
        return selector(job=self.job, kpi=self.id)


# -- how each catalogue (source, kind) is measured in PromQL ----------------


def _link_selector(q: Mapping[str, str]) -> str:
    return selector(job=q["job"], group=q["group"])


def _link_availability(q: Mapping[str, str]) -> RatioSli:
    # sla_link_up is absent while a link is unknown, so counting samples leaves
    # unknown time out, as the agent does. Summing samples over all links
    # before dividing pools link-time (Σ up / Σ known), which is the agent's
    # definition; averaging per-link ratios would weigh a link known for a
    # minute like one known all window. Equal weight per sample assumes one
    # scrape interval for the job, which Prometheus keeps constant.
    sel = _link_selector(q)
    return RatioSli(
        good=f"sum(sum_over_time(sla_link_up{sel}[{{w}}]))",
        valid=f"sum(count_over_time(sla_link_up{sel}[{{w}}]))",
        counted="link-time",
        metrics=("sla_link_up",),
    )


def _link_bandwidth(q: Mapping[str, str]) -> CapacitySli:
    # Capacity x state (1 up, 0 down) per link, one-to-one on all labels.
    # Unknown links have no samples and count as zero: an egress router that
    # cannot be polled is bandwidth nobody can vouch for.
    sel = _link_selector(q)
    return CapacitySli(
        expr=f"sum(sla_link_capacity_bytes_per_second{sel} * sla_link_up{sel})",
        metrics=("sla_link_capacity_bytes_per_second", "sla_link_up"),
    )


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


def _gateway_labels(q: Mapping[str, str]) -> dict[str, str]:
    labels = {"job": q["job"]}
    if q.get("gateways"):
        labels["gateway"] = "~" + q["gateways"]
    return labels


def _increase(metric: str, labels: dict[str, str]) -> str:
    return f"sum(increase({metric}{selector(**labels)}[{{w}}]))"


def _sms_delivery(q: Mapping[str, str]) -> RatioSli:
    # delivered / (delivered + failed + expired): messages still pending are
    # in neither, as in the KPI. The counters are lifetime totals the agent
    # keeps in its ledger, so increase() is not fooled by agent restarts.
    labels = _gateway_labels(q)
    finished = " + ".join(_increase(f"sla_sms_{s}_total", labels) for s in ("delivered", "failed", "expired"))
    return RatioSli(good=_increase("sla_sms_delivered_total", labels), valid=finished, counted="messages",
                    metrics=("sla_sms_delivered_total", "sla_sms_failed_total", "sla_sms_expired_total"))


def _sms_latency(q: Mapping[str, str]) -> RatioSli:
    # Share of delivered messages whose report came within the target (10 s),
    # from the histogram's bucket at exactly that bound (the collector makes
    # 10 s a bucket edge; "le" is written the way prometheus_client writes it).
    labels = _gateway_labels(q)
    bucket = _increase("sla_sms_send_latency_seconds_bucket", {**labels, "le": q["le"]})
    return RatioSli(good=bucket, valid=_increase("sla_sms_send_latency_seconds_count", labels),
                    counted="delivered messages", metrics=("sla_sms_send_latency_seconds",))


RATIO_SLIS: dict[tuple[str, str], Callable[[Mapping[str, str]], RatioSli]] = {
    ("link_group", "availability"): _link_availability,
    ("sms", "delivery_rate"): _sms_delivery,
    ("sms", "latency_within"): _sms_latency,
}
CAPACITY_SLIS: dict[tuple[str, str], Callable[[Mapping[str, str]], CapacitySli]] = {
    ("link_group", "capacity_sum"): _link_bandwidth,
    ("cloud", "capacity_sum"): _cloud_capacity,
}


def _declared(names: tuple[str, ...]) -> bool:
    """Whether agent.metrics declares every family (a histogram by its base name)."""
    return all(name in METRICS for name in names)


def _objective(definition: KpiDefinition, target: Target) -> float | None:
    """The share of good events a ratio SLI must reach."""
    if definition.unit == "ratio" and target.op in (">=", ">"):
        return target.value
    return definition.objective


def kpi_queries(config: Config, job: str = DEFAULT_JOB) -> list[KpiQueries]:
    """Every configured KPI that can be expressed in PromQL, in config order."""
    out = []
    for kpi in config.kpis:
        definition = kpi_definition(kpi)
        target = parse_target(definition.target, definition.unit)
        labels = {"kpi": definition.id}
        details = {"job": job}
        query_labels = sources.serving(definition.source).query_labels
        if query_labels is not None:
            more_labels, more_details = query_labels(definition, kpi, target)
            labels.update(more_labels)
            details.update(more_details)
        key = (definition.source, definition.kind)
        ratio_builder = RATIO_SLIS.get(key)
        capacity_builder = CAPACITY_SLIS.get(key)
        ratio = ratio_builder(details) if ratio_builder else None
        capacity = capacity_builder(details) if capacity_builder and ratio is None else None
        if ratio is not None and not _declared(ratio.metrics):
            ratio = None
        if capacity is not None and not _declared(capacity.metrics):
            capacity = None
        out.append(KpiQueries(
            config=kpi, definition=definition, target=target, labels=labels, job=job,
            ratio=ratio, capacity=capacity,
            objective=_objective(definition, target) if ratio is not None else None,
            extra=details,
        ))
    return out


# -- SMS canaries -------------------------------------------------------------

CANARY_LATENCY_KPI = "sms_send_latency"  # whose bound (10 s) the canary's latency is held to


@dataclass(frozen=True, slots=True)
class CanaryQueries:
    """One SMS gateway's synthetic canary (collectors/sms/canary.py), for its alerts and panels."""

    gateway: str
    interval: float  # seconds between probes
    timeout: float  # seconds a probe waits for a final status before it fails (target down)
    bound: Target  # the send-speed target, e.g. <= 10 s
    job: str

    def selector(self, **labels: str) -> str:
        return selector(job=self.job, gateway=self.gateway, **labels)


def canary_bound(config: Config) -> Target:
    """The send-speed bound: the configured sms_send_latency KPI's target, else the catalogue's."""
    for kpi in config.kpis:
        definition = kpi_definition(kpi)
        if definition.kind == "latency_within" and definition.source == "sms":
            return parse_target(definition.target, definition.unit)
    definition = BY_ID[CANARY_LATENCY_KPI]
    return parse_target(definition.target, definition.unit)


def canary_queries(config: Config, job: str = DEFAULT_JOB) -> list[CanaryQueries]:
    """Every configured gateway with a ``canary:``, in config order (none: no canary alerts or panels)."""
    bound = canary_bound(config)
    return [CanaryQueries(gateway.name, gateway.canary.interval, gateway.canary.timeout, bound, job)
            for gateway in getattr(config, "sms", ()) if gateway.canary is not None]


# -- loading a config without its secrets -----------------------------------
