"""Proof against a real Prometheus: the committed rules and dashboards on the demo's data.

Starts `sla-agent demo` and Debian's `prometheus` on 127.0.0.1 (scrape and
rule evaluation every second, the committed rules/*.yml loaded), waits for
the demo's KPIs and the recording rules, then evaluates every PromQL
expression of the rules and of every dashboard panel through the HTTP API:
each must parse, and return data (except the alert annotation query, see
``MAY_BE_EMPTY``) whose values are all finite: a NaN or Inf is a 0/0 or x/0
in an SLI, not data.
An alert expression is a comparison that is empty while the alert does not
fire, so its operands (the SLI and the threshold side) are evaluated instead.
"""

from __future__ import annotations

import json
import math
import os
import re
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
import yaml

from agent.config import load_config_without_secrets
from agent.generators.queries import kpi_queries
from agent.generators.rules import month_budget_rule
from tests.processes import PROMETHEUS, demo_command, free_port, scrape, skip_in_demo_maintenance, start_prometheus, stop

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(not Path(PROMETHEUS).exists(), reason="Debian's prometheus is not installed")

# Grafana's variables, as a dashboard with "All" selected would send them.
VARIABLES = {
    "$__rate_interval": "1m", "$__interval": "15s", "$__range": "1h",
    "$group": ".*", "$cloud": ".*", "$region": ".*", "$instance": ".*", "$gateway": ".*", "$probe": ".*",
    "$unit": ".*", "$scan": ".*",
}
# Expressions allowed to be empty on a healthy demo, and why. Only the alert
# annotation query: ALERTS has a series only while an alert is pending or
# firing, every sla-agent alert has a `for:` of at least two minutes, and the
# demo is healthy, so nothing fires within the test. It is still evaluated and
# must parse. Everything else must return data; the SMS error-code panel too:
# the demo gateway fails about one message in eighty with a carrier error code,
# and the test waits for the first of them (see ready() below); so do the SMS
# canary's panels and SlaSmsCanaryFailing's operands: the demo's canary probes
# every 30 s, the first within about 5 s of the start, delivered after 1-4 s,
# and the test waits for that first delivered probe too.
MAY_BE_EMPTY = {
    'ALERTS{alertstate="firing",alertname=~"Sla.*"}': "no alert fires in a 30 s demo",
}
assert all(expr.startswith("ALERTS{") for expr in MAY_BE_EMPTY)
# No expression is exempt from "finite": every SLI, ratio and rate of the
# demo has a non-zero denominator once the test starts (links are polled,
# messages flow), so a NaN or Inf would be a broken expression (0/0, x/0).
# An expression that may legitimately be NaN on a healthy demo must be listed
# here with the reason.
MAY_BE_NAN: dict[str, str] = {}
SMS_ERRORS = 'sum by (code) (rate(sla_sms_errors_total{job="sla-agent",gateway=~"$gateway"}[$__rate_interval]))'
CANARY_LATENCY = 'sla_sms_canary_latency_seconds{job="sla-agent",gateway=~"$gateway"}'
DEADLINE = 60.0
# What the committed files were generated from (see docs/monitoring.md).
_QUERIES = kpi_queries(load_config_without_secrets(ROOT / "examples" / "demo.yaml"))
KPIS = [q.id for q in _QUERIES]
RATIO_KPIS = sum(1 for q in _QUERIES if q.ratio is not None)
BUDGET_KPIS = sum(1 for q in _QUERIES if month_budget_rule(q) is not None)


def query(base: str, expr: str) -> dict:
    url = f"{base}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return json.load(resp)
    except urllib.error.HTTPError as exc:  # 400/422: a parse or evaluation error, with the message
        return json.load(exc)


def has_data(result: dict) -> bool:
    data = result.get("data", {})
    return data.get("resultType") == "scalar" or bool(data.get("result"))


def non_finite(result: dict) -> list[str]:
    """The samples of a query result that are NaN or ±Inf (a 0/0 or x/0 somewhere), as text."""
    data = result.get("data", {})
    if data.get("resultType") == "scalar":
        samples = [({}, data["result"])]
    else:
        samples = [(s.get("metric", {}), s["value"]) for s in data.get("result", []) if "value" in s]
    return [f"{metric} = {value[1]}" for metric, value in samples if not math.isfinite(float(value[1]))]


def substitute(expr: str) -> str:
    for name in sorted(VARIABLES, key=len, reverse=True):
        expr = expr.replace(name, VARIABLES[name])
    return expr


_OPERATOR = re.compile(r"(==|!=|>=|<=|>|<)|\b(and|or|unless)\b")


