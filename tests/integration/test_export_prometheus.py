"""`sla-agent export --source prometheus` against a real Prometheus scraping scripted counters.

Two scripted "shards" on 127.0.0.1 expose ``sla_link_state_seconds_total`` and the SMS
counters computed from a timeline against the wall clock; Debian's prometheus scrapes
them every second. Shard 0 restarts 10 s in (2 s without /metrics, then every counter
from 0 again: a reset), so the export must sum both runs, leave the gap unknown and count
the SMS counters across the reset. The figures must equal the timeline's, within one
scrape interval of link-time where the scrape instants matter.
"""

from __future__ import annotations

import asyncio
import json
import math
import threading
import time
from pathlib import Path
from typing import Callable

import pytest
import yaml
from aiohttp import web

from agent.cli import build_parser
from agent.config import load_config_without_secrets
from agent.export.command import cmd_export
from agent.export.prometheus_measurements import PrometheusMeasurements
from agent.export.prometheus_source import PrometheusApi
from agent.periods import month_containing
from tests.processes import PROMETHEUS, free_port, scrape, start_prometheus, stop

pytestmark = pytest.mark.skipif(not Path(PROMETHEUS).exists(), reason="Debian's prometheus is not installed")

RESTART, BACK = 10.0, 12.0  # shard 0's first run ends, its second begins (seconds after t0)
SETTLED = 20.0  # every scripted change is over by then


def clamp(x: float, lo: float, hi: float) -> float:
    return max(lo, min(hi, x))


def states_a(s: float) -> dict[str, float]:
    """Link egress-a (shard 0) at ``s`` seconds after t0: the counters of the run in progress."""
    if s < RESTART:  # run 1: up, down 4-7
        down = clamp(s - 4, 0, 3)
        return {"up": s - down, "down": down, "unknown": 0.0, "maintenance": 0.0}
    r = s - BACK  # run 2: up, maintenance 15-18 (3-6 into the run)
    maintenance = clamp(r - 3, 0, 3)
    return {"up": r - maintenance, "down": 0.0, "unknown": 0.0, "maintenance": maintenance}


def measured_up(s: float) -> float:
    """Up link-seconds of both links by ``s``: egress-a's two runs (the first ends at RESTART) and egress-b."""
    first_run = states_a(min(s, RESTART - 1e-9))["up"]
    return first_run + (states_a(s)["up"] if s >= BACK else 0.0) + states_b(s)["up"]


def states_b(s: float) -> dict[str, float]:
    """Link egress-b (shard 1, never restarts): up, unknown 6-8, down 8-9."""
    unknown, down = clamp(s - 6, 0, 2), clamp(s - 8, 0, 1)
    return {"up": s - unknown - down, "down": down, "unknown": unknown, "maintenance": 0.0}


def sms_a(s: float) -> dict[str, float]:
    """Gateway gw's counters (shard 0): run 1 reaches 20 submitted, 12 fast + 3 slow delivered, 2 failed,
    1 expired; run 2 (a new ledger: from 0) 10 submitted, 9 delivered in 0.5 s, 1 failed."""
    if s < RESTART:
        fast, slow = 3 * math.floor(clamp(s, 0, 4)), 3 if s >= 5 else 0
        return {"submitted": 4 * math.floor(clamp(s, 0, 5)), "fast": fast, "slow": slow, "very_fast": 0,
                "failed": 2 if s >= 6 else 0, "expired": 1 if s >= 4 else 0}
    r = s - BACK
    return {"submitted": 5 * math.floor(clamp(r, 0, 2)), "fast": 0, "slow": 0, "very_fast": 3 * math.floor(clamp(r, 0, 3)),
            "failed": 1 if r >= 3 else 0, "expired": 0}


def exposition(shard: str, s: float) -> str:
    lines = ["# TYPE sla_link_state_seconds_total counter"]
    link, values = ("egress-a", states_a(s)) if shard == "0" else ("egress-b", states_b(s))
    for state, v in values.items():
        lines.append(f'sla_link_state_seconds_total{{link="{link}",group="internet_egress",device="r{shard}",'
                     f'state="{state}"}} {v:.6f}')
    if shard == "0":
        c = sms_a(s)
        delivered = c["fast"] + c["slow"] + c["very_fast"]
        for name in ("submitted", "failed", "expired"):
            lines.append(f'sla_sms_{name}_total{{gateway="gw"}} {c[name]}')
        lines.append(f'sla_sms_delivered_total{{gateway="gw"}} {delivered}')
        lines.append('sla_sms_pending{gateway="gw"} 0')
        running = 0
        for le in (0.3125, 0.625, 1.25, 2.5, 5.0, 10.0, 20.0, 40.0, 80.0, 160.0, 320.0, 640.0):
            running = c["very_fast"] if le < 1 else (c["very_fast"] + c["fast"] if le < 20 else delivered)
            lines.append(f'sla_sms_send_latency_seconds_bucket{{gateway="gw",le="{le}"}} {running}')
        lines.append(f'sla_sms_send_latency_seconds_bucket{{gateway="gw",le="+Inf"}} {delivered}')
        lines.append(f'sla_sms_send_latency_seconds_count{{gateway="gw"}} {delivered}')
        total = 0.5 * c["very_fast"] + 2.0 * c["fast"] + 20.0 * c["slow"]
        lines.append(f'sla_sms_send_latency_seconds_sum{{gateway="gw"}} {total}')
    return "\n".join(lines) + "\n"


