"""Prometheus recording and alerting rules, generated from the KPI catalogue and a config.

``sla-agent rules -c CONFIG -o rules/`` writes the files; ``generate`` is
pure (config in, file texts out) so a test can regenerate into memory and
compare with what is committed. Names follow ``level:metric:operations``;
every recorded series carries the ``kpi`` label (and ``group`` for link
KPIs), every alert ``severity`` (page / ticket), ``kpi``, a ``for:`` and a
``runbook_url``. Texts of the alerts live in agent/generators/alert_texts.py.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping

import yaml

from agent import sources
from agent.config import Config
from agent.generators import alert_texts as texts
from agent.generators.alerting import (
    RAW_WINDOW_LIMIT,
    WINDOWS,
    error_ratio_windows,
    prom_duration,
)
from agent.generators.queries import DEFAULT_JOB, KpiQueries, kpi_queries, selector

RECORDING_FILE = "sla-agent.rules.yml"
ALERTS_FILE = "sla-agent.alerts.yml"
DEFAULT_RUNBOOK_BASE = "docs/runbooks.md"

GOOD_5M = "kpi:sla_sli_good:sum5m"
VALID_5M = "kpi:sla_sli_valid:sum5m"
CAPACITY = "kpi:sla_capacity:sum"
BUDGET_30D = "kpi:sla_error_budget_remaining:ratio_rate30d"
BUDGET_MONTH = "kpi:sla_error_budget_remaining:ratio_month"

# Comparison that means "the target is missed", by the target's operator.
MISSED = {">=": "<", ">": "<=", "<=": ">", "<": ">="}


def error_ratio(window: float) -> str:
    """Name of the recorded error ratio over ``window`` seconds."""
    return f"kpi:sla_error:ratio_rate{prom_duration(window)}"


def _rule(name: str, expr: str, labels: Mapping[str, str]) -> dict[str, Any]:
    return {"record": name, "expr": expr, "labels": dict(labels)}


def _ratio_rules(q: KpiQueries) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Short windows straight from raw samples; long ones from 5-minute partial sums."""
    assert q.ratio is not None and q.objective is not None
    short, long = [], []
    good5, valid5 = (q.ratio.good.replace("{w}", "5m"), q.ratio.valid.replace("{w}", "5m"))
    short.append(_rule(GOOD_5M, good5, q.labels))
    short.append(_rule(VALID_5M, valid5, q.labels))
    sel = selector(kpi=q.id)
    for window in error_ratio_windows():
        w = prom_duration(window)
        if window <= RAW_WINDOW_LIMIT:
            good, valid = q.ratio.good.replace("{w}", w), q.ratio.valid.replace("{w}", w)
            short.append(_rule(error_ratio(window), f"1 - ({good}) / ({valid})", q.labels))
        else:
            # The 5-minute sums are recorded every evaluation, so each raw
            # sample is counted about 5m/interval times in both numerator
            # and denominator: the ratio is unaffected.
            expr = f"1 - sum_over_time({GOOD_5M}{sel}[{w}]) / sum_over_time({VALID_5M}{sel}[{w}])"
            long.append(_rule(error_ratio(window), expr, q.labels))
    budget = round(1 - q.objective, 9)
    long.append(_rule(BUDGET_30D, f"1 - {error_ratio(max(error_ratio_windows()))}{sel} / {budget:g}", q.labels))
    return short, long


def capacity_expr(q: KpiQueries) -> str:
    """The capacity available now, 0 when none of it can be seen while the agent is up.

    Links that are unknown (and regions that cannot be read) have no series
    and count as zero; when all of them are unknown the sum has no series at
    all, and the below-target alert would go silent exactly when monitoring
    is lost entirely. So the sum falls back to 0 (with the rule's kpi label)
    as long as Prometheus scrapes the agent; when the agent itself is down
    there is no figure, and SlaAgentDown / SlaAgentAbsent page instead.
    """
    assert q.capacity is not None
    return f"{q.capacity.expr}\nor\n0 * group(up{selector(job=q.job)} == 1)\n"


def month_budget_rule(q: KpiQueries) -> dict[str, Any] | None:
    """Month-to-date budget left, from the agent's own month-to-date figures.

    1 means no budget spent, 0 exactly at the objective so far, below 0
    missed so far. Relative to the elapsed part of the month: the agent's
    figures exclude maintenance and unknown time, which Prometheus cannot see.
    """
    sel = q.kpi_selector()
    if q.definition.unit == "ratio" and q.target.op in (">=", ">") and q.target.value >= 1:
        return None  # a target of 100 % leaves no budget to spend (every incident in time: 及时)
    if q.definition.unit == "ratio" and q.target.op in (">=", ">"):
        expr = f"1 - (1 - sla_kpi_value{sel}) / (1 - sla_kpi_target{sel})"
    elif q.definition.objective is not None and not sources.kind(q.definition.kind).states:
        expr = f"1 - (1 - sla_kpi_compliance_ratio{sel}) / (1 - sla_kpi_objective_ratio{sel})"
    else:
        return None
    return _rule(BUDGET_MONTH, f"max without (instance) ({expr})", q.labels)


