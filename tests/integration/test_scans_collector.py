"""The scan collector on a real directory that the scan lab (agent/lab/scans.py) writes ZAP reports into.

Every poll runs under ``bounded`` (a few seconds), so a regression hangs nothing.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Awaitable, TypeVar
from zoneinfo import ZoneInfo

import pytest

from agent.app import Agent
from agent.config import parse_config
from agent.exposition import make_registry
from agent.lab.scans import ScanLab
from collectors.base import CollectorError, PollResult
from collectors.scans.collector import ScanCollector
from collectors.scans.config import SecurityScan
from collectors.scans.report import parse_report
from collectors.scans.series import scan_findings, scan_series
from tests.fakes import FakeClock

T = TypeVar("T")
SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 6, 12, 0, tzinfo=SH)


async def bounded(awaitable: Awaitable[T], seconds: float = 10.0) -> T:
    return await asyncio.wait_for(awaitable, seconds)


def samples_of(result: PollResult) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, s.labels): s.value for s in result.samples}


def scan(directory: Path, **fields: Any) -> SecurityScan:
    return SecurityScan.model_validate({"name": "portal", "directory": str(directory), **fields})


async def test_reports_as_they_arrive_and_a_bad_newest_one(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="collectors.scans")
    lab = ScanLab(tmp_path / "portal")
    # Weekly reports up to Dec 5: 1 medium, then 2 medium + 1 high, then the clean rescan.
    lab.history(3, end=NOW - timedelta(days=1))
    clock = FakeClock(NOW.timestamp())
    collector = ScanCollector([scan(lab.directory, stale_after="3d", max_report_bytes="64KiB")], SH, clock=clock)
    target = collector.targets()[0]
    first = await bounded(collector.poll(target))
    observations = dict(first.observations)
    assert observations[scan_findings("portal")] == 0.0  # the clean one is the newest
    assert observations[scan_series("portal", "low")] == 3.0 and observations[scan_series("portal", "informational")] == 3.0
    assert observations[scan_series("portal", "report_time")] == (NOW - timedelta(days=1)).timestamp()
    found = samples_of(first)
    assert found[("sla_scan_findings", (("scan", "portal"), ("risk", "high")))] == 0
    assert found[("sla_scan_findings", (("scan", "portal"), ("risk", "low")))] == 3
    assert found[("sla_scan_finding_instances", (("scan", "portal"), ("risk", "low")))] >= 3
    assert found[("sla_scan_report_timestamp_seconds", (("scan", "portal"),))] == (NOW - timedelta(days=1)).timestamp()
    assert found[("sla_scan_report_stale", (("scan", "portal"),))] == 0

    # A new report with a medium finding arrives (the demo's every third report).
    lab.write(NOW, medium=1)
    second = await bounded(collector.poll(target))
    assert dict(second.observations)[scan_findings("portal")] == 1.0
    assert samples_of(second)[("sla_scan_findings", (("scan", "portal"), ("risk", "medium")))] == 1

    # A newer file the scanner left truncated: the scan is unknown, the Dec 6 report does not stand in.
    bad = lab.write_bad("truncated", NOW + timedelta(minutes=5))
    with pytest.raises(CollectorError) as caught:
        await bounded(collector.poll(target))
    assert str(caught.value).startswith(f"{bad}: malformed or truncated JSON (")
    assert "\n" not in str(caught.value)
    assert all(value is None for _, value in collector.unknown(target))
    assert len(collector.unknown(target)) == 6
    rejected = {dict(s.labels)["reason"]: s.value for s in collector.shared_samples()}
    assert rejected == {"malformed": 1, "shape": 0, "too_large": 0, "unreadable": 0}

    # The next report replaces it; the broken file is now an older one, left out and still counted once.
    lab.write(NOW + timedelta(minutes=10))
    lab.write_bad("huge", NOW - timedelta(days=30), size=70_000)  # an old oversize export, over 64 KiB
    clock.now = (NOW + timedelta(days=4)).timestamp()  # and four days pass without a rescan
    fourth = await bounded(collector.poll(target))
    assert dict(fourth.observations)[scan_findings("portal")] == 0.0
    assert samples_of(fourth)[("sla_scan_report_stale", (("scan", "portal"),))] == 1
    rejected = {dict(s.labels)["reason"]: s.value for s in collector.shared_samples()}
    assert rejected == {"malformed": 1, "shape": 0, "too_large": 1, "unreadable": 0}
    assert any("older than stale_after" in record.getMessage() for record in caplog.records)
    await collector.close()


async def test_no_report_yet_is_unknown(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    collector = ScanCollector([scan(tmp_path / "empty")], SH)
    with pytest.raises(CollectorError, match=r"no report yet \(no \*\.json file\)$"):
        await bounded(collector.poll(collector.targets()[0]))


async def test_the_agent_turns_reports_into_the_kpi_and_metrics(tmp_path: Path) -> None:
    lab = ScanLab(tmp_path / "portal")
    made = datetime(2026, 11, 28, 10, 15, tzinfo=SH)
    lab.write(made, medium=2, high=1)
    config = parse_config({
        "agent": {"data_dir": str(tmp_path / "data"), "kpi_interval": "1s"},
        "security_scans": [{"name": "portal", "directory": str(lab.directory), "interval": "5m"}],
        "kpis": [{"id": "web_security_findings"}],
    }, "test.yaml")
    clock = FakeClock(datetime(2026, 12, 1, 9, 0, tzinfo=SH).timestamp())
    agent = Agent(config, clock=clock)
    try:
        (collector,) = agent.collectors
        target = collector.targets()[0]
        await bounded(agent.scheduler.poll_once(collector, target))
        await agent.flush()
        clock.advance(300)
        await bounded(agent.scheduler.poll_once(collector, target))
        await agent.flush()
        clock.advance(60)
        await agent.evaluate()
        (result,) = agent.state.kpis
        assert (result.value, result.met, result.coverage) == (3, False, 1.0)
        assert result.details["report_time"] == made.timestamp()
        registry = make_registry(agent.state)
        assert registry.get_sample_value("sla_kpi_value", {"kpi": "web_security_findings"}) == 3
        assert registry.get_sample_value("sla_kpi_met", {"kpi": "web_security_findings"}) == 0
        assert registry.get_sample_value("sla_scan_findings", {"scan": "portal", "risk": "high"}) == 1
        assert registry.get_sample_value("sla_scan_findings", {"scan": "portal", "risk": "medium"}) == 2
        assert registry.get_sample_value("sla_scan_report_timestamp_seconds", {"scan": "portal"}) == made.timestamp()
        assert registry.get_sample_value("sla_scan_reports_rejected_total", {"scan": "portal", "reason": "shape"}) == 0
        assert registry.get_sample_value("sla_target_up", {"collector": "scan", "target": "portal"}) == 1
    finally:
        agent.ledger.close()


async def test_the_lab_writes_a_new_report_on_its_own(tmp_path: Path) -> None:
    lab = ScanLab(tmp_path / "portal")
    lab.start(every=0.05, pattern=((0, 0), (1, 0)))
    try:
        for _ in range(200):
            if len(list(lab.reports())) >= 2:
                break
            await asyncio.sleep(0.02)
    finally:
        await lab.stop()
    collector = ScanCollector([scan(lab.directory)], SH)
    newest = dict((await bounded(collector.poll(collector.targets()[0]))).observations)
    assert len(lab.written) >= 2
    # The last report written is the newest, even two in one second (created has microseconds).
    last = parse_report(lab.written[-1].read_bytes(), SH)
    assert newest[scan_series("portal", "report_time")] == last.time
    assert newest[scan_findings("portal")] == last.findings
    assert not list(lab.directory.glob(".*"))  # no temporary file left behind
