"""Grafana dashboards generated from the KPI catalogue and a config.

``sla-agent dashboards -c CONFIG -o dashboards/`` writes one JSON file per
dashboard; ``generate`` is pure so a test can compare with what is
committed. Panel titles are Chinese (what operations read), descriptions
English. Dashboards: overview (every KPI against its target, month to date)
and agent health here; network links, cloud capacity and SMS, one per
source, in its collectors/ package (dashboard.py, declared in source.py).
They read the recording
rules of agent/generators/rules.py where one exists, so a panel and an alert
never disagree about an SLI.
"""

from __future__ import annotations

import json
from pathlib import Path

from agent import sources as registry
from agent.config import Config
from agent.generators import grafana as g
from agent.generators.alerting import objective_text
from agent.generators.dashboards_common import STATUS, STATUS_STEPS, UNITS, UP, pace, scaled, status, traffic_light
from agent.generators.queries import DEFAULT_JOB, KpiQueries, kpi_queries, selector
from agent.generators.rules import BUDGET_MONTH, CAPACITY, error_ratio, month_budget_rule


def met_help(q: KpiQueries) -> str:
    """What sla_kpi_met = 1 means for the KPI, as its kind says (agent/sources.py KindSpec.met_help)."""
    d = q.definition
    template = registry.kind(d.kind).met_help
    if not template:
        raise ValueError(f"no 是否达标 help text for KPI kind {d.kind!r} (its KindSpec's met_help)")
    objective = objective_text(d.objective) if d.objective is not None else "the objective"
    counted = q.ratio.counted if q.ratio is not None else "time"
    return template.format(target=q.target.text, objective=objective, bound=q.target.text.lstrip("<>= "),
                           counted=counted)


def _kpi_row(grid: g.Grid, q: KpiQueries) -> None:
    d = q.definition
    sel = q.kpi_selector()
    unit = UNITS.get(d.unit, (1, "none"))[1]
    grid.row(f"{d.name_zh}（{d.target_text}）· {d.name_en}")
    # A yearly volume is judged on pace (sla_kpi_met), not against the full
    # year's target, so its value gets no red/green of its own.
    light = g.thresholds((None, g.BLUE)) if registry.kind(d.kind).on_pace else traffic_light(q)
    grid.add(g.stat("本月至今", f"{d.name_en}, month to date as the agent computes it (maintenance and "
                    f"unknown time excluded). Target {q.target.text}. {d.description}",
                    g.targets((scaled(f"sla_kpi_value{sel}", d.unit), "")), unit, light), 5, 6)
    min_cov = q.config.min_coverage
    grid.add(g.stat("是否达标", f"{met_help(q)} (sla_kpi_met); insufficient data instead while the coverage is "
                    f"below min_coverage ({min_cov:.0%}, sla_kpi_min_coverage_ratio), as the monthly export says.",
                    g.targets((status(sel), "")), "none", STATUS_STEPS, STATUS), 3, 6)
    grid.add(g.stat("数据覆盖率", f"Share of the month so far with data; the figure is final from {min_cov:.0%}.",
                    g.targets((f"sla_kpi_coverage_ratio{sel}", "")), "percentunit",
                    g.thresholds((None, g.RED), (min_cov, g.GREEN))), 4, 6)
    if month_budget_rule(q) is not None:
        grid.add(g.stat("剩余错误预算（本月）", "Month-to-date error budget left: 1 - (1 - value) / (1 - target) "
                        "for ratios, the same on time in compliance for capacities. Below 0: missed so far.",
                        g.targets((f"{BUDGET_MONTH}{selector(kpi=q.id)}", "")), "percentunit",
                        g.thresholds((None, g.RED), (0, g.YELLOW), (0.25, g.GREEN))), 4, 6)
    series = [(scaled(f"sla_kpi_value{sel}", d.unit), "本月至今 month to date"),
              (scaled(f"sla_kpi_target{sel}", d.unit), "目标 target")]
    if q.ratio is not None and d.unit == "ratio":
        series.append((f"1 - {error_ratio(30 * 86400)}{selector(kpi=q.id)}", "30 天滚动 30-day"))
    if registry.kind(d.kind).on_pace:
        series.append((pace(sel), "进度目标 pace"))
    if q.capacity is not None:
        series.append((scaled(f"{CAPACITY}{selector(kpi=q.id)}", d.unit), "当前 now"))
    grid.add(g.timeseries("走势", "Month-to-date value against the target; for ratio KPIs the rolling 30 days "
                          "from Prometheus, for capacities the value now.", g.targets(*series), unit), 8, 6)