def top_level_split(expr: str) -> list[str]:
    """Operands of ``expr``'s top-level comparison and set operators (and, or, unless, ==, >, ...)."""
    parts, depth, start, i, quote = [], 0, 0, 0, ""
    while i < len(expr):
        c = expr[i]
        if quote:
            quote = "" if c == quote and expr[i - 1] != "\\" else quote
        elif c in "\"'":
            quote = c
        elif c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif depth == 0:
            # match(expr, i) rather than on a slice, so \b sees the character before.
            match = _OPERATOR.match(expr, i)
            if match and not expr.startswith(("=~", "!~"), i):
                parts.append(expr[start:i])
                i = start = match.end()
                continue
        i += 1
    parts.append(expr[start:])
    out = []
    for part in parts:
        # Matching modifiers belong to the operator, not to the operand after it.
        part = re.sub(r"^\s*(bool\s*)?((on|ignoring)\s*\([^)]*\)\s*)?((group_left|group_right)\s*(\([^)]*\))?\s*)?",
                      "", part).strip()
        if part:
            out.append(part)
    return out


def data_operands(expr: str) -> list[str]:
    """What must have data for an alert to be meaningful: its operands, recursively."""
    expr = expr.strip()
    scaled = re.fullmatch(r"[\d.]+\s*\*\s*\((.*)\)", expr, re.S)
    if scaled:
        return data_operands(scaled.group(1))
    parts = top_level_split(expr)
    if len(parts) > 1:
        return [o for p in parts for o in data_operands(p)]
    if re.fullmatch(r"[\d.e+-]+", expr):
        return []
    absent = re.fullmatch(r"absent\((.*)\)", expr, re.S)
    return [absent.group(1)] if absent else [expr]


def rule_expressions() -> list[tuple[str, str, bool]]:
    """(where, expr, is_alert) of every rule in the committed rule files."""
    out = []
    for path in sorted((ROOT / "rules").glob("*.yml")):
        for group in yaml.safe_load(path.read_text(encoding="utf-8"))["groups"]:
            for rule in group["rules"]:
                name = rule.get("record") or rule.get("alert")
                out.append((f"{path.name}:{group['name']}:{name}", rule["expr"], "alert" in rule))
    return out


def dashboard_expressions() -> list[tuple[str, str]]:
    out = []
    for path in sorted((ROOT / "dashboards").glob("*.json")):
        board = json.loads(path.read_text(encoding="utf-8"))
        for panel in board["panels"]:
            for t in panel.get("targets", []):
                out.append((f"{path.name}:{panel['title']}:{t['refId']}", t["expr"]))
        for variable in board["templating"]["list"]:
            if variable["type"] == "query":
                # label_values(SELECTOR, label) is Grafana's; Prometheus answers SELECTOR.
                inner = re.fullmatch(r"label_values\((.*),\s*\w+\)", variable["definition"])
                assert inner, variable["definition"]
                out.append((f"{path.name}:${variable['name']}", inner.group(1)))
        for annotation in board["annotations"]["list"]:
            out.append((f"{path.name}:annotation:{annotation['name']}", annotation["expr"]))
    return out


def wait_for(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.5)
    pytest.fail(f"timed out after {timeout:g}s waiting for {what}")


@pytest.fixture
def stack(tmp_path):
    agent_port = free_port()
    demo = subprocess.Popen(
        demo_command(agent_port, 120, str(tmp_path / "data")),
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
    )
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s", "scrape_timeout": "1s"},
        "rule_files": [str(p) for p in sorted((ROOT / "rules").glob("*.yml"))],
        "scrape_configs": [{"job_name": "sla-agent", "static_configs": [{"targets": [f"127.0.0.1:{agent_port}"]}]}],
    }
    try:
        prom, base = start_prometheus(tmp_path, config)
    except BaseException:
        stop(demo)
        raise
    try:
        yield base, demo, prom
    finally:
        stop(prom)
        stop(demo)