class Shards:
    """Both scripted shards on one aiohttp server in a thread: /0/metrics and /1/metrics."""

    def __init__(self, port: int, clock: Callable[[], float] = time.time):
        self.port = port
        self.t0 = clock()
        self._clock = clock
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    async def _metrics(self, request: web.Request) -> web.Response:
        shard = request.match_info["shard"]
        s = self._clock() - self.t0
        if shard == "0" and RESTART <= s < BACK:
            return web.Response(status=503, text="restarting")
        return web.Response(text=exposition(shard, s), content_type="text/plain")

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        app = web.Application()
        app.router.add_get("/{shard}/metrics", self._metrics)
        self._runner = web.AppRunner(app)
        self._loop.run_until_complete(self._runner.setup())
        self._loop.run_until_complete(web.TCPSite(self._runner, "127.0.0.1", self.port).start())
        self._ready.set()
        self._loop.run_forever()
        self._loop.run_until_complete(self._runner.cleanup())

    def __enter__(self) -> "Shards":
        self._thread.start()
        assert self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


def config_data() -> dict:
    return {
        "agent": {"data_dir": "unused", "timezone": "UTC"},
        "snmp": {"devices": [{"name": "r0", "address": "127.0.0.1", "community": "x"},
                             {"name": "r1", "address": "127.0.0.1", "community": "x"}]},
        "link_groups": [{"name": "internet_egress", "links": [
            {"name": "egress-a", "device": "r0", "if_name": "a", "capacity": "10G"},
            {"name": "egress-b", "device": "r1", "if_name": "b", "capacity": "10G"}]}],
        "sms": [{"name": "gw", "url": "http://127.0.0.1:1/sms", "api_key": "x"}],
        "kpis": [{"id": "egress_link_availability", "link_group": "internet_egress"},
                 {"id": "sms_delivery_rate"}, {"id": "sms_send_latency"}],
    }


@pytest.fixture
def store(tmp_path):
    shard_port = free_port()
    # One job per shard, with the shard label a sharded deployment's scrape config adds.
    config = {
        "global": {"scrape_interval": "1s", "scrape_timeout": "1s"},
        "scrape_configs": [{"job_name": f"sla-agent-{shard}", "metrics_path": f"/{shard}/metrics",
                            "static_configs": [{"targets": [f"127.0.0.1:{shard_port}"], "labels": {"shard": shard}}]}
                           for shard in ("0", "1")],
    }
    with Shards(shard_port) as shards:
        prom, base = start_prometheus(tmp_path, config)
        try:
            yield base, shards
        finally:
            stop(prom)


def test_export_from_prometheus_equals_the_scripted_timeline(store, tmp_path, capsys):
    base, shards = store
    started = time.monotonic()
    config_path = tmp_path / "sla.yaml"
    config_path.write_text(yaml.safe_dump(config_data()))
    period = month_containing(shards.t0, load_config_without_secrets(config_path).agent.zone)
    if shards.t0 - period.start < 60 or period.end - shards.t0 < 120:
        pytest.skip("too close to a month boundary for a one-month expectation")
    time.sleep(max(0.0, shards.t0 + SETTLED + 2 - time.time()))

    now = time.time()
    args = build_parser().parse_args(["export", "-c", str(config_path), "--source", "prometheus", "--url", base,
                                      "--month", period.label, "-o", str(tmp_path / "r")])
    assert cmd_export(args, now=now) == 0, capsys.readouterr().err
    rows = {r["id"]: r for r in json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))["rows"] if r.get("kpi")}
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert f"实测数据来自 Prometheus 接口 {base}" in html and "<svg" in html
    assert (tmp_path / "r.xlsx").stat().st_size > 0 and (tmp_path / "r.csv").stat().st_size > 0

    # Availability: down is 3 s (egress-a, run 1) + 1 s (egress-b), exactly; up is all the rest that was
    # measured, up to the last scrape (at most a scrape interval before now), less run 1's last
    # moments after its last scrape (at most one more interval).
    s = now - shards.t0
    up_hi, up_lo = measured_up(s), measured_up(s - 2) - 1
    value = rows["egress_link_availability"]["value"]
    assert up_lo / (up_lo + 4) <= value <= up_hi / (up_hi + 4)

    # SMS: 24 delivered of 28 final messages across the reset; 21 of the 24 within 10 s.
    assert rows["sms_delivery_rate"]["value"] == pytest.approx(24 / 28)
    assert rows["sms_delivery_rate"]["details"]["final"] == 28
    latency = rows["sms_send_latency"]
    assert latency["compliance"] == pytest.approx(21 / 24)
    assert latency["value"] == 20.0  # p95: the 23rd of 24 is in the (10 s, 20 s] bucket
    assert "来源 Prometheus" in rows["sms_delivery_rate"]["note"]

    # The same figures in-process, with the totals the ratio is made of.
    with PrometheusApi(base) as api:
        measured = PrometheusMeasurements(load_config_without_secrets(config_path), api, now)
        totals = measured.results(period)["egress_link_availability"].totals
        outages = measured.outages("egress_link_availability", period)
    assert totals is not None
    assert totals.bad == pytest.approx(4.0, abs=0.05)
    assert totals.maintenance == pytest.approx(3.0, abs=0.05)
    assert up_lo <= totals.good <= up_hi
    assert sorted(o.series for o in outages) == ["egress-a", "egress-b"]
    assert sum(o.seconds for o in outages) == pytest.approx(4.0, abs=0.05)
    assert time.monotonic() - started < 60