def recording_groups(queries: list[KpiQueries]) -> list[dict[str, Any]]:
    short: list[dict[str, Any]] = []
    long: list[dict[str, Any]] = []
    capacity: list[dict[str, Any]] = []
    month: list[dict[str, Any]] = []
    for q in queries:
        if q.ratio is not None:
            s, l = _ratio_rules(q)
            short += s
            long += l
        if q.capacity is not None:
            capacity.append(_rule(CAPACITY, capacity_expr(q), q.labels))
        if (rule := month_budget_rule(q)) is not None:
            month.append(rule)
    groups = [
        ("sla-agent.sli", short),
        ("sla-agent.sli-long", long),
        ("sla-agent.capacity", capacity),
        ("sla-agent.month", month),
    ]
    return [{"name": name, "rules": rules} for name, rules in groups if rules]


def _burn_alerts(q: KpiQueries, runbooks: str) -> list[dict[str, Any]]:
    assert q.objective is not None
    alerts = []
    sel = selector(kpi=q.id)
    for w in WINDOWS:
        threshold = f"{w.threshold(q.objective):g}"
        expr = (f"{error_ratio(w.long)}{sel} > {threshold}\n"
                f"and\n{error_ratio(w.short)}{sel} > {threshold}\n")
        alerts.append({
            "alert": "SlaErrorBudgetBurn",
            "expr": expr,
            "for": prom_duration(w.for_),
            "labels": {"severity": w.severity, **q.labels,
                       "long": prom_duration(w.long), "short": prom_duration(w.short)},
            "annotations": texts.burn(q, w, runbooks),
        })
    return alerts


def _capacity_alert(q: KpiQueries, runbooks: str) -> dict[str, Any] | None:
    own = sources.serving(q.definition.source).capacity_alert
    if own is None or q.capacity is None:
        return None
    spec = own()
    missed = MISSED[q.target.op]
    target = f"max by (kpi) (sla_kpi_target{q.kpi_selector()})"
    # The target comes from the agent (sla_kpi_target), so it is never
    # restated here and a config override of it needs no regeneration.
    expr = f"{CAPACITY}{selector(kpi=q.id)} {missed} on (kpi) {target}"
    scale = texts.display_scale(q.definition.unit)
    if scale != 1:
        expr = f"{scale:g} * ({expr})"
    return {
        "alert": spec.name,
        "expr": expr,
        "for": spec.for_,
        "labels": {"severity": spec.severity, **q.labels},
        "annotations": texts.capacity(q, spec, runbooks),
    }


def insufficient_data_alert(q: KpiQueries, runbooks: str) -> dict[str, Any]:
    """Coverage below the KPI's min_coverage: the month's figure would be 数据不足 (insufficient data).

    Both sides come from the agent (sla_kpi_min_coverage_ratio is the config's
    min_coverage), so a changed min_coverage needs no regeneration. Coverage
    is cumulative over the period and moves slowly; the long ``for:`` keeps
    a short outage early in a month (when an hour weighs a lot) from opening
    a ticket that the rest of the day would close.
    """
    sel = q.kpi_selector()
    spec = texts.INSUFFICIENT_DATA
    return {
        "alert": spec.name,
        "expr": f"sla_kpi_coverage_ratio{sel} < sla_kpi_min_coverage_ratio{sel}",
        "for": spec.for_,
        "labels": {"severity": spec.severity, "kpi": q.id},
        "annotations": texts.insufficient_data(q, runbooks),
    }


def _intervals(config: Config) -> list[float]:
    """Every configured target's poll interval, from each source (agent/sources.py)."""
    return [interval for spec in sources.sources() for interval in spec.intervals(config)]


def health_alerts(config: Config, job: str, runbooks: str) -> list[dict[str, Any]]:
    """Alerts on the agent itself: down, absent, targets not answering, stale, ledger."""
    # A target is stale when no poll has succeeded for three of its longest
    # intervals (at least 10 minutes, so one slow cloud poll does not page).
    stale_after = max(600.0, *(3 * interval for interval in _intervals(config)))
    kpi_stale_after = max(300.0, 4 * config.agent.kpi_interval)
    sel = selector(job=job)
    exprs = {
        "SlaAgentDown": f"up{sel} == 0",
        "SlaAgentAbsent": f"absent(up{sel})",
        "SlaTargetDown": f"sla_target_up{sel} == 0",
        "SlaTargetStale": (
            f"time() - sla_target_last_success_timestamp_seconds{sel} > {stale_after:g}\n"
            f"unless on (instance, job, collector, target)\nsla_target_up{sel} == 0\n"),
        "SlaKpiEvaluationStale": f"time() - sla_kpi_last_evaluation_timestamp_seconds{sel} > {kpi_stale_after:g}",
        "SlaLedgerWriteFailures": f"increase(sla_ledger_write_failures_total{sel}[5m]) > 0",
        "SlaConfigReloadFailed": f"sla_config_last_reload_successful{sel} == 0",
    }
    alerts = []
    for spec in texts.HEALTH_ALERTS:
        alerts.append({
            "alert": spec.name,
            "expr": exprs[spec.name],
            "for": spec.for_,
            "labels": {"severity": spec.severity, "kpi": "all"},
            "annotations": texts.health(spec, runbooks, stale_after=stale_after, kpi_stale_after=kpi_stale_after),
        })
    return alerts