def test_rules_and_dashboards_against_a_real_prometheus(stack):
    skip_in_demo_maintenance(DEADLINE)
    base, demo, prom = stack
    started = time.monotonic()
    assert SMS_ERRORS in {e for _, e in dashboard_expressions()}, "the SMS error-code panel changed: update SMS_ERRORS"
    assert CANARY_LATENCY in {e for _, e in dashboard_expressions()}, "the canary panel changed: update CANARY_LATENCY"

    def ready() -> bool:
        assert demo.poll() is None and prom.poll() is None, (demo.stderr.read() if demo.poll() is not None
                                                            else prom.stderr.read())
        # Every KPI with a value, link traffic rates (two scrapes), and the last recording-rule groups.
        return (len(query(base, "sla_kpi_value")["data"]["result"]) == len(KPIS)
                and has_data(query(base, "rate(sla_link_receive_bytes_total[1m])"))
                and len(query(base, "kpi:sla_error_budget_remaining:ratio_rate30d")["data"]["result"]) == RATIO_KPIS
                and len(query(base, "kpi:sla_error_budget_remaining:ratio_month")["data"]["result"]) == BUDGET_KPIS
                # The first failed SMS with an error code, scraped twice so rate() has data
                # (the demo's first one is reported about 12 s in).
                and has_data(query(base, substitute(SMS_ERRORS)))
                # The canary's first delivered probe (about 10 s in; then every 30 s).
                and has_data(query(base, substitute(CANARY_LATENCY))))

    wait_for(ready, DEADLINE - 15, "the demo's KPIs and the recording rules in prometheus")
    time.sleep(2)  # a couple more evaluations of every group

    problems = []
    expressions = [(w, e) for w, e, _ in rule_expressions()] + dashboard_expressions()
    must_have_data = [(w, e) for w, e, alert in rule_expressions() if not alert]
    must_have_data += [(f"{w} (operand)", o) for w, e, alert in rule_expressions() if alert for o in data_operands(e)]
    must_have_data += [(w, e) for w, e in dashboard_expressions() if e not in MAY_BE_EMPTY]
    for where, expr in expressions:
        result = query(base, substitute(expr))
        if result.get("status") != "success":
            problems.append(f"{where}: {result.get('error')}: {expr}")
    for where, expr in must_have_data:
        result = query(base, substitute(expr))
        if result.get("status") != "success" or not has_data(result):
            problems.append(f"{where}: no data: {expr}")
        elif (bad := non_finite(result)) and expr not in MAY_BE_NAN:
            problems.append(f"{where}: NaN/Inf {bad}: {expr}")
    assert not problems, "\n".join(problems)

    groups = json.load(urllib.request.urlopen(base + "/api/v1/rules", timeout=10))["data"]["groups"]
    names = {group["name"] for group in groups}
    committed = {group["name"] for path in (ROOT / "rules").glob("*.yml")
                 for group in yaml.safe_load(path.read_text(encoding="utf-8"))["groups"]}
    assert names == committed
    unhealthy = [(g["name"], r["name"], r.get("lastError")) for g in groups for r in g["rules"] if r["health"] != "ok"]
    assert not unhealthy

    # The SLIs agree with what the agent itself reports for the demo.
    def value(expr: str) -> float:
        return float(query(base, expr)["data"]["result"][0]["value"][1])

    assert value('kpi:sla_capacity:sum{kpi="egress_bandwidth"}') == pytest.approx(3.75e9)  # 3 x 10G up
    assert value('kpi:sla_capacity:sum{kpi="cloud_vcpu_capacity"}') == 17344
    assert value('1 - kpi:sla_error:ratio_rate5m{kpi="egress_link_availability"}') == 1
    assert time.monotonic() - started < DEADLINE


def test_stack_script_runs_the_stack_without_docker(tmp_path):
    """scripts/stack.sh: agent, Prometheus and Alertmanager on 127.0.0.1, wired together, and gone after."""
    ports = {name: free_port() for name in ("AGENT_PORT", "PROM_PORT", "AM_PORT", "SINK_PORT")}
    env = {**os.environ, **{k: str(v) for k, v in ports.items()},
           "SCRAPE_INTERVAL": "1s", "STACK_DIR": str(tmp_path / "stack"), "STACK_DURATION": "90",
           "PROMETHEUS": PROMETHEUS, "PYTHON": sys.executable}
    script = subprocess.Popen(["bash", str(ROOT / "scripts" / "stack.sh")], env=env, cwd=tmp_path,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{ports['PROM_PORT']}"
    try:
        def wired() -> bool:
            assert script.poll() is None, script.stdout.read()
            targets = json.loads(scrape(base + "/api/v1/targets") or '{"data": {"activeTargets": []}}')
            managers = json.loads(scrape(base + "/api/v1/alertmanagers") or '{"data": {}}')
            return (any(t["labels"]["job"] == "sla-agent" and t["health"] == "up"
                        for t in targets["data"]["activeTargets"])
                    and bool(managers["data"].get("activeAlertmanagers")))

        wait_for(wired, 45, "the stack script's prometheus to scrape the agent and find alertmanager")
        groups = json.loads(scrape(base + "/api/v1/rules"))["data"]["groups"]
        assert {g["name"] for g in groups} >= {"sla-agent.sli", "sla-agent.health-alerts"}
        assert scrape(f"http://127.0.0.1:{ports['AM_PORT']}/-/ready") is not None
    finally:
        stop(script, signal.SIGTERM, grace=30)
    output = script.stdout.read()
    assert "stack stopped" in output
    for port in ports.values():  # every process the script started is gone
        assert scrape(f"http://127.0.0.1:{port}/") is None
