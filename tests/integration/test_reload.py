"""SIGHUP (and POST /-/reload) reload `sla-agent run`'s config against the SNMP lab.

A good changed config adds a device, removes one and leaves one alone: the
unchanged device is not polled again at once and keeps its collector state
(its next poll has a rate, which a fresh collector cannot give before its
second poll), its ledger segments run on without a gap, and the removed
device's open segments end at the reload. A bad config is refused with its
problem lines, the agent keeps running the old one, and
sla_config_last_reload_successful says 0 until a good one is loaded.
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from agent.lab.devices import DEMO_DEVICES
from agent.lab.simulator import SnmpLab
from tests.processes import free_port, scrape, stop, wait_for

KEPT_INTERVAL = 30.0  # egress-r1: long, so a poll caused by the reload would stand out
RESTART_POLL = 5.0  # a (re)started target's first poll comes within this (scheduler.FIRST_POLL_SPREAD)


@pytest.fixture(scope="module")
def lab() -> Iterator[SnmpLab]:
    with SnmpLab(DEMO_DEVICES) as running:
        yield running


def config_text(lab: SnmpLab, port: int, data: Path, devices: list[str], extra: str = "") -> str:
    entries = {
        "egress-r1": f"{{name: egress-r1, address: 127.0.0.1, community: egress-r1, interval: {KEPT_INTERVAL:g}s}}",
        "egress-r2": "{name: egress-r2, address: 127.0.0.1, community: egress-r2, interval: 20s}",
        "mobile-r1": (f"{{name: mobile-r1, address: 127.0.0.1, version: v3, user: {lab.v3_user}, auth_protocol: sha, "
                      f"auth_key: {lab.v3_auth_key}, priv_protocol: aes, priv_key: {lab.v3_priv_key}, "
                      "context: mobile-r1, interval: 2s}"),
    }
    links = {
        "egress-r1": ["{name: egress-ct, device: egress-r1, if_alias: ChinaTelecom egress 10G}"],
        "egress-r2": ["{name: egress-cm, device: egress-r2, if_alias: ChinaMobile egress 10G}"],
        "mobile-r1": ["{name: mobile-ct, device: mobile-r1, if_name: GigabitEthernet0/0/1, capacity: 1Gbit/s}"],
    }
    device_lines = "\n".join(f"    - {entries[d]}" for d in devices)
    link_lines = "\n".join(f"      - {link}" for d in devices for link in links[d])
    return f"""
agent:
  listen: 127.0.0.1:{port}
  data_dir: {data}
  kpi_interval: 2s
{extra}snmp:
  link_metrics: [traffic, rates]   # rates: the agent's own, from the collector's counter baselines
  defaults: {{port: {lab.port}, timeout: 1s, retries: 1}}
  devices:
{device_lines}
link_groups:
  - name: internet_egress
    links:
{link_lines}
kpis:
  - {{id: egress_link_availability, link_group: internet_egress}}
