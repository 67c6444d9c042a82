"""Alertmanager's webhook into the ledger: authenticated, validated, and read by the incident KPIs."""

from __future__ import annotations

import asyncio
import json

import aiohttp

from agent.config import parse_config
from agent.kpi import KpiEngine
from agent.ledger import Ledger
from agent import periods
from collectors.incidents.collector import IncidentCollector
from tests.processes import free_port

TOKEN = "am-webhook-S3cret"


def notification(status: str, alerts: list[dict]) -> dict:
    return {"version": "4", "groupKey": "{}:{alertname=\"BgpDown\"}", "status": status, "receiver": "sla-agent",
            "groupLabels": {}, "commonLabels": {}, "commonAnnotations": {}, "externalURL": "http://am:9093",
            "alerts": alerts}


def am_alert(status: str, starts: str, ends: str = "0001-01-01T00:00:00Z", **labels: str) -> dict:
    return {"status": status, "labels": {"alertname": "BgpDown", **labels},
            "annotations": {"summary": "BGP session to ISP-A down"}, "startsAt": starts, "endsAt": ends,
            "generatorURL": "http://prom:9090/graph", "fingerprint": "5f8a1c2b3d4e6f70"}


async def test_pushed_alerts_become_incidents_the_kpis_count(tmp_path):
    port = free_port()
    config = parse_config({
        "agent": {"data_dir": str(tmp_path)},
        "incidents": {"webhook": {"listen": f"127.0.0.1:{port}", "token": "${AM_TOKEN}"}},
        "probes": [{"name": "code", "url": "https://127.0.0.1:1/code"}],
        "kpis": [{"id": "fault_handling_rate"}, {"id": "network_fault_timeliness"}],
    }, "test.yaml", env={"AM_TOKEN": TOKEN})
    ledger = Ledger(tmp_path / "ledger.sqlite")
    collector = IncidentCollector(config.incidents.webhook, ledger)
    url = f"http://127.0.0.1:{port}/alertmanager"
    auth = {"Authorization": f"Bearer {TOKEN}"}
    try:
        await asyncio.wait_for(collector.poll(collector.targets()[0]), 5)
        async with aiohttp.ClientSession() as http:
            firing = notification("firing", [am_alert("firing", "2026-11-15T01:00:00.123456789Z", category="network")])
            async with http.post(url, json=firing) as answer:
                assert answer.status == 401
            async with http.post(url, json=firing, headers={"Authorization": "Bearer wrong"}) as answer:
                assert answer.status == 401
            async with http.post(url, data=b"{not json", headers=auth) as answer:
                assert answer.status == 400 and "not JSON" in (await answer.json())["error"]
            bad = notification("firing", [am_alert("firing", "yesterday")])
            async with http.post(url, json=bad, headers=auth) as answer:
                assert (answer.status, (await answer.json())["error"]) == (
                    400, "alerts[0].startsAt: 'yesterday' is not an RFC 3339 time")
            own = notification("firing", [am_alert("firing", "2026-11-15T01:00:00Z", job="sla-agent")])
            async with http.post(url, json=own, headers=auth) as answer:
                assert await answer.json() == {"stored": 0, "skipped": 1}  # the agent's own alerts: not twice
            async with http.post(url, json=firing, headers=auth) as answer:
                assert (answer.status, await answer.json()) == (200, {"stored": 1, "skipped": 0})
            resolved = notification("resolved", [am_alert("resolved", "2026-11-15T01:00:00.123456789Z",
                                                          "2026-11-15T03:00:00Z", category="network")])
            async with http.post(url, json=resolved, headers=auth) as answer:
                assert answer.status == 200
        samples = {(s.name, s.labels): s.value for s in (await collector.poll(collector.targets()[0])).samples}
        assert samples[("sla_incident_webhook_up", ())] == 1
        assert samples[("sla_incident_webhook_pushes_total", (("result", "unauthorized"),))] == 2
        assert samples[("sla_incident_webhook_pushes_total", (("result", "malformed"),))] == 2
        assert samples[("sla_incident_webhook_pushes_total", (("result", "stored"),))] == 3
    finally:
        await collector.close()
    november = periods.month(2026, 11, config.agent.zone)
    results = {r.definition.id: r for r in KpiEngine(config, ledger).evaluate_period(november, november.end + 86400)}
    # One network incident of 2 h: resolved, and within the default 4 h.
    assert results["fault_handling_rate"].details["raised"] == 1 and results["fault_handling_rate"].value == 1.0
    assert results["network_fault_timeliness"].details["within_bound"] == 1
    assert TOKEN not in json.dumps([r.details for r in results.values()])
    ledger.close()
