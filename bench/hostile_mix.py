"""Benchmark: the agent with the demo lab plus hostile HTTP sources - /metrics latency, RSS, healthy polls.

    python bench/hostile_mix.py [--warmup 20] [--duration 60] [--gap 0.1] [--json FILE]

Three processes, so that what is measured is the agent alone: a server
process runs the demo lab (snmpsim devices, the simulated cloud and SMS
gateway: agent/lab) and the hostile HTTP sources (tests/hostile_http.py) on
127.0.0.1; the agent runs as ``python -m agent.cli run`` on the demo config
plus the hostile sources; this process scrapes /metrics one request after
another and reads the agent's RSS from /proc.

The hostile sources answer 404 (a cheap failed poll) during the warm-up, then
misbehave for ``--duration`` seconds: generic vendor APIs answering a 30 MiB
JSON body streamed without a Content-Length (under the old 32 MiB cap), a
body declared as 1 GiB, a body dribbled a byte every 0.2 s, JSON nested
100,000 deep, and a Keystone that resets every connection (two clouds of
each, every 10 s: one poll every 5 s of each fault); an SMS gateway whose feed
page is a 30 MiB list, every 2 s.

Reported: /metrics latency (p50, p99, max over the sequential scrapes of the
hostile phase), the agent's RSS at the end of the warm-up (normal), its peak
(VmHWM) and at the end, and for each healthy target the polls in the hostile
phase against what its interval allows, and how many failed. Runs the tree it
is in: copied into a checkout of another commit (with tests/hostile_http.py and
agent/lab/demo.py's demo_data / demo_env) it measures that commit. Not a test: no
thresholds. Every loop is bounded in time; the child processes end with this one.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import math
import os
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from agent.lab.processes import spawn_tied, stop_process  # noqa: E402
from tests.processes import free_port  # noqa: E402

HOSTILE_INTERVAL = "10s"
HOSTILE_TIMEOUT = "4s"
HOSTILE_COPIES = 2  # of each hostile cloud: together polled every 5 s
HUGE = 30 * 2**20
HEALTHY = ("egress-r1", "egress-r2", "mobile-r1", "gov-cloud/shenzhen-1", "gov-cloud/shenzhen-2", "gov-sms",
           "gov-sms/canary")


# -- the server process: lab and hostile sources ---------------------------------------


def hostile_routes(at: float) -> dict[str, Any]:
    """Path -> behaviour: 404 until wall time ``at``, then the fault."""
    from tests.hostile_http import answer, huge, nested, reset, slow_body

    not_yet = answer({"error": "not yet"}, status=404)

    def after(behaviour: Any) -> Any:
        async def behave(conn: Any) -> None:
            await (not_yet if time.time() < at else behaviour)(conn)
        return behave

    page = b'{"records": [' + b"0," * (HUGE // 2) + b'0], "next_cursor": "c", "has_more": false}'
    return {
        "/huge": after(huge(HUGE, declared=False)),
        "/declared": after(huge(2**30)),
        "/slow": after(slow_body(step=0.2)),
        "/nested": after(nested(100_000)),
        "/v3/auth/tokens": after(reset),
        "/v1/delivery-records": after(answer(page)),
    }


def agent_config(lab: Any, cloud: Any, sms: Any, hostile: str) -> dict[str, Any]:
    """The bundled demo config pointed at the running labs, plus the hostile sources."""
    from agent.lab.demo import demo_data

    data = demo_data(lab, cloud, "LISTEN", Path("DATA"), sms)
    mapping = {"vcpu": {"capacity": "cpu.total", "used": "cpu.used", "unit": "count"}}
    bounds = {"interval": HOSTILE_INTERVAL, "timeout": HOSTILE_TIMEOUT, "retries": 1}
    for copy in range(HOSTILE_COPIES):  # several of each: clouds may not be polled more often than every 10 s
        for name in ("huge", "declared", "slow", "nested"):
            data["clouds"].append({"type": "generic", "name": f"hostile-{name}-{copy}", "url": f"{hostile}/{name}",
                                   "mapping": mapping, **bounds})
        data["clouds"].append({"type": "openstack", "name": f"hostile-keystone-{copy}", "auth_url": hostile,
                               "regions": ["r1"], **bounds,
                               "auth": {"type": "password", "username": "u", "password": "${HOSTILE_PASSWORD}",
                                        "project_name": "p"}})
    data["sms"].append({"name": "hostile-sms", "url": hostile, "api_key": "${HOSTILE_PASSWORD}", "interval": "2s",
                        "timeout": "2s", "retries": 1})
    return data


async def serve(out: Path, at: float, lifetime: float) -> None:
    from agent.lab.cloud import CloudLab
    from agent.lab.demo import demo_env
    from agent.lab.devices import DEMO_DEVICES
    from agent.lab.simulator import SnmpLab
    from agent.lab.sms import DEMO_CANARY, SmsLab
    from tests.hostile_http import HostileServer

    with SnmpLab(DEMO_DEVICES) as lab:
        async with CloudLab() as cloud, SmsLab(**DEMO_CANARY) as sms, HostileServer(routes=hostile_routes(at)) as bad:
            env = {**demo_env(lab, cloud, sms), "HOSTILE_PASSWORD": "hostile-S3cret"}
            written = out.with_suffix(".tmp")
            written.write_text(yaml.safe_dump({"config": agent_config(lab, cloud, sms, bad.url),
                                               "env": env}, allow_unicode=True))
            written.rename(out)  # the measuring process reads it whole or not at all
            deadline = time.monotonic() + lifetime
            while time.monotonic() < deadline and lab.running:
                await asyncio.sleep(0.5)


# -- this process: scrape and measure -----------------------------------------------------


def rss_mib(pid: int, field: str = "VmRSS") -> float:
    text = Path(f"/proc/{pid}/status").read_text()
    match = re.search(rf"^{field}:\s+(\d+) kB", text, re.M)
    return int(match.group(1)) / 1024 if match else math.nan


def scrape(port: int) -> tuple[float, str | None]:
    """(seconds, body or None) of one GET /metrics."""
    started = time.perf_counter()
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("GET", "/metrics")
        body = conn.getresponse().read().decode()
        conn.close()
    except OSError:
        return time.perf_counter() - started, None
    return time.perf_counter() - started, body


_POLLS = re.compile(r'^sla_target_poll(s|_failures)_total\{collector="([^"]+)",target="([^"]+)"\} (\S+)$', re.M)


def poll_counts(body: str) -> dict[str, tuple[float, float]]:
    """target -> (polls, failures) from a /metrics body."""
    polls: dict[str, float] = {}
    failures: dict[str, float] = {}
    for kind, _, target, value in _POLLS.findall(body):
        (polls if kind == "s" else failures)[target] = float(value)
    return {t: (polls[t], failures.get(t, 0.0)) for t in polls}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def interval_of(config: dict[str, Any], target: str) -> float:
    from agent.units import parse_duration

    if target.endswith("/canary"):
        return next(parse_duration(g["canary"]["interval"]) for g in config["sms"] if g["name"] + "/canary" == target)
    for gateway in config["sms"]:
        if gateway["name"] == target:
            return parse_duration(gateway["interval"])
    for cloud in config["clouds"]:
        if target.startswith(cloud["name"] + "/"):
            return parse_duration(cloud.get("interval", "300s"))
    return parse_duration(config["snmp"]["defaults"]["interval"])


def measure(args: argparse.Namespace) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="hostile-mix-"))
    listen_port = args.port or free_port()
    hostile_at = time.time() + args.startup + args.warmup
    lifetime = args.startup + args.warmup + args.duration + 60
    server = spawn_tied([sys.executable, __file__, "--serve", str(work / "lab.yaml"), "--at", str(hostile_at),
                         "--lifetime", str(lifetime)], cwd=ROOT)
    agent = None
    try:
        for _ in range(int(args.startup * 10)):
            if (work / "lab.yaml").exists():
                break
            time.sleep(0.1)
        lab = yaml.safe_load((work / "lab.yaml").read_text())
        config = lab["config"]
        config["agent"].update(listen=f"127.0.0.1:{listen_port}", data_dir=str(work / "data"))
        (work / "agent.yaml").write_text(yaml.safe_dump(config, allow_unicode=True))
        env = {**os.environ, **lab["env"], "PYTHONPATH": str(ROOT)}
        log = (work / "agent.log").open("w")
        agent = spawn_tied([sys.executable, "-m", "agent.cli", "run", "-c", str(work / "agent.yaml")],
                           cwd=ROOT, env=env, stdout=log, stderr=log)
        warm_end = hostile_at
        body = None
        while time.time() < warm_end:
            _, body = scrape(listen_port)
            time.sleep(args.gap)
        if body is None or agent.poll() is not None:
            raise SystemExit(f"the agent did not answer on 127.0.0.1:{listen_port}; see {work / 'agent.log'}")
        normal = rss_mib(agent.pid)
        before = poll_counts(body)
        latencies: list[float] = []
        peak = normal
        end = hostile_at + args.duration
        failed_scrapes = 0
        for _ in range(int(args.duration / max(args.gap, 0.001)) + 1):
            if time.time() >= end:
                break
            seconds, body_now = scrape(listen_port)
            latencies.append(seconds)
            failed_scrapes += body_now is None
            body = body_now or body
            peak = max(peak, rss_mib(agent.pid))
            time.sleep(args.gap)
        _, final = scrape(listen_port)
        after = poll_counts(final or body or "")
        result = {
            "scrapes": len(latencies), "failed_scrapes": failed_scrapes,
            "metrics_p50_ms": percentile(latencies, 0.5) * 1000, "metrics_p99_ms": percentile(latencies, 0.99) * 1000,
            "metrics_max_ms": max(latencies) * 1000,
            "rss_normal_mib": normal, "rss_peak_mib": max(peak, rss_mib(agent.pid, "VmHWM")),
            "rss_end_mib": rss_mib(agent.pid),
            "healthy": {}, "hostile": {},
            "tracebacks_logged": 0, "log_lines": 0,
        }
        for target in sorted(after):
            polls = after[target][0] - before.get(target, (0.0, 0.0))[0]
            failures = after[target][1] - before.get(target, (0.0, 0.0))[1]
            row = {"polls": int(polls), "failed": int(failures),
                   "expected": int(args.duration // interval_of(config, target))}
            result["healthy" if target in HEALTHY else "hostile"][target] = row
    finally:
        if agent is not None:
            stop_process(agent)
        stop_process(server)
    text = (work / "agent.log").read_text(errors="replace")
    result["tracebacks_logged"] = text.count("Traceback (most recent call last)")
    result["log_lines"] = len(text.splitlines())
    result["log"] = str(work / "agent.log")
    return result


def report(result: dict[str, Any]) -> str:
    lines = [
        f"/metrics over {result['scrapes']} sequential scrapes ({result['failed_scrapes']} failed): "
        f"p50 {result['metrics_p50_ms']:.1f} ms, p99 {result['metrics_p99_ms']:.1f} ms, "
        f"max {result['metrics_max_ms']:.1f} ms",
        f"agent RSS: {result['rss_normal_mib']:.0f} MiB after the warm-up, peak {result['rss_peak_mib']:.0f} MiB, "
        f"{result['rss_end_mib']:.0f} MiB at the end",
        f"agent log: {result['log_lines']} lines, {result['tracebacks_logged']} tracebacks ({result['log']})",
        "healthy targets in the hostile phase (polls / expected, failed):",
    ]
    for target, row in result["healthy"].items():
        lines.append(f"  {target:<22} {row['polls']:>3} / {row['expected']:<3} failed {row['failed']}")
    lines.append("hostile targets (polls, failed):")
    for target, row in result["hostile"].items():
        lines.append(f"  {target:<22} {row['polls']:>3}, failed {row['failed']}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--warmup", type=float, default=20.0, help="seconds before the sources turn hostile")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of hostile phase")
    parser.add_argument("--gap", type=float, default=0.1, help="seconds between two scrapes")
    parser.add_argument("--startup", type=float, default=10.0, help="seconds allowed for the lab to start")
    parser.add_argument("--port", type=int, default=0, help="the agent's /metrics port (default: a free one)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--at", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--lifetime", type=float, default=300.0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve is not None:
        asyncio.run(serve(args.serve, args.at, args.lifetime))
        return 0
    result = measure(args)
    print(report(result))
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