def overview(queries: list[KpiQueries], job: str) -> g.Json:
    grid = g.Grid()
    sel = selector(job=job)
    grid.row("总览 Summary")
    statuses = [(f"count(({status(sel)}) == {value}) or vector(0)", legend)
                for value, legend in ((1, "达标 met"), (0, "未达标 not met"), (2, "数据不足 insufficient data"))]
    grid.add(g.stat("达标 KPI 数", "KPIs meeting their target month to date, missing it, and with insufficient data "
                    "(coverage below min_coverage: the monthly export reports no verdict for them).",
                    g.targets(*statuses)), 6, 4)
    grid.add(g.stat("正在触发的告警", "sla-agent alerts firing now, by severity.",
                    g.targets(('count(ALERTS{alertstate="firing",alertname=~"Sla.*",severity="page"}) or vector(0)',
                               "page"),
                              ('count(ALERTS{alertstate="firing",alertname=~"Sla.*",severity="ticket"}) or vector(0)',
                               "ticket")),
                    steps=g.thresholds((None, g.GREEN), (1, g.RED))), 6, 4)
    grid.add(g.stat("最低覆盖率", "Lowest month-to-date data coverage of any KPI.",
                    g.targets((f"min(sla_kpi_coverage_ratio{sel})", "")), "percentunit",
                    g.thresholds((None, g.RED), (0.9, g.GREEN))), 6, 4)
    grid.add(g.stat("采集代理", "Whether Prometheus can scrape the agent (up).",
                    g.targets((f"min(up{sel})", "")), "none", g.thresholds((None, g.RED), (1, g.GREEN)), UP), 6, 4)
    for q in queries:
        _kpi_row(grid, q)
    return g.dashboard("sla-overview", "SLA 总览 Overview",
                       "Every KPI of the evaluation table against its target, month to date.",
                       grid, [g.datasource_variable()], ["sla-agent"], time_from="now-7d")


def agent_health(job: str) -> g.Json:
    grid = g.Grid()
    sel = selector(job=job, instance="~$instance")
    grid.row("代理 Agent")
    grid.add(g.stat("抓取状态", "up: whether Prometheus can scrape the agent.", g.targets((f"up{sel}", "{{instance}}")),
                    steps=g.thresholds((None, g.RED), (1, g.GREEN)), mappings=UP), 6, 4)
    grid.add(g.stat("KPI 计算距今", "Seconds since the month-to-date KPIs were last computed.",
                    g.targets((f"time() - sla_kpi_last_evaluation_timestamp_seconds{sel}", "")), "s",
                    g.thresholds((None, g.GREEN), (300, g.RED))), 6, 4)
    grid.add(g.stat("账本写入失败", "Ledger batches that failed to be written since the agent started.",
                    g.targets((f"sla_ledger_write_failures_total{sel}", "")), "short",
                    g.thresholds((None, g.GREEN), (1, g.RED))), 6, 4)
    grid.add(g.stat("在线采集对象", "Targets whose last poll succeeded, out of all targets.",
                    g.targets((f"sum(sla_target_up{sel})", "在线 up"), (f"count(sla_target_up{sel})", "全部 all"))),
             6, 4)
    grid.row("采集对象 Targets")
    grid.add(g.state_timeline("采集对象状态", "Whether each target's last poll succeeded.",
                              g.targets((f"sla_target_up{sel}", "{{collector}} {{target}}")), UP,
                              g.thresholds((None, g.RED), (1, g.GREEN))), 24, 8)
    grid.add(g.timeseries("轮询耗时", "Duration of each target's last poll.",
                          g.targets((f"sla_target_poll_duration_seconds{sel}", "{{target}}")), "s", minimum=0), 12, 8)
    grid.add(g.timeseries("距上次成功轮询", "Age of each target's last successful poll.",
                          g.targets((f"time() - sla_target_last_success_timestamp_seconds{sel}", "{{target}}")),
                          "s", minimum=0), 12, 8)
    grid.add(g.timeseries("轮询与失败", "Polls and failed polls per second, per target.",
                          g.targets((f"rate(sla_target_polls_total{sel}[$__rate_interval])", "{{target}} 轮询 polls"),
                                    (f"rate(sla_target_poll_failures_total{sel}[$__rate_interval])",
                                     "{{target}} 失败 failures")), "ops", minimum=0), 12, 8)
    grid.add(g.timeseries("计数器不连续", "Counter discontinuities (device reboots, counter resets) in the last hour.",
                          g.targets((f"increase(sla_counter_discontinuities_total{sel}[1h])", "{{target}}")),
                          "short", minimum=0), 12, 8)
    grid.row("账本与抓取 Ledger and scrape")
    grid.add(g.timeseries("账本写入", "Ledger batches written and failed per second.",
                          g.targets((f"rate(sla_ledger_writes_total{sel}[$__rate_interval])", "写入 writes"),
                                    (f"rate(sla_ledger_write_failures_total{sel}[$__rate_interval])", "失败 failures")),
                          "ops", minimum=0), 12, 8)
    grid.add(g.timeseries("抓取耗时与样本数", "How long Prometheus takes to scrape the agent, and how many samples.",
                          g.targets((f"scrape_duration_seconds{sel}", "耗时 duration (s)"),
                                    (f"scrape_samples_scraped{sel}", "样本 samples")), "short", minimum=0), 12, 8)
    variables = [g.datasource_variable(),
                 g.query_variable("instance", "实例 Instance", f"label_values(up{selector(job=job)}, instance)")]
    return g.dashboard("sla-agent-health", "SLA 采集代理 Agent health",
                       "The agent itself: scrape, targets, polls, ledger and KPI evaluation.",
                       grid, variables, ["sla-agent"], time_from="now-6h")


def generate(config: Config, job: str = DEFAULT_JOB) -> dict[str, str]:
    """File name -> JSON text of every dashboard for ``config``."""
    queries = kpi_queries(config, job)
    boards = {"sla-overview.json": overview(queries, job), "sla-agent-health.json": agent_health(job)}
    for source in registry.sources():  # each source's own (links, clouds, SMS), for what is configured
        if source.dashboards is not None:
            boards.update(source.dashboards(config, queries, job))
    return {name: json.dumps(board, ensure_ascii=False, indent=2) + "\n" for name, board in sorted(boards.items())}


def write(files: dict[str, str], out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in files.items():
        (out / name).write_text(text, encoding="utf-8")
        written.append(out / name)
    return written
