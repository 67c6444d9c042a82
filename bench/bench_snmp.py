"""Benchmark: the agent's SNMP polling cost on one core, and its /metrics render time.

    python bench/bench_snmp.py [--devices 50] [--links 24] [--rounds 10] [--walks 40]
                               [--expo-devices 2500] [--expo-links 200]

One private net-snmp ``snmpd`` (Debian package, never the system service) is
started on 127.0.0.1 on a free high UDP port with its own config and v2c
community, and stopped at the end, also on an error or Ctrl-C. The loopback
agent only has the machine's own interfaces (lo, eth0, ...), so the config
adds synthetic IF-MIB rows with net-snmp's ``override`` directive until each
device has ``--links`` interfaces to configure links on (real ones first).
``override`` has no Counter64 type: the synthetic rows' ifHCIn/OutOctets are
served as Counter32 with fixed values (same decode path, 1-3 bytes shorter on
the wire than a busy Counter64).

The benchmark process is pinned to one CPU (os.sched_setaffinity, where the
platform has it), snmpd to the others; all CPU figures are this process's
time.process_time(), snmpd's CPU excluded. Measured in the same run:

* baseline: stock pysnmp 7 asyncio ``bulk_walk_cmd`` (one shared engine,
  lookupMib=False, maxRepetitions 25, lexicographicMode=False) of the IF-MIB
  columns the agent needs plus sysUpTime, ``--walks`` times: CPU-s per 1,000
  varbinds received (and per 1,000 in-column varbinds it yields);
* the agent: SnmpCollector built as agent/app.py's build_collectors does, from
  a parsed config of ``--devices`` devices (distinct names, all the same
  snmpd) with ``--links`` links each; the first poll (walks the naming
  columns) and ``--rounds`` steady rounds (every device polled once a round,
  concurrently, ``--concurrency`` at a time: one snmpd answers for all): CPU-s per device-poll
  and per 1,000 varbinds exchanged. Varbinds and requests are counted by
  wrapping pysnmp's get_cmd/bulk_cmd where the session and bulk_walk_cmd look
  them up (one extra await per PDU; no library code changed);
* the projection: CPU-s per 30 s cycle for 2,500 devices x 24 links, and the
  share of one core;
* /metrics: the agent's registry (agent/exposition.py over an AgentState
  holding ``--expo-devices`` SNMP targets and ``--expo-links`` links)
  rendered with generate_latest, against generate_latest over a plain
  prometheus_client registry holding the same series.

Not a test: no thresholds; the figures are for docs/performance.md and for
spotting regressions.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Awaitable, Callable, Iterator, Sequence

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pysnmp.hlapi.v3arch.asyncio import (  # noqa: E402
    CommunityData,
    ContextData,
    ObjectIdentity,
    ObjectType,
    SnmpEngine,
    UdpTransportTarget,
    bulk_walk_cmd,
    get_cmd,
)
from pysnmp.hlapi.v3arch.asyncio import cmdgen as pysnmp_cmdgen  # noqa: E402

from agent.app import build_collectors  # noqa: E402
from agent.config import Config, parse_config  # noqa: E402
from agent.lab.processes import spawn_tied, stop_process  # noqa: E402
from agent.ledger import Ledger  # noqa: E402
from collectors.snmp import SnmpCollector, SnmpTarget  # noqa: E402
from collectors.snmp import oids  # noqa: E402
from collectors.snmp import session as snmp_session  # noqa: E402
from collectors.snmp.session import BULK_REPETITIONS, GET_CHUNK  # noqa: E402

SNMPD = Path("/usr/sbin/snmpd")
HOST = "127.0.0.1"
COMMUNITY = "bench-ro"
START_TIMEOUT = 10.0
SYNTHETIC_BASE = 1001  # ifIndex of the first synthetic row, far above the real ones
TARGET_DEVICES = 2500
TARGET_LINKS = 24
CYCLE = 30.0

# What the baseline walks: every IF-MIB column the agent reads, plus sysUpTime.
BASELINE_COLUMNS: tuple[oids.Column, ...] = (
    oids.IF_NAME, oids.IF_DESCR, oids.IF_ALIAS, oids.IF_OPER_STATUS, oids.IF_ADMIN_STATUS, oids.IF_HIGH_SPEED,
    oids.IF_HC_IN_OCTETS, oids.IF_HC_OUT_OCTETS, oids.IF_IN_ERRORS, oids.IF_OUT_ERRORS,
    oids.IF_IN_DISCARDS, oids.IF_OUT_DISCARDS,
)
SYS_UPTIME_COLUMN = oids.SYS_UPTIME[:-1]


def pin_to_one_core() -> tuple[str, set[int] | None]:
    """Run on one CPU only; returns what was done and the CPUs left for snmpd."""
    if not hasattr(os, "sched_setaffinity"):
        return "not pinned (no os.sched_setaffinity on this platform)", None
    cpus = os.sched_getaffinity(0)
    cpu = max(cpus)
    os.sched_setaffinity(0, {cpu})
    others = cpus - {cpu}
    return f"pinned to CPU {cpu}", (others or None)


# -- the private snmpd ------------------------------------------------------


def _synthetic_rows(count: int) -> list[str]:
    """snmpd.conf ``override`` lines adding ``count`` interface rows (ifIndex SYNTHETIC_BASE...)."""
    lines = []
    for k in range(count):
        i = SYNTHETIC_BASE + k
        name = f"bench{k:02d}"
        cells = [
            (oids.IF_DESCR, "octet_str", f'"{name} synthetic"'),
            (oids.IF_ADMIN_STATUS, "integer", "1"),
            (oids.IF_OPER_STATUS, "integer", "1"),
            (oids.IF_IN_DISCARDS, "counter", str(17 + k)),
            (oids.IF_IN_ERRORS, "counter", str(3 + k)),
            (oids.IF_OUT_DISCARDS, "counter", str(29 + k)),
            (oids.IF_OUT_ERRORS, "counter", str(5 + k)),
            (oids.IF_NAME, "octet_str", f'"{name}"'),
            # Counter32 stands in for Counter64 (override has no counter64).
            (oids.IF_HC_IN_OCTETS, "counter", str(3_900_000_000 + 1_000 * k)),
            (oids.IF_HC_OUT_OCTETS, "counter", str(2_700_000_000 + 1_000 * k)),
            (oids.IF_HIGH_SPEED, "uinteger", "10000"),
            (oids.IF_ALIAS, "octet_str", f'"bench uplink {k}"'),
        ]
        lines += [f"override {oids.dotted(column.instance(i))} {kind} {value}" for column, kind, value in cells]
    return lines


@dataclass(frozen=True)
class Agent:
    port: int
    workdir: Path


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


async def _sys_uptime(engine: SnmpEngine, port: int, timeout: float = 0.3) -> bool:
    target = await UdpTransportTarget.create((HOST, port), timeout=timeout, retries=0)
    indication, status, _, _ = await get_cmd(
        engine, CommunityData(COMMUNITY, mpModel=1), target, ContextData(),
        ObjectType(ObjectIdentity(oids.dotted(oids.SYS_UPTIME))), lookupMib=False,
    )
    return not indication and not status


@contextlib.contextmanager
def private_snmpd(synthetic: int, cpus: set[int] | None) -> Iterator[Agent]:
    """A net-snmp snmpd on 127.0.0.1 with ``synthetic`` extra interface rows; always stopped."""
    if not SNMPD.exists():
        raise SystemExit(f"net-snmp snmpd not found at {SNMPD} (Debian package snmpd)")
    workdir = Path(tempfile.mkdtemp(prefix="bench-snmpd-"))
    proc: subprocess.Popen[bytes] | None = None
    try:
        (workdir / "persist").mkdir()
        port = _free_port()
        conf = workdir / "snmpd.conf"
        conf.write_text(
            "\n".join([f"agentaddress udp:{HOST}:{port}", f"rocommunity {COMMUNITY} {HOST}",
                       "dontLogTCPWrappersConnects yes", *_synthetic_rows(synthetic)]) + "\n",
            encoding="utf-8",
        )
        env = {**os.environ, "SNMPCONFPATH": str(workdir), "SNMP_PERSISTENT_DIR": str(workdir / "persist")}
        log = workdir / "snmpd.log"
        command = [str(SNMPD), "-f", "-Lf", str(log), "-C", "-c", str(conf), "-p", str(workdir / "snmpd.pid")]
        # Tied to the benchmark: a killed run leaves no snmpd behind.
        proc = spawn_tied(command, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL)
        if cpus:  # keep snmpd off the benchmark's CPU (it is single-threaded)
            os.sched_setaffinity(proc.pid, cpus)

        async def ready() -> None:
            engine = SnmpEngine()
            try:
                deadline = time.monotonic() + START_TIMEOUT
                while time.monotonic() < deadline:
                    if proc.poll() is not None:
                        raise RuntimeError(f"snmpd exited with {proc.returncode}: "
                                           f"{log.read_text(errors='replace')[-1500:]}")
                    if await _sys_uptime(engine, port):
                        return
                raise RuntimeError(f"snmpd did not answer within {START_TIMEOUT:g}s")
            finally:
                engine.close_dispatcher()

        asyncio.run(ready())
        yield Agent(port, workdir)
    finally:
        if proc is not None:
            stop_process(proc)
        shutil.rmtree(workdir, ignore_errors=True)


# -- counting varbinds --------------------------------------------------------


@dataclass
class Tally:
    requests: int = 0
    varbinds: int = 0  # in responses


TALLY = Tally()


def _counting(command: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    async def counted(*args: Any, **kwargs: Any) -> Any:
        result = await command(*args, **kwargs)
        TALLY.requests += 1
        TALLY.varbinds += len(result[3] or ())
        return result

    return counted


def install_counters() -> None:
    """Count every request and response varbind of the agent's session and of bulk_walk_cmd."""
    snmp_session.get_cmd = _counting(snmp_session.get_cmd)  # type: ignore[assignment]
    snmp_session.bulk_cmd = _counting(snmp_session.bulk_cmd)  # type: ignore[assignment]
    pysnmp_cmdgen.bulk_cmd = _counting(pysnmp_cmdgen.bulk_cmd)  # type: ignore[attr-defined]