def alert_groups(config: Config, queries: list[KpiQueries], job: str, runbooks: str) -> list[dict[str, Any]]:
    slo = [a for q in queries if q.ratio is not None for a in _burn_alerts(q, runbooks)]
    capacity = [a for q in queries if (a := _capacity_alert(q, runbooks)) is not None]
    # The yearly volume's coverage is over the year: after a deployment in, say, June it cannot
    # recover until the next January, so a ticket would stay open for months with nothing to do.
    # Its feed's gaps show in the same gateways' monthly KPIs (delivery rate, send speed).
    coverage = [insufficient_data_alert(q, runbooks) for q in queries
                if not sources.kind(q.definition.kind).on_pace]
    own = [group for spec in sources.sources() if spec.alerts is not None
           for group in spec.alerts(config, job, runbooks)]  # each source's alerts on its own targets
    groups = [
        ("sla-agent.slo-alerts", slo),
        ("sla-agent.kpi-alerts", capacity + coverage),
        *own,
        ("sla-agent.health-alerts", health_alerts(config, job, runbooks)),
    ]
    return [{"name": name, "rules": rules} for name, rules in groups if rules]


class _Dumper(yaml.SafeDumper):
    """Multi-line strings (long expressions) as literal blocks, keys in insertion order."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


EXAMPLE_RUNBOOK_BASE = "https://git.example.gov.cn/ops/sla-agent/-/blob/main/docs/runbooks.md"
_REPO = Path(__file__).resolve().parents[1]


def header_path(source: str, cwd: Path | None = None) -> str:
    """The config path as the rule files' header records it.

    '/'-separated, without ``./`` or ``..`` detours, and relative to the
    working directory (or else to the repository) when the file is inside
    it, so ``-c ./examples/demo.yaml`` or an absolute path write the same
    header as ``-c examples/demo.yaml``.
    """
    path = Path(os.path.normpath(source))
    if path.is_absolute():
        for base in (Path.cwd() if cwd is None else cwd, _REPO):
            try:
                path = path.relative_to(base.resolve())
                break
            except ValueError:
                continue
    return path.as_posix()


def _is_url(base: str) -> bool:
    return base.startswith(("http://", "https://"))


def dump(groups: list[dict[str, Any]], source: str, what: str, job: str = DEFAULT_JOB,
         runbooks: str = DEFAULT_RUNBOOK_BASE) -> str:
    options = "" if job == DEFAULT_JOB else f" --job {job}"
    options += "" if runbooks == DEFAULT_RUNBOOK_BASE else f" --runbook-base {runbooks}"
    header = (f"# {what}, generated from the KPI catalogue and {source} by\n"
              f"#   sla-agent rules -c {source} -o rules/{options}\n"
              "# Do not edit: change the catalogue, the config or agent/generators/rules.py and regenerate.\n")
    if what.startswith("Alerting"):
        if _is_url(runbooks):
            header += f"# runbook_url annotations: {runbooks}#<alert name in lower case>.\n"
        else:
            header += (f"# runbook_url annotations are {runbooks}#<alert name in lower case>, a relative path that\n"
                       "# Alertmanager and Grafana cannot open: for links on-call can follow, regenerate with the\n"
                       "# URL of docs/runbooks.md in your repository, e.g.\n"
                       f"#   --runbook-base {EXAMPLE_RUNBOOK_BASE}\n")
    body = yaml.dump({"groups": groups}, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=1000)
    return header + body


def generate(config: Config, source: str, job: str = DEFAULT_JOB,
             runbooks: str = DEFAULT_RUNBOOK_BASE) -> dict[str, str]:
    """File name -> text of the recording and alerting rule files for ``config``.

    ``source`` is the config's path as given on the command line; the header
    records it normalised (see ``header_path``).
    """
    queries = kpi_queries(config, job)
    source = header_path(source)
    return {
        RECORDING_FILE: dump(recording_groups(queries), source, "Recording rules", job, runbooks),
        ALERTS_FILE: dump(alert_groups(config, queries, job, runbooks), source, "Alerting rules", job, runbooks),
    }


def write(files: dict[str, str], out: Path) -> list[Path]:
    """Write generated files into ``out`` (created if missing); return their paths."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in files.items():
        path = out / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
