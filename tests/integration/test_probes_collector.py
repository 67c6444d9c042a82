"""The probe collector against the app lab: outcomes become 0/1 observations, counters by reason, and a
probe the agent cannot run is unknown (a failed poll), never down."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from agent.lab.apps import AppLab
from collectors.base import CollectorError
from collectors.probes.collector import ProbeCollector
from collectors.probes.config import Probe
from collectors.probes.series import probe_up


def samples_of(result) -> dict[tuple[str, tuple], float]:
    return {(s.name, s.labels): s.value for s in result.samples}


async def test_outcomes_observations_and_counters(tmp_path: Path) -> None:
    async with AppLab(tls="valid", days_left=5) as lab:
        probes = [Probe.model_validate(entry) for entry in lab.probe_configs(interval="15s", timeout="2s")]
        collector = ProbeCollector(probes)
        code, vaccination = collector.targets()[0], collector.targets()[2]
        try:
            ok = await asyncio.wait_for(collector.poll(code), 5)
            assert ok.observations == ((probe_up("health-code"), 1.0),)
            found = samples_of(ok)
            assert found[("sla_probe_success", (("probe", "health-code"), ("system", "health-code")))] == 1
            assert found[("sla_probe_http_status_code", (("probe", "health-code"),))] == 200
            assert found[("sla_probe_failures_total", (("probe", "health-code"), ("reason", "status")))] == 0
            expiry = found[("sla_probe_tls_certificate_expiry_timestamp_seconds", (("probe", "health-code"),))]
            assert abs(expiry - lab.certificates.not_after.timestamp()) < 1
            assert {"connect", "tls", "first_byte", "total"} <= {
                dict(labels)["phase"] for name, labels in found if name == "sla_probe_phase_duration_seconds"}

            await lab.set_fault("vaccination", "status")
            for _ in range(2):
                bad = await asyncio.wait_for(collector.poll(vaccination), 5)
            assert bad.observations == ((probe_up("vaccination"), 0.0),)  # down, and the poll itself succeeded
            found = samples_of(bad)
            assert found[("sla_probe_failures_total", (("probe", "vaccination"), ("reason", "status")))] == 2
            assert found[("sla_probe_http_status_code", (("probe", "vaccination"),))] == 503
            assert found[("sla_probe_successes_total", (("probe", "vaccination"),))] == 0
            await lab.set_fault("vaccination", "none")
            good = samples_of(await asyncio.wait_for(collector.poll(vaccination), 5))
            assert good[("sla_probe_successes_total", (("probe", "vaccination"),))] == 1
            assert good[("sla_probe_failures_total", (("probe", "vaccination"), ("reason", "status")))] == 2
        finally:
            await collector.close()


async def test_a_probe_the_agent_cannot_run_is_unknown_not_down(tmp_path: Path) -> None:
    async with AppLab(tls="valid") as lab:
        broken = Probe.model_validate({"name": "code", "url": lab.endpoint("code"), "ca_file": str(tmp_path / "none.pem")})
        collector = ProbeCollector([broken])
        try:
            with pytest.raises(CollectorError, match="ca_file"):
                await asyncio.wait_for(collector.poll(collector.targets()[0]), 5)
            assert collector.unknown(collector.targets()[0]) == ((probe_up("code"), None),)
        finally:
            await collector.close()