@dataclass
class Measured:
    cpu: float  # process CPU-s
    wall: float
    requests: int
    varbinds: int


async def measure(job: Callable[[], Awaitable[int]]) -> tuple[Measured, int]:
    """Run ``job``; its CPU, wall time, requests and varbinds, and what it returned."""
    requests, varbinds = TALLY.requests, TALLY.varbinds
    wall, cpu = time.perf_counter(), time.process_time()
    out = await job()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return Measured(cpu, wall, TALLY.requests - requests, TALLY.varbinds - varbinds), out


# -- (a) baseline: stock bulk_walk_cmd ------------------------------------------


async def baseline_walk(port: int, walks: int) -> tuple[Measured, int, dict[int, str]]:
    """``walks`` x stock bulk walks of the agent's columns + sysUpTime; also ifName by ifIndex."""
    engine = SnmpEngine()
    auth, context = CommunityData(COMMUNITY, mpModel=1), ContextData()
    target = await UdpTransportTarget.create((HOST, port), timeout=2.0, retries=1)
    starts = [oids.dotted(c.oid) for c in BASELINE_COLUMNS] + [oids.dotted(SYS_UPTIME_COLUMN)]
    names: dict[int, str] = {}

    async def one(start: str) -> int:
        count = 0
        async for indication, status, _, varbinds in bulk_walk_cmd(
            engine, auth, target, context, 0, BULK_REPETITIONS, ObjectType(ObjectIdentity(start)),
            lookupMib=False, lexicographicMode=False,
        ):
            if indication or status:
                raise RuntimeError(f"baseline walk of {start}: {indication or status.prettyPrint()}")
            count += len(varbinds)
            if start == starts[0]:
                for name, value in varbinds:
                    names[int(tuple(name)[-1])] = value.asOctets().decode(errors="replace")
        return count

    async def all_walks() -> int:
        total = 0
        for _ in range(walks):
            total += sum(await asyncio.gather(*(one(s) for s in starts)))
        return total

    try:
        await one(starts[0])  # warm-up: the engine's first request, and the interface names
        measured, yielded = await measure(all_walks)
    finally:
        engine.close_dispatcher()
    return measured, yielded, names


