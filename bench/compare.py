"""sla-agent against Prometheus' snmp_exporter on the same simulated fleet, in one run.

    bench/run [--quick] [--runs 3] [--devices 500] [--interval 30] [--window 60]

See bench/README.md. Every figure is a ratio or a measurement taken in this
run on this machine: the simulator (bench/fleet.py) on one CPU, the tool
measured on the other, one tool at a time against the same devices.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import fleet as fleet_module  # noqa: E402
import procstat  # noqa: E402

from agent.lab.processes import spawn_tied, stop_process  # noqa: E402

FLEET_CPU, TOOL_CPU = 1, 0
COMMUNITY = "bench"
EXPORTER = shutil.which("prometheus-snmp-exporter")
EXPORTER_CONFIG = ROOT / "bench" / "snmp_exporter.yml"
SCRAPE_INTERVAL = 15.0  # how often Prometheus would scrape the agent's /metrics
_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- the fleet ----------------------------------------------------------------------------------


class Fleet:
    """bench/fleet.py in its own process, pinned to FLEET_CPU."""

    def __init__(self, devices: int, interfaces: int) -> None:
        self.devices, self.interfaces = devices, interfaces
        self.proc = spawn_tied([sys.executable, str(ROOT / "bench" / "fleet.py"), "--devices", str(devices),
                                "--interfaces", str(interfaces), "--community", COMMUNITY, "--cpu", str(FLEET_CPU)],
                               stdout=subprocess.PIPE)
        assert self.proc.stdout is not None
        info = json.loads(self.proc.stdout.readline())
        self.ports: list[int] = info["ports"]
        self.control: int = info["control"]

    def reset(self) -> None:
        fleet_module.query(self.control, b"reset")

    def stats(self) -> dict[str, float]:
        return fleet_module.query(self.control)

    def close(self) -> None:
        stop_process(self.proc)


# -- measurements -------------------------------------------------------------------------------


@dataclass
class Phase:
    """One tool against the fleet for one window."""

    tool: str
    devices: int
    links: int
    interval: float
    window: float
    cpu_seconds: float = 0.0
    varbinds: int = 0
    polls: int = 0
    failed_polls: int = 0
    fleet_cpu_seconds: float = 0.0
    rss_peak_bytes: int = 0
    rss_end_bytes: int = 0
    written_bytes: int = 0
    udp_receive_buffer_errors: int = 0
    poll_seconds_p50: float | None = None
    poll_seconds_p99: float | None = None
    lag_seconds_max: float | None = None
    skipped_ticks: int = 0
    metrics_ms: list[float] = field(default_factory=list)
    metrics_series: int = 0
    metrics_bytes: int = 0

    @property
    def cpu_per_1k_varbinds(self) -> float:
        return self.cpu_seconds / (self.varbinds / 1000) if self.varbinds else float("nan")

    @property
    def cpu_per_device_poll(self) -> float:
        return self.cpu_seconds / self.polls if self.polls else float("nan")

    @property
    def cores(self) -> float:
        return self.cpu_seconds / self.window

    def cores_for(self, devices: int, interval: float) -> float:
        """Cores for ``devices`` polled every ``interval`` s, scaled linearly from what was measured."""
        return self.cores * devices / self.devices * self.interval / interval

    def summary(self) -> dict[str, Any]:
        out = asdict(self)
        out.update(cpu_per_1k_varbinds=self.cpu_per_1k_varbinds, cpu_per_device_poll=self.cpu_per_device_poll,
                   cores=self.cores, fleet_share_of_core=self.fleet_cpu_seconds / self.window)
        return out


def parse_metrics(text: str) -> dict[str, list[tuple[str, float]]]:
    """Prometheus text format -> {name: [(labels, value)]}."""
    out: dict[str, list[tuple[str, float]]] = {}
    for line in text.splitlines():
        if not line or line[0] == "#":
            continue
        match = _SAMPLE.match(line)
        if match:
            out.setdefault(match.group(1), []).append((match.group(2) or "", float(match.group(3))))
    return out


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# -- sla-agent --------------------------------------------------------------------------------


def agent_config(fleet: Fleet, devices: int, links_per_device: int, interval: float, data_dir: Path,
                 listen: str, link_metrics: list[str], kpi_links: int = 0) -> dict[str, Any]:
    """A config of ``devices`` fleet devices, ``links_per_device`` links on each (or ``kpi_links`` in all)."""
    names = [f"dev{i:04d}" for i in range(devices)]
    config: dict[str, Any] = {
        "agent": {"listen": listen, "data_dir": str(data_dir), "kpi_interval": "15s"},
        "snmp": {"defaults": {"community": COMMUNITY, "timeout": "2s", "retries": 1, "interval": f"{interval:g}s"},
                 "max_concurrency": 256, "link_metrics": link_metrics,
                 "devices": [{"name": n, "address": "127.0.0.1", "port": p} for n, p in zip(names, fleet.ports)]},
    }
    if kpi_links:  # the KPI fleet: a few devices carry every KPI link, the others are polled for reachability
        per = fleet.interfaces
        carriers = names[: (kpi_links + per - 1) // per]
        links = [{"name": f"{d}-gi{j}", "device": d, "if_name": f"Gi0/0/{j}"}
                 for d in carriers for j in range(1, per + 1)][:kpi_links]
    else:
        links = [{"name": f"{d}-gi{j}", "device": d, "if_name": f"Gi0/0/{j}"}
                 for d in names for j in range(1, links_per_device + 1)]
    if links:
        half = len(links) // 2 or 1
        config["link_groups"] = [{"name": "egress", "links": links[:half]}]
        if links[half:]:
            config["link_groups"].append({"name": "office", "links": links[half:]})
        config["kpis"] = [{"id": "egress_bandwidth", "link_group": "egress"},
                          {"id": "egress_link_availability", "link_group": "egress"}]
        if links[half:]:
            config["kpis"].append({"id": "mobile_office_link_availability", "link_group": "office"})
    return config


async def _scrape(session: aiohttp.ClientSession, url: str) -> tuple[float, bytes]:
    started = time.perf_counter()
    async with session.get(url) as response:
        body = await response.read()
    return (time.perf_counter() - started) * 1000, body


async def _wait_for_steady_polls(session: aiohttp.ClientSession, url: str, devices: int, timeout: float) -> None:
    """Until every device was polled twice: the first poll walks, the second encodes its steady requests."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            _, body = await _scrape(session, url)
            polls = parse_metrics(body.decode()).get("sla_target_polls_total", [])
            if sum(1 for labels, value in polls if 'collector="snmp"' in labels and value >= 2) >= devices:
                return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.5)
    raise RuntimeError(f"the agent did not poll all {devices} devices within {timeout:g}s")


