"""Two shards against the lab, one real Prometheus scraping both: one report from the store.

The egress link group is split over the shards (egress-r1 on shard 0, egress-r2 on
shard 1), and a link of each goes down for a while. The export computed from
Prometheus (`export --source prometheus`, from the per-link state counters) must
give the figures of the two shards' ledgers read as one (`--data-dir` twice).
The probes, power units and scans (split over the shards too) are read from their
gauges, sampled at the scrape interval: their rows must agree with the ledgers'
to within that resolution, and the counts exactly.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from agent.cli import build_parser
from agent.export.command import cmd_export
from agent.lab.apps import AppLab
from agent.lab.cloud import CloudLab
from agent.lab.demo import demo_data, demo_env
from agent.lab.devices import DEMO_DEVICES
from agent.lab.power import DEMO_UNITS, PowerLab
from agent.lab.scans import ScanLab
from agent.lab.simulator import SnmpLab
from agent.lab.sms import SmsLab
from agent.sharding import owner, target_key
from tests.processes import PROMETHEUS, free_port, scrape, start_prometheus, stop, wait_for

pytestmark = pytest.mark.skipif(not Path(PROMETHEUS).exists(), reason="Debian's prometheus is not installed")
LINK_KPIS = ("egress_link_availability", "mobile_office_link_availability")
SH = ZoneInfo("Asia/Shanghai")


def shard_config(path: Path, lab: SnmpLab, cloud: CloudLab, sms: SmsLab, port: int, data_dir: Path, app: AppLab,
                 scans: ScanLab, maintenance_until: float) -> Path:
    data = demo_data(lab, cloud, f"127.0.0.1:{port}", data_dir, sms, app, scans)
    data["agent"]["kpi_interval"] = "1s"
    data["snmp"]["defaults"]["interval"] = "1s"
    for gateway in data["sms"]:
        gateway.pop("canary", None)
    for entry in (*data["probes"], *data["power"]):
        entry.update(interval="5s", timeout="2s")  # their minimum
    # The egress group in maintenance from before the month began until `maintenance_until`, before the
    # agents start (the demo's monthly window may not have come yet, or be under way, whatever the date):
    # both reports take all of it out of the links' time, though no agent measured it.
    ended = datetime.fromtimestamp(maintenance_until, SH).replace(tzinfo=None)
    data["maintenance"] = [{"name": "earlier egress work", "link_groups": ["internet_egress"],
                            "start": (ended - timedelta(days=32)).isoformat(), "end": ended.isoformat(),
                            "timezone": SH.key}]
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def report(argv: list[str], now: float, out: Path) -> dict[str, dict]:
    month = datetime.fromtimestamp(now, SH).strftime("%Y-%m")
    args = build_parser().parse_args(["export", *argv, "--month", month, "--format", "json", "-o", str(out)])
    assert cmd_export(args, now=now) == 0
    rows = json.loads(out.read_text(encoding="utf-8"))["rows"]
    # By row id, and a KPI's own row also by the KPI (table 12 names some rows otherwise: sz_i_code_stability).
    return {**{row["id"]: row for row in rows if row.get("id")},
            **{row["kpi"]: row for row in rows if row.get("kpi") and not row.get("part_of")}}


def prometheus_has(base: str, expr: str, count: int) -> bool:
    import urllib.parse

    text = scrape(f"{base}/api/v1/query?" + urllib.parse.urlencode({"query": expr}))
    return text is not None and len(json.loads(text)["data"]["result"]) >= count


async def test_prometheus_sourced_export_equals_the_shards_ledgers_merged(tmp_path):
    assert owner(target_key("snmp", "egress-r1"), 2) != owner(target_key("snmp", "egress-r2"), 2)
    async with (PowerLab(DEMO_UNITS, devices=DEMO_DEVICES) as lab, CloudLab() as cloud, SmsLab() as sms,
                AppLab(tls="valid") as app):
        scans = ScanLab(tmp_path / "scans")
        scans.write(time.time() - 3600, medium=1, high=1)
        env = {**os.environ, **demo_env(lab, cloud, sms), "PYTHONUNBUFFERED": "1"}
        ports = [free_port(), free_port()]
        dirs = [tmp_path / "shard0", tmp_path / "shard1"]
        maintenance_until = float(int(time.time()) - 600)
        configs = [shard_config(tmp_path / f"shard{i}.yaml", lab, cloud, sms, ports[i], dirs[i], app, scans,
                                maintenance_until) for i in (0, 1)]
        # Prometheus first, so that it scrapes each agent from its first second, as its ledger records.
        prom, base = start_prometheus(tmp_path, {
            "global": {"scrape_interval": "1s", "scrape_timeout": "1s"},
            "scrape_configs": [{"job_name": "sla-agent", "static_configs": [
                {"targets": [f"127.0.0.1:{ports[i]}"], "labels": {"shard": str(i)}} for i in (0, 1)]}],
        })
        agents: list[subprocess.Popen] = []
        try:
            # Its first scrapes (it hands static targets to the scrapers only after a few seconds).
            assert await asyncio.to_thread(wait_for, lambda: prometheus_has(base, 'up{job="sla-agent"}', 2), 20, 0.25)
            agents = [subprocess.Popen([sys.executable, "-m", "agent.cli", "run", "-c", str(configs[i]), "--shard",
                                        f"{i}/2"], cwd=tmp_path, env=env, stdout=subprocess.DEVNULL,
                                       stderr=subprocess.PIPE, text=True)
                      for i in (0, 1)]
            # Every link of both shards in Prometheus, in all four states.
            ready = await asyncio.to_thread(
                wait_for, lambda: prometheus_has(base, 'sla_link_state_seconds_total{state="up"} > 0', 5), 40, 0.5)
            assert ready, [a.stderr.read() if a.poll() is not None else "running" for a in agents]
            assert prometheus_has(base, 'sla_agent_shard_info{shards="2"}', 2)
            await lab.set_oper_status("egress-r2", 1, up=False)  # egress-cm, on shard 1
            await app.set_fault("vaccination", "status")
            await lab.set_output_source("ups-a", "battery")
            await asyncio.sleep(4)
            await lab.set_oper_status("egress-r1", 2, up=False)  # egress-cu, on shard 0
            await asyncio.sleep(3)
            await lab.set_oper_status("egress-r2", 1, up=True)
            await lab.set_oper_status("egress-r1", 2, up=True)
            await lab.set_output_source("ups-a", "normal")  # 7 s: at least one poll of 5 s saw it
            await app.clear_faults()
            await asyncio.sleep(4)
            until = time.time()  # both reports up to here, with steady states around it
            await asyncio.sleep(2)  # the agents measure on past it: both ledgers hold the state at it
            for agent in agents:
                stop(agent)
                assert agent.returncode == 0, agent.stderr.read()
            config = ["-c", str(configs[0])]
            merged = report([*config, "--data-dir", str(dirs[0]), "--data-dir", str(dirs[1])], until,
                            tmp_path / "ledgers.json")
            stored = report([*config, "--source", "prometheus", "--url", base], until, tmp_path / "prometheus.json")
        finally:
            stop(prom)
            for agent in agents:
                if agent.poll() is None:
                    stop(agent)
    # What the store cannot know that a ledger does, as an export at `until` reads it:
    # - a link's time after its last scrape before `until`: up to one scrape interval;
    # - a link's first poll up to a scrape that came while it was under way: a counter cannot move seconds
    #   it has shown as unknown to up, so the counters count that poll's result from the scrape and the
    #   ledger from the poll's start (a first poll here takes 0.03 s, 0.25 s for SNMPv3);
    # - a gauge's first value, from the poll's start: the scrape after the poll, then the query grid's
    #   point after that scrape, up to a scrape interval each.
    scrape, first_poll, change = 1.0, 0.5, 0.05  # and a poll's duration at each change of a link's state
    links = {"egress_link_availability": 3, "mobile_office_link_availability": 2}
    for kpi in LINK_KPIS:
        ledger_row, store_row = merged[kpi], stored[kpi]
        # Link-seconds with data: coverage is of the time outside maintenance. Both reports take the config's
        # windows out of every link's time, measured or not.
        elapsed = ledger_row["window_end"] - ledger_row["window_start"]
        assert store_row["maintenance_seconds"] == ledger_row["maintenance_seconds"]
        assert ledger_row["maintenance_seconds"] == (
            max(0.0, maintenance_until - ledger_row["window_start"]) if kpi == "egress_link_availability" else 0)
        expected = links[kpi] * (elapsed - ledger_row["maintenance_seconds"])  # a group window: every link's
        known = [row["coverage"] * expected for row in (ledger_row, store_row)]
        assert 0 <= known[0] - known[1] <= links[kpi] * (scrape + first_poll), (kpi, known)
        down = [sum(o["seconds"] for o in row["outages"]) for row in (ledger_row, store_row)]
        assert down[1] == pytest.approx(down[0], abs=4 * change), kpi
        good = [row["value"] * k for row, k in zip((ledger_row, store_row), known)]
        assert 0 <= good[0] - good[1] <= links[kpi] * (scrape + first_poll) + 4 * change, (kpi, good)
    egress = merged["egress_link_availability"]
    assert 0 < egress["value"] < 1 and {o["series"] for o in egress["outages"]} == {"egress-cm", "egress-cu"}
    assert merged["mobile_office_link_availability"]["value"] == 1.0
    # The probes' gauges (polled every 5 s, sampled every scrape): each business system's known seconds,
    # and vaccination's outage, whose start and end each come up to two scrape intervals later in the store.
    # The values themselves are ratios of those over the test's 15 s: a second of difference moves them
    # by 0.05, so they are only checked to agree on who failed.
    parts = [{row["id"].split("/")[1]: row for row in rows.values() if row.get("part_of") == "epidemic_platform_availability"}
             for rows in (merged, stored)]
    assert set(parts[0]) == set(parts[1]) == {"nucleic-acid", "venue-code", "vaccination", "travel-record"}
    for system in parts[0]:
        ledger_part, store_part = parts[0][system], parts[1][system]
        known = [row["coverage"] * (row["window_end"] - row["window_start"]) for row in (ledger_part, store_part)]
        assert 0 < known[1] and 0 <= known[0] - known[1] <= 2 * scrape + first_poll, (system, known)
        assert (store_part["value"] == 1.0) == (ledger_part["value"] == 1.0) == (system != "vaccination"), system
    assert stored["app_code_display_stability"]["value"] == merged["app_code_display_stability"]["value"] == 1.0
    assert stored["app_code_display_stability"]["coverage"] > 0
    vaccination = [sum(o["seconds"] for o in row["outages"] if o["series"] == "vaccination")
                   for row in (merged["epidemic_platform_availability"], stored["epidemic_platform_availability"])]
    assert vaccination[0] > 0 and vaccination[1] == pytest.approx(vaccination[0], abs=2 * scrape + change), vaccination
    for kpi in ("power_faults", "web_security_findings", "managed_devices", "servers", "power_cabinets",
                "connected_organisations"):
        assert stored[kpi]["value"] == merged[kpi]["value"], (kpi, merged[kpi]["value"], stored[kpi]["value"])
    assert merged["power_faults"]["value"] == 1 and merged["web_security_findings"]["value"] == 2
    # Messages count by submit time in the ledger and when their status is read in the store (docs/export.md):
    # both reports have the figure; they are not compared to the message.
    assert merged["sms_delivery_rate"]["value"] is not None and stored["sms_delivery_rate"]["value"] is not None
    print("\n" + "\n".join(f"{k}: ledgers {merged[k]['actual']} / prometheus {stored[k]['actual']}" for k in merged
                           if merged[k].get("coverage") and k in stored))