# -- (b) the agent's collector ----------------------------------------------------


def bench_config(port: int, devices: int, interfaces: Sequence[str], links: int) -> Config:
    """``devices`` devices on the one snmpd, each with ``links`` links by ifName."""
    device_list = [{"name": f"bench-d{d:04d}", "address": HOST, "community": COMMUNITY} for d in range(devices)]
    link_list = [
        # A contracted capacity: the real ifb/eth interfaces report ifHighSpeed 0.
        {"name": f"bench-d{d:04d}-l{k:02d}", "device": f"bench-d{d:04d}", "if_name": interfaces[k],
         "capacity": "10Gbit/s"}
        for d in range(devices) for k in range(links)
    ]
    data: dict[str, Any] = {
        "snmp": {"defaults": {"port": port, "timeout": "2s", "retries": 1}, "devices": device_list},
        "link_groups": [{"name": "bench", "links": link_list}],
    }
    return parse_config(data, "bench.yaml")


@dataclass
class CollectorRun:
    devices: int
    links: int
    first: Measured
    steady: Measured
    steady_polls: int


async def run_collector(config: Config, rounds: int, concurrency: int, ledger_dir: Path) -> CollectorRun:
    ledger = Ledger(ledger_dir / "ledger.sqlite")
    collectors = build_collectors(config, ledger)
    (collector,) = collectors
    assert isinstance(collector, SnmpCollector)
    targets = [t for t in collector.targets() if isinstance(t, SnmpTarget)]
    # One snmpd stands in for every device: more polls in flight than it answers
    # at once overflow its socket buffer, and the retries would be measured.
    limit = asyncio.Semaphore(min(concurrency, config.snmp.max_concurrency))

    async def one(target: SnmpTarget) -> int:
        async with limit:
            result = await collector.poll(target)
        up = sum(1 for o in result.observations if o.series.endswith(":up") and o.value is not None)
        if up != len(target.links):
            raise RuntimeError(f"{target.name}: {up} of {len(target.links)} links known")
        return 1

    async def a_round() -> int:
        return sum(await asyncio.gather(*(one(t) for t in targets)))

    async def steady() -> int:
        return sum([await a_round() for _ in range(rounds)])

    try:
        first, _ = await measure(a_round)
        steady_measured, polls = await measure(steady)
    finally:
        await collector.close()
        ledger.close()
    return CollectorRun(len(targets), len(targets[0].links), first, steady_measured, polls)