"""


def metrics(base: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    text = scrape(base + "/metrics") or ""
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(found: dict, name: str, **labels: str) -> float | None:
    return found.get((name, frozenset(labels.items())))


def polls(base: str, target: str) -> float:
    return value(metrics(base), "sla_target_polls_total", collector="snmp", target=target) or 0.0


def post_reload(base: str) -> tuple[int, str]:
    request = urllib.request.Request(base + "/-/reload", method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def segments(ledger: Path, series: str) -> list[tuple[float, float, float | None]]:
    with sqlite3.connect(f"file:{ledger}?mode=ro", uri=True) as db:
        return db.execute('SELECT start, "end", value FROM segments JOIN series ON series.id = series_id '
                          "WHERE name = ? ORDER BY start", (series,)).fetchall()


@pytest.fixture
def agent(lab: SnmpLab, tmp_path: Path):
    port = free_port()
    config = tmp_path / "c.yaml"
    config.write_text(config_text(lab, port, tmp_path / "data", ["egress-r1", "egress-r2"]))
    log = (tmp_path / "agent.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "agent.cli", "run", "-c", str(config), "--enable-reload-endpoint"],
                            stdout=log, stderr=subprocess.STDOUT, text=True, cwd=tmp_path)
    base = f"http://127.0.0.1:{port}"
    assert wait_for(lambda: scrape(base + "/healthz") is not None or proc.poll() is not None, 20)
    yield proc, base, config, port, tmp_path
    stop(proc)
    log.close()


def test_sighup_applies_a_good_config_and_refuses_a_bad_one(lab, agent):
    proc, base, config, port, tmp = agent
    data = tmp / "data"
    # Both devices polled once; egress-r1 has its baseline now.
    assert wait_for(lambda: polls(base, "egress-r1") >= 1 and polls(base, "egress-r2") >= 1, 20)
    kept_polls = polls(base, "egress-r1")
    found = metrics(base)
    assert value(found, "sla_config_last_reload_successful") == 1
    loaded_at = value(found, "sla_config_last_reload_success_timestamp_seconds")
    polled_at = value(found, "sla_target_last_success_timestamp_seconds", collector="snmp", target="egress-r1")

    config.write_text(config_text(lab, port, data, ["egress-r1", "mobile-r1"]))
    reloaded = time.time()
    proc.send_signal(signal.SIGHUP)
    # A restarted egress-r1 would poll within RESTART_POLL; on its own schedule the next poll is at
    # least KEPT_INTERVAL / 2 after the last one.
    time.sleep(RESTART_POLL + 1.5)
    assert time.time() - polled_at < KEPT_INTERVAL / 2, "too slow to tell a reload poll from a scheduled one"
    assert polls(base, "egress-r1") == kept_polls, "the unchanged device was polled again by the reload"
    assert wait_for(lambda: value(metrics(base), "sla_target_up", collector="snmp", target="mobile-r1") == 1, 15), \
        "the added device is not polled"
    found = metrics(base)
    assert value(found, "sla_target_up", collector="snmp", target="egress-r2") is None  # removed: gone
    assert value(found, "sla_config_last_reload_successful") == 1
    assert value(found, "sla_config_last_reload_success_timestamp_seconds") > loaded_at
    # Its next poll, on its own schedule, has a rate: the counter baseline survived the reload
    # (a fresh collector seeds it on its first poll and has a rate only from the second).
    assert wait_for(lambda: polls(base, "egress-r1") > kept_polls, KEPT_INTERVAL + 10)
    rate = value(metrics(base), "sla_link_receive_bytes_per_second", link="egress-ct", group="internet_egress",
                 device="egress-r1")
    assert rate is not None and rate > 0

    # A bad config: refused, logged line by line, the old one keeps running.
    good = config.read_text()
    config.write_text(good.replace("  kpi_interval: 2s\n", "  kpi_interval: 2s\n  zzz: 1\n"))
    proc.send_signal(signal.SIGHUP)
    assert wait_for(lambda: value(metrics(base), "sla_config_last_reload_successful") == 0, 10)
    assert proc.poll() is None
    assert value(metrics(base), "sla_target_up", collector="snmp", target="mobile-r1") == 1
    status, body = post_reload(base)
    assert status == 500 and f"{config}: agent.zzz: unknown key 'zzz'" in body
    config.write_text(good)
    assert post_reload(base) == (200, "config reloaded\n")
    assert value(metrics(base), "sla_config_last_reload_successful") == 1

    stop(proc)
    stopped = time.time()
    log = (tmp / "agent.log").read_text()
    assert f"ERROR agent.app: {config}: agent.zzz: unknown key 'zzz'" in log
    assert "configuration not reloaded: 1 problem; still running the previous one" in log
    assert "Traceback" not in log
    # egress-r1's link: one run of segments from its first poll to the stop, no gap at the reload.
    kept = segments(data / "ledger.sqlite", "link:egress-ct:up")
    assert kept and all(a[1] >= b[0] for a, b in zip(kept, kept[1:])), kept
    assert kept[-1][1] <= stopped
    # egress-r2's link: its open segment ended at the reload, not 40 s (its validity) after its last poll.
    removed = segments(data / "ledger.sqlite", "link:egress-cm:up")
    assert removed and reloaded - 1 <= removed[-1][1] <= reloaded + 5, (removed, reloaded)