def _totals(metrics: dict[str, list[tuple[str, float]]], name: str) -> float:
    return sum(value for _, value in metrics.get(name, []))


def _profile(pid: int, seconds: float, workdir: Path) -> subprocess.Popen[bytes] | None:
    """With BENCH_PROFILE=DIR: py-spy samples the agent over the window (on the simulator's CPU), raw output in DIR."""
    target = os.environ.get("BENCH_PROFILE")
    if not target:
        return None
    out = Path(target) / f"agent-{workdir.name}-{pid}.txt"
    out.parent.mkdir(parents=True, exist_ok=True)
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    # --gil: only the thread holding the GIL, so threads waiting for it are not charged (SQLite releases it).
    proc = subprocess.Popen([spy, "record", "--nonblocking", "--gil", "-r", "50", "-d", str(int(seconds)), "-f", "raw",
                             "-o", str(out), "-p", str(pid)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    procstat.pin(proc.pid, FLEET_CPU)
    return proc


async def measure_agent(fleet: Fleet, phase: Phase, config: dict[str, Any], workdir: Path) -> Phase:
    path = workdir / "agent.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    url = f"http://{config['agent']['listen']}/metrics"
    proc = spawn_tied([sys.executable, "-m", "agent.cli", "--log-level", "warning", "run", "-c", str(path)],
                      cwd=str(ROOT), stdout=subprocess.DEVNULL, stderr=open(workdir / "agent.log", "ab"))
    procstat.pin(proc.pid, TOOL_CPU)
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
            await _wait_for_steady_polls(session, url, phase.devices, timeout=max(60.0, 3 * phase.interval))
            _, body = await _scrape(session, url)
            before = parse_metrics(body.decode())
            fleet.reset()
            cpu0, io0, udp0 = procstat.cpu_seconds(proc.pid), procstat.written_bytes(proc.pid), procstat.udp_counters()
            profiler = _profile(proc.pid, phase.window, workdir)
            started = time.monotonic()
            next_scrape = started + SCRAPE_INTERVAL / 2
            while time.monotonic() - started < phase.window:
                await asyncio.sleep(max(0.0, min(next_scrape, started + phase.window) - time.monotonic()))
                if time.monotonic() >= next_scrape:
                    ms, body = await _scrape(session, url)
                    phase.metrics_ms.append(ms)
                    phase.metrics_bytes = len(body)
                    next_scrape += SCRAPE_INTERVAL
            phase.cpu_seconds = procstat.cpu_seconds(proc.pid) - cpu0
            if profiler is not None:
                profiler.wait(timeout=30)
            phase.written_bytes = procstat.written_bytes(proc.pid) - io0
            phase.udp_receive_buffer_errors = procstat.udp_counters().receive_buffer_errors - udp0.receive_buffer_errors
            stats = fleet.stats()
            _, body = await _scrape(session, url)
            after = parse_metrics(body.decode())
    finally:
        phase.rss_end_bytes, phase.rss_peak_bytes = procstat.rss_bytes(proc.pid) if proc.poll() is None else (0, 0)
        stop_process(proc)
    phase.varbinds, phase.fleet_cpu_seconds = int(stats["varbinds"]), stats["cpu_seconds"]
    phase.polls = int(_totals(after, "sla_target_polls_total") - _totals(before, "sla_target_polls_total"))
    phase.failed_polls = int(_totals(after, "sla_target_poll_failures_total")
                             - _totals(before, "sla_target_poll_failures_total"))
    durations = [v for labels, v in after.get("sla_target_poll_duration_seconds", []) if 'collector="snmp"' in labels]
    phase.poll_seconds_p50, phase.poll_seconds_p99 = percentile(durations, 0.5), percentile(durations, 0.99)
    lags = [v for _, v in after.get("sla_scheduler_lag_seconds", [])]
    phase.lag_seconds_max = max(lags) if lags else None
    phase.skipped_ticks = int(_totals(after, "sla_scheduler_skipped_ticks_total")
                              - _totals(before, "sla_scheduler_skipped_ticks_total"))
    phase.metrics_series = sum(len(v) for v in after.values())
    return phase


# -- snmp_exporter ------------------------------------------------------------------------------


async def measure_exporter(fleet: Fleet, phase: Phase, devices: list[int], workdir: Path) -> Phase:
    if EXPORTER is None:
        raise RuntimeError("prometheus-snmp-exporter is not installed (apt-get install prometheus-snmp-exporter)")
    port = free_port()
    proc = spawn_tied([EXPORTER, f"--config.file={EXPORTER_CONFIG}", f"--web.listen-address=127.0.0.1:{port}"],
                      stdout=subprocess.DEVNULL, stderr=open(workdir / "exporter.log", "ab"))
    procstat.pin(proc.pid, TOOL_CPU)
    url = f"http://127.0.0.1:{port}/snmp?module=sla_if&target=127.0.0.1:"
    durations: list[float] = []
    failures = 0
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
            for _ in range(100):  # until it listens
                try:
                    await _scrape(session, url + str(devices[0]))
                    break
                except aiohttp.ClientError:
                    await asyncio.sleep(0.1)

            async def scrape(device: int, at: float) -> None:
                nonlocal failures
                await asyncio.sleep(max(0.0, at - time.monotonic()))
                try:
                    ms, body = await _scrape(session, url + str(device))
                    durations.append(ms / 1000)
                    failures += b"snmp_scrape_pdus_returned" not in body
                except aiohttp.ClientError:
                    failures += 1

            # As Prometheus does: each target once per interval, targets spread over it.
            fleet.reset()
            cpu0, udp0 = procstat.cpu_seconds(proc.pid), procstat.udp_counters()
            started = time.monotonic()
            rounds = max(1, round(phase.window / phase.interval))
            await asyncio.gather(*(scrape(d, started + r * phase.interval + phase.interval * k / len(devices))
                                   for r in range(rounds) for k, d in enumerate(devices)))
            phase.window = time.monotonic() - started
            phase.cpu_seconds = procstat.cpu_seconds(proc.pid) - cpu0
            phase.udp_receive_buffer_errors = procstat.udp_counters().receive_buffer_errors - udp0.receive_buffer_errors
            stats = fleet.stats()
    finally:
        phase.rss_end_bytes, phase.rss_peak_bytes = procstat.rss_bytes(proc.pid) if proc.poll() is None else (0, 0)
        stop_process(proc)
    phase.varbinds, phase.fleet_cpu_seconds = int(stats["varbinds"]), stats["cpu_seconds"]
    phase.polls, phase.failed_polls = len(durations) + failures, failures
    phase.poll_seconds_p50, phase.poll_seconds_p99 = percentile(durations, 0.5), percentile(durations, 0.99)
    return phase


# -- /metrics at 60k series, in process -------------------------------------------------------


def metrics_60k_ms() -> tuple[float, int]:
    """Median ms of /metrics as served for ~60,000 series (2,500 targets, 5,000 links), every target polled since."""
    from bench_exposition import render_ms

    return render_ms(targets=2_500, links=5_000)


# -- driving it ---------------------------------------------------------------------------------


def _median(runs: list[dict[str, Any]], key: str) -> float:
    values = [r[key] for r in runs if r.get(key) is not None and r[key] == r[key]]
    return statistics.median(values) if values else float("nan")


async def run_once(args: argparse.Namespace, number: int) -> dict[str, Any]:
    """One comparison (both tools on ``--devices``), the full fleet and the KPI fleet."""
    result: dict[str, Any] = {"run": number}
    workdir = Path(tempfile.mkdtemp(prefix="sla-bench-"))
    try:
        fleet = Fleet(max(args.devices, args.fleet_devices, args.kpi_devices), args.interfaces)
        try:
            log(f"run {number}: comparison, {args.devices} devices x {args.interfaces} links every {args.interval:g}s")
            listen = f"127.0.0.1:{free_port()}"
            config = agent_config(fleet, args.devices, args.interfaces, args.interval, workdir / "data-cmp", listen,
                                  ["traffic", "errors"])
            agent = await measure_agent(fleet, Phase("sla-agent", args.devices, args.devices * args.interfaces,
                                                     args.interval, args.window), config, workdir)
            exporter = await measure_exporter(fleet, Phase("snmp_exporter", args.devices, args.devices * args.interfaces,
                                                           args.interval, args.window), fleet.ports[: args.devices],
                                              workdir)
            result["agent"], result["snmp_exporter"] = agent.summary(), exporter.summary()
            result["ratio"] = agent.cpu_per_1k_varbinds / exporter.cpu_per_1k_varbinds
            log(f"  agent {agent.cpu_per_1k_varbinds:.4f} vs snmp_exporter {exporter.cpu_per_1k_varbinds:.4f} "
                f"CPU-s per 1,000 varbinds: ratio {result['ratio']:.2f}")

            log(f"run {number}: full fleet, {args.fleet_devices} devices x {args.interfaces} links every "
                f"{args.fleet_interval:g}s (the KPI columns and traffic)")
            listen = f"127.0.0.1:{free_port()}"
            config = agent_config(fleet, args.fleet_devices, args.interfaces, args.fleet_interval,
                                  workdir / "data-fleet", listen, ["traffic"])
            full = await measure_agent(fleet, Phase("sla-agent", args.fleet_devices, args.fleet_devices * args.interfaces,
                                                    args.fleet_interval, args.fleet_window), config, workdir)
            result["full_fleet"] = full.summary()
            result["fleet_2500x24_30s_cores"] = full.cores_for(2500, 30.0)
            log(f"  {full.cores:.3f} cores measured -> {result['fleet_2500x24_30s_cores']:.3f} for 2,500 devices")

            log(f"run {number}: KPI fleet, {args.kpi_devices} devices for reachability + {args.kpi_links} KPI links")
            listen = f"127.0.0.1:{free_port()}"
            config = agent_config(fleet, args.kpi_devices, 0, args.fleet_interval, workdir / "data-kpi", listen,
                                  ["traffic"], kpi_links=args.kpi_links)
            kpi = await measure_agent(fleet, Phase("sla-agent", args.kpi_devices, args.kpi_links, args.fleet_interval,
                                                   args.fleet_window), config, workdir)
            result["kpi_fleet"] = kpi.summary()
            result["kpi_fleet_2500_30s_cores"] = kpi.cores_for(2500, 30.0)
            log(f"  {kpi.cores:.3f} cores measured -> {result['kpi_fleet_2500_30s_cores']:.3f} for 2,500 devices")
        finally:
            fleet.close()
        result["metrics_60k_ms"], result["metrics_60k_series"] = metrics_60k_ms()
        log(f"  /metrics: {result['metrics_60k_series']} series rendered in {result['metrics_60k_ms']:.1f} ms")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return result


def print_table(runs: list[dict[str, Any]]) -> None:
    rows = [
        ("agent CPU-s per 1,000 varbinds", lambda r: r["agent"]["cpu_per_1k_varbinds"], "{:.4f}"),
        ("snmp_exporter CPU-s per 1,000 varbinds", lambda r: r["snmp_exporter"]["cpu_per_1k_varbinds"], "{:.4f}"),
        ("ratio agent / snmp_exporter", lambda r: r["ratio"], "{:.2f}"),
        ("agent CPU per device poll (ms)", lambda r: r["agent"]["cpu_per_device_poll"] * 1000, "{:.2f}"),
        ("snmp_exporter CPU per scrape (ms)", lambda r: r["snmp_exporter"]["cpu_per_device_poll"] * 1000, "{:.2f}"),
        ("agent failed polls / all", lambda r: f"{r['agent']['failed_polls']}/{r['agent']['polls']}", "{}"),
        ("snmp_exporter failed scrapes / all",
         lambda r: f"{r['snmp_exporter']['failed_polls']}/{r['snmp_exporter']['polls']}", "{}"),
        ("agent poll p99 (s) / exporter scrape p99 (s)",
         lambda r: f"{r['agent']['poll_seconds_p99'] or 0:.3f} / {r['snmp_exporter']['poll_seconds_p99'] or 0:.3f}", "{}"),
        ("full fleet: cores measured", lambda r: r["full_fleet"]["cores"], "{:.3f}"),
        ("full fleet: 2,500 x 24 at 30 s, cores", lambda r: r["fleet_2500x24_30s_cores"], "{:.3f}"),
        ("full fleet: scheduler lag max (s)", lambda r: r["full_fleet"]["lag_seconds_max"] or 0, "{:.2f}"),
        ("full fleet: poll interval (s)", lambda r: r["full_fleet"]["interval"], "{:.0f}"),
        ("full fleet: failed polls / all", lambda r: f"{r['full_fleet']['failed_polls']}/{r['full_fleet']['polls']}",
         "{}"),
        ("full fleet: UDP receive-buffer drops", lambda r: r["full_fleet"]["udp_receive_buffer_errors"], "{}"),
        ("full fleet: peak RSS (MB)", lambda r: r["full_fleet"]["rss_peak_bytes"] / 1e6, "{:.0f}"),
        ("full fleet: /metrics ms (median)",
         lambda r: statistics.median(r["full_fleet"]["metrics_ms"]) if r["full_fleet"]["metrics_ms"] else 0, "{:.1f}"),
        ("full fleet: /metrics series", lambda r: r["full_fleet"]["metrics_series"], "{}"),
        ("full fleet: ledger bytes written per poll cycle",
         lambda r: r["full_fleet"]["written_bytes"] / max(1.0, r["full_fleet"]["window"] / r["full_fleet"]["interval"]),
         "{:.0f}"),
        ("full fleet: simulator share of its core", lambda r: r["full_fleet"]["fleet_share_of_core"], "{:.3f}"),
        ("KPI fleet: 2,500 devices + KPI links at 30 s, cores", lambda r: r["kpi_fleet_2500_30s_cores"], "{:.3f}"),
        ("/metrics as served, ~60k series (ms)", lambda r: r["metrics_60k_ms"], "{:.1f}"),
    ]
    width = max(len(name) for name, _, _ in rows)
    for name, get, fmt in rows:
        cells = []
        for run in runs:
            try:
                cells.append(fmt.format(get(run)))
            except (KeyError, TypeError, ValueError):
                cells.append("-")
        print(f"{name:<{width}}  " + "  ".join(f"{c:>12}" for c in cells))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="sla-agent vs snmp_exporter on one simulated fleet (bench/README.md)")
    parser.add_argument("--quick", action="store_true", help="one short run (under 2 minutes), projected to 2,500")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--devices", type=int, default=500, help="devices in the side-by-side comparison")
    parser.add_argument("--interfaces", type=int, default=24)
    parser.add_argument("--interval", type=float, default=30.0, help="poll / scrape interval of the comparison")
    parser.add_argument("--window", type=float, default=60.0, help="seconds measured per tool")
    parser.add_argument("--fleet-devices", type=int, default=2500)
    parser.add_argument("--fleet-window", type=float, default=60.0)
    parser.add_argument("--fleet-interval", type=float, default=30.0,
                        help="poll interval of the full and KPI fleets (figures are scaled to 30 s)")
    parser.add_argument("--kpi-devices", type=int, default=2500)
    parser.add_argument("--kpi-links", type=int, default=200)
    args = parser.parse_args(argv)
    if args.quick:  # shorter intervals and windows; the fleets' figures are scaled to 2,500 devices at 30 s
        args.runs, args.devices, args.interval, args.window = 1, 200, 6.0, 12.0
        args.fleet_devices, args.fleet_interval, args.fleet_window = 600, 6.0, 12.0
    runs = [asyncio.run(run_once(args, n + 1)) for n in range(args.runs)]
    print_table(runs)
    keys = ("ratio", "fleet_2500x24_30s_cores", "kpi_fleet_2500_30s_cores", "metrics_60k_ms")
    line = {"agent_cpu_per_1k_varbinds": statistics.median(r["agent"]["cpu_per_1k_varbinds"] for r in runs),
            "snmp_exporter_cpu_per_1k_varbinds": statistics.median(r["snmp_exporter"]["cpu_per_1k_varbinds"]
                                                                   for r in runs)}
    line.update({key: _median(runs, key) for key in keys})
    line.update(runs=len(runs), devices=args.devices, fleet_devices=args.fleet_devices, quick=args.quick)
    print(json.dumps(line))
    return 0


if __name__ == "__main__":
    sys.exit(main())