# -- /metrics -------------------------------------------------------------------


def synthetic_state(devices: int, links: int) -> Any:
    """An AgentState as the scheduler leaves it: ``devices`` SNMP targets, ``links`` links among them."""
    from agent.state import AgentState, TargetStatus
    from collectors.base import sampler, samplers

    link_metrics = samplers(
        "sla_link_up", "sla_link_admin_up", "sla_link_capacity_bytes_per_second",
        "sla_link_receive_bytes_total", "sla_link_transmit_bytes_total",
        "sla_link_receive_bytes_per_second", "sla_link_transmit_bytes_per_second",
        "sla_link_receive_errors_total", "sla_link_transmit_errors_total",
        "sla_link_receive_discards_total", "sla_link_transmit_discards_total",
    )
    uptime = sampler("sla_snmp_device_uptime_seconds")
    state = AgentState()
    now = 1_790_000_000.0
    per_device: dict[int, list[int]] = {}
    for k in range(links):
        per_device.setdefault(k * devices // links if links <= devices else k % devices, []).append(k)
    for d in range(devices):
        name = f"dev-{d:04d}"
        samples = [uptime(name, value=86_400.0 + d)]
        for k in per_device.get(d, ()):
            for metric, make in link_metrics.items():
                samples.append(make(f"link-{k:04d}", f"group-{k % 8}", name, value=float(k * 1_000 + len(metric))))
        state.targets[("snmp", name)] = TargetStatus(
            collector="snmp", target=name, up=True, duration=0.01 + d / 1e6, last_success=now,
            polls=2_880 + d, failures=d % 3, discontinuities=d % 2, samples=tuple(samples), error=None,
        )
    state.ledger.writes, state.ledger.last_write = 86_400, now
    return state


def plain_registry(state: Any) -> Any:
    """The same series in a plain prometheus_client registry (Gauge/Counter with labels)."""
    from prometheus_client import CollectorRegistry, Counter, Gauge

    from agent import __version__
    from agent.metrics import METRICS

    registry = CollectorRegistry(auto_describe=False)
    made: dict[str, Any] = {}

    def metric(name: str) -> Any:
        if name not in made:
            spec = METRICS[name]
            if spec.type == "counter":
                made[name] = Counter(name.removesuffix("_total"), spec.help, spec.labels, registry=registry)
            else:
                made[name] = Gauge(name, spec.help, spec.labels, registry=registry)
        return made[name]

    def put(name: str, value: float, labels: Sequence[str] = ()) -> None:
        m = metric(name)
        child = m.labels(*labels) if labels else m
        if METRICS[name].type == "counter":
            child.inc(value)
        else:
            child.set(value)

    put("sla_agent_info", 1, (__version__,))
    for t in state.target_list():
        ids = (t.collector, t.target)
        put("sla_target_up", 1 if t.up else 0, ids)
        put("sla_target_poll_duration_seconds", t.duration, ids)
        put("sla_target_last_success_timestamp_seconds", t.last_success, ids)
        put("sla_target_polls_total", t.polls, ids)
        put("sla_target_poll_failures_total", t.failures, ids)
        put("sla_counter_discontinuities_total", t.discontinuities, ids)
        for s in t.samples:
            put(s.name, s.value, tuple(v for _, v in s.labels))
    put("sla_ledger_writes_total", state.ledger.writes)
    put("sla_ledger_write_failures_total", state.ledger.failures)
    put("sla_ledger_last_write_timestamp_seconds", state.ledger.last_write)
    return registry


def series_count(payload: bytes) -> int:
    return sum(1 for line in payload.splitlines() if line and not line.startswith(b"#"))


def timed(render: Callable[[], bytes], repeat: int) -> tuple[float, bytes]:
    """Median CPU-s of ``repeat`` renders (one untimed warm-up), and the last payload."""
    payload = render()
    times = []
    for _ in range(repeat):
        started = time.process_time()
        payload = render()
        times.append(time.process_time() - started)
    return statistics.median(times), payload


def exposition(devices: int, links: int, repeat: int) -> None:
    from prometheus_client import disable_created_metrics, generate_latest

    from agent.exposition import make_registry

    disable_created_metrics()  # the agent's counter families carry no _created series either
    state = synthetic_state(devices, links)
    agent_registry, baseline_registry = make_registry(state), plain_registry(state)
    base, base_payload = timed(lambda: generate_latest(baseline_registry), repeat)
    agent, agent_payload = timed(lambda: generate_latest(agent_registry), repeat)
    n_agent, n_base = series_count(agent_payload), series_count(base_payload)
    print(f"/metrics render, {devices:,} SNMP targets + {links:,} links (median of {repeat}):")
    print(f"  baseline generate_latest, plain registry    {base * 1e3:8.1f} ms  {n_base:,} series, "
          f"{len(base_payload) / 1024:,.0f} KiB")
    print(f"  agent make_registry(state) + generate_latest {agent * 1e3:7.1f} ms  {n_agent:,} series, "
          f"{len(agent_payload) / 1024:,.0f} KiB  ({agent / base:.2f}x the baseline; "
          f"{agent / n_agent * 1e6:.1f} us per series)")
    if n_agent != n_base:
        print(f"  NOTE: series counts differ ({n_agent:,} vs {n_base:,})")


# -- main -------------------------------------------------------------------------


def per_k(cpu: float, varbinds: int) -> float:
    return cpu / varbinds * 1000 if varbinds else float("nan")


def steady_varbinds(links: int) -> tuple[int, int]:
    """Varbinds and GET PDUs of one steady poll of a device with ``links`` links on distinct interfaces."""
    varbinds = 3 + links * len(oids.LINK_COLUMNS)
    return varbinds, -(-varbinds // GET_CHUNK)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--devices", type=int, default=50, help="devices in the collector's config (default %(default)s)")
    parser.add_argument("--links", type=int, default=TARGET_LINKS, help="links per device, each on its own "
                        "interface; synthetic rows are added as needed (default %(default)s)")
    parser.add_argument("--rounds", type=int, default=10, help="steady rounds, each polls every device "
                        "(default %(default)s)")
    parser.add_argument("--concurrency", type=int, default=8, help="device polls in flight at once, against "
                        "the one snmpd (default %(default)s)")
    parser.add_argument("--walks", type=int, default=40, help="baseline walk repetitions (default %(default)s)")
    parser.add_argument("--expo-devices", type=int, default=TARGET_DEVICES)
    parser.add_argument("--expo-links", type=int, default=200)
    parser.add_argument("--expo-repeat", type=int, default=5)
    args = parser.parse_args(argv)
    for name in ("devices", "links", "rounds", "concurrency", "walks", "expo_repeat"):
        if not 1 <= getattr(args, name) <= 10_000:
            parser.error(f"--{name.replace('_', '-')} must be 1..10000")
    if args.links > 500:
        parser.error("--links must be at most 500")
    # SIGTERM ends the run like Ctrl-C does, so snmpd is always stopped.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        return run(args)
    except KeyboardInterrupt:
        print("interrupted; snmpd stopped", file=sys.stderr)
        return 130


def run(args: argparse.Namespace) -> int:

    started = time.monotonic()
    pinned, others = pin_to_one_core()
    install_counters()
    # net-snmp's ifTable lists the kernel's interfaces; synthetic rows make up the rest.
    synthetic = max(0, args.links - len(socket.if_nameindex()))
    with private_snmpd(synthetic, others) as agent:
        print(f"SNMP polling benchmark, {pinned}; net-snmp snmpd on {HOST}:{agent.port} "
              f"(v2c, its CPU not counted{', on CPUs ' + ','.join(map(str, sorted(others))) if others else ''})")
        base, yielded, names = asyncio.run(baseline_walk(agent.port, args.walks))
        real = [names[i] for i in sorted(names) if i < SYNTHETIC_BASE]
        interfaces = (real + [names[i] for i in sorted(names) if i >= SYNTHETIC_BASE])[: args.links]
        if len(interfaces) < args.links:
            raise SystemExit(f"snmpd exposes {len(interfaces)} interfaces, {args.links} needed")
        rows = len(names)
        print(f"snmpd's interfaces: {len(real)} real ({', '.join(real)}) + {rows - len(real)} synthetic; "
              f"each device's {args.links} links: {len(set(interfaces) & set(real))} real + "
              f"{args.links - len(set(interfaces) & set(real))} synthetic interfaces")
        base_k = per_k(base.cpu, base.varbinds)
        print(f"(a) baseline, stock bulk_walk_cmd of {len(BASELINE_COLUMNS)} columns x {rows} rows + sysUpTime, "
              f"x{args.walks}: {base.requests:,} GETBULKs, {base.varbinds:,} varbinds received "
              f"({yielded:,} in-column) in {base.cpu:.2f} CPU-s")
        print(f"    {base_k:.4f} CPU-s per 1,000 varbinds received, {per_k(base.cpu, yielded):.4f} per 1,000 "
              f"in-column varbinds")

        with tempfile.TemporaryDirectory() as tmp:
            config = bench_config(agent.port, args.devices, interfaces, args.links)
            run = asyncio.run(run_collector(config, args.rounds, args.concurrency, Path(tmp)))
        f, s = run.first, run.steady
        per_poll = s.cpu / run.steady_polls
        k = per_k(s.cpu, s.varbinds)
        vb_per_poll = s.varbinds / run.steady_polls
        print(f"(b) agent SnmpCollector, {run.devices} devices x {run.links} links (GET_CHUNK {GET_CHUNK}):")
        print(f"    first poll (walks ifName + ifHighSpeed, then GETs): {f.cpu / run.devices * 1e3:.2f} ms CPU per "
              f"device, {f.requests / run.devices:.1f} requests and {f.varbinds / run.devices:.0f} varbinds per "
              f"device, {per_k(f.cpu, f.varbinds):.4f} CPU-s per 1,000 varbinds")
        print(f"    steady, {args.rounds} rounds = {run.steady_polls:,} polls in {s.cpu:.2f} CPU-s "
              f"({s.wall:.2f} s wall): {per_poll * 1e3:.2f} ms CPU per device-poll, "
              f"{s.requests / run.steady_polls:.1f} GETs and {vb_per_poll:.0f} response varbinds per poll (counted), "
              f"{k:.4f} CPU-s per 1,000 varbinds")
        print(f"    ratio: agent steady poll {k / base_k:.2f}x the baseline walk's CPU per varbind received "
              f"(a GET carries each varbind in the request too); {per_poll / (base.cpu / args.walks):.2f}x the "
              f"CPU of one stock walk of the whole {rows}-row table + sysUpTime")

        target_vb, target_pdus = steady_varbinds(TARGET_LINKS)
        scaled = k / 1000 * target_vb * TARGET_DEVICES
        print(f"(c) projection, {TARGET_DEVICES:,} devices x {TARGET_LINKS} links every {CYCLE:g} s "
              f"({target_vb} varbinds in {target_pdus} GETs per steady poll):")
        print(f"    per-varbind scaling: {scaled:.1f} CPU-s per cycle = {scaled / CYCLE:.0%} of one core")
        if run.links == TARGET_LINKS:
            direct = per_poll * TARGET_DEVICES
            walk_extra = max(0.0, f.cpu / run.devices - per_poll) * TARGET_DEVICES * CYCLE / 600.0
            print(f"    per-poll (measured at {TARGET_LINKS} links): {direct:.1f} CPU-s per cycle = "
                  f"{direct / CYCLE:.0%} of one core; with the 10-minute re-walk amortized "
                  f"+{walk_extra:.2f} CPU-s = {(direct + walk_extra) / CYCLE:.0%}")
        stock_vb = len(BASELINE_COLUMNS) * TARGET_LINKS + 1
        if rows == TARGET_LINKS:  # the in-column cost depends on the table's length (a walk overshoots its end)
            print(f"    stock bulk walks of the same {len(BASELINE_COLUMNS)} columns each cycle instead: "
                  f"{per_k(base.cpu, yielded) / 1000 * stock_vb * TARGET_DEVICES:.1f} CPU-s per cycle "
                  f"({stock_vb} in-column varbinds per device at the baseline's cost per in-column varbind)")
    print(f"snmpd stopped; SNMP part took {time.monotonic() - started:.1f} s")

    expo_started = time.monotonic()
    exposition(args.expo_devices, args.expo_links, args.expo_repeat)
    print(f"exposition part took {time.monotonic() - expo_started:.1f} s; total {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
