"""Bad input from HTTP sources and their config: one clear line, logged once, never a traceback or a secret."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from pathlib import Path

import pytest

from agent import app as app_module
from agent.app import Agent
from agent.config import parse_config
from agent.ledger import LedgerError
from agent.schema import ConfigError
from agent.scheduler import Scheduler
from collectors.base import CollectorError
from collectors.parsing import PARSERS, JsonProblem, loads, off_loop
from collectors.sms.records import PageError, parse_page, parse_reports
from tests.fakes import FakeLinkCollector

PASSWORD = "Pa55w0rd-S3cret"


def problems(data) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(data, "c.yaml", env={})
    return caught.value.problems


OPENSTACK = {"type": "openstack", "name": "gov", "regions": ["r1"],
             "auth": {"type": "password", "username": "u", "password": "p", "project_name": "p"}}
GENERIC = {"type": "generic", "name": "v", "mapping": {"vcpu": {"capacity": "a", "unit": "count"}}}


@pytest.mark.parametrize("section, where", [
    ({"sms": [{"name": "gw", "api_key": "k", "url": f"https://sla:{PASSWORD}@sms.example/api"}]}, "sms[0].url"),
    ({"clouds": [{**OPENSTACK, "auth_url": f"https://sla:{PASSWORD}@iam.example:5000/v3"}]}, "clouds[0].auth_url"),
    ({"clouds": [{**GENERIC, "url": f"https://sla:{PASSWORD}@mo.example/stats"}]}, "clouds[0].url"),
    ({"sms": [{"name": "gw", "url": "https://sla@sms.example/api"}]}, "sms[0].url"),
])
def test_check_refuses_user_info_in_urls_without_showing_it(section, where):
    found = problems(section)
    assert found == [f"c.yaml: {where}: user info (user:password@) is not allowed in the URL: give the credentials "
                     "in their own secret fields (api_key, auth, headers)"]
    assert PASSWORD not in found[0]


@pytest.mark.parametrize("url, message", [
    ("https://sms.example/api?x=1", "a base URL takes no ?query or #fragment"),
    ("https://sms.example:99999/api", "not a valid URL"),
    ("https:///api/path", "has no host"),
])
def test_check_refuses_base_urls_the_agent_cannot_extend(url, message):
    found = problems({"sms": [{"name": "gw", "url": url}]})
    assert len(found) == 1 and found[0].startswith("c.yaml: sms[0].url: ") and message in found[0]


def test_a_generic_url_keeps_its_query():
    config = parse_config({"clouds": [{**GENERIC, "url": "https://mo.example/stats?region=sz"}]}, "c.yaml")
    assert config.clouds[0].url == "https://mo.example/stats?region=sz"


@pytest.mark.parametrize("body, reason", [
    (b"[" * 50_000 + b"]" * 50_000, "JSON nested too deep"),
    (b'{"a": ' * 5000 + b"1" + b"}" * 5000, "JSON nested too deep"),
    (b"\xff\xfe{}", "malformed or truncated JSON (not UTF-8)"),
    (b'{"a": 1', "malformed or truncated JSON (Expecting ',' delimiter"),
])
def test_bad_json_is_one_line_of_bad_input(body, reason):
    with pytest.raises(JsonProblem) as caught:
        loads(body)
    assert str(caught.value).startswith(reason) and "\n" not in str(caught.value)


def test_nested_pages_and_pushes_are_refused_as_bad_input():
    deep = b'{"records": ' + b"[" * 50_000 + b"]" * 50_000 + b"}"
    for parse in (parse_page, parse_reports):
        with pytest.raises(PageError, match="JSON nested too deep"):
            parse(deep, 0)


def test_nan_is_refused_for_capacities_and_left_to_the_record_check_for_sms():
    with pytest.raises(JsonProblem, match="NaN is not a JSON number"):
        loads(b'{"total": NaN}', allow_nan=False)
    assert loads(b'{"t": NaN}')["t"] != 0


async def test_a_parse_cancelled_before_it_starts_never_runs():
    """The parsing pool is busy; a poll that times out meanwhile leaves no work behind."""
    release = threading.Event()
    started = threading.Semaphore(0)
    ran: list[str] = []

    def hold() -> None:
        started.release()
        release.wait(5.0)

    busy = [asyncio.ensure_future(off_loop(hold)) for _ in range(PARSERS._max_workers)]
    await asyncio.sleep(0)  # the busy jobs are submitted first
    waiting = asyncio.ensure_future(off_loop(ran.append, "parsed"))
    for _ in range(PARSERS._max_workers):  # every worker holds a busy job (bounded: 5 s each)
        assert await asyncio.to_thread(started.acquire, True, 5.0)
    waiting.cancel()
    # The cancellation reaches the pool when the task next runs; only then may a worker come free.
    with contextlib.suppress(asyncio.CancelledError):
        await waiting
    release.set()
    await asyncio.gather(*busy)
    await asyncio.wait_for(off_loop(lambda: None), 5.0)  # the pool has drained what was queued
    assert ran == [] and waiting.cancelled()


class Failing(FakeLinkCollector):
    """A collector whose poll raises an unexpected exception (a bug, or an error nobody mapped)."""

    error: Exception = ValueError("Cannot combine AUTHORIZATION header with AUTH argument or credentials encoded in URL")

    async def poll(self, target):
        if self.failing:
            raise self.error
        return await super().poll(target)


async def test_an_unexpected_error_logs_its_traceback_once_per_fault(caplog):
    collector = Failing({"l1": 1.0}, failing=True)
    scheduler = Scheduler([collector], lambda _: None)
    target = collector.targets()[0]
    with caplog.at_level(logging.INFO, logger="agent.scheduler"):
        for _ in range(4):
            outcome = await scheduler.poll_once(collector, target)
        assert outcome.error == "internal error: ValueError"
        assert len([r for r in caplog.records if r.exc_info]) == 1
        collector.failing = False
        await scheduler.poll_once(collector, target)
        collector.failing = True
        await scheduler.poll_once(collector, target)
    assert len([r for r in caplog.records if r.exc_info]) == 2  # a new fault: its traceback once more
    assert len([r for r in caplog.records if "recovered" in r.getMessage()]) == 1


async def test_expected_faults_log_no_traceback(caplog):
    collector = Failing({"l1": 1.0}, failing=True)
    collector.error = CollectorError("gw GET http://h/v1: JSON nested too deep")
    scheduler = Scheduler([collector], lambda _: None)
    with caplog.at_level(logging.INFO, logger="agent.scheduler"):
        for _ in range(3):
            await scheduler.poll_once(collector, collector.targets()[0])
    assert [r.getMessage() for r in caplog.records] == [
        "fake target router is unknown: gw GET http://h/v1: JSON nested too deep"]


class FullLedger:
    def record(self, *args):
        raise LedgerError("/data/ledger.sqlite: write failed: database or disk is full")


async def test_a_failing_ledger_logs_the_dropping_once(tmp_path: Path, caplog, monkeypatch):
    monkeypatch.setattr(app_module, "MAX_PENDING", 10)
    config = parse_config({"agent": {"data_dir": str(tmp_path)}, "sms": [{"name": "gw", "url": "http://h.example"}]},
                          "c.yaml")
    agent = Agent(config, collectors=[])
    real = agent.ledger
    agent.ledger = FullLedger()  # type: ignore[assignment]
    with caplog.at_level(logging.INFO, logger="agent.app"):
        for i in range(5):
            agent._pending.extend((f"s{i}:{j}", 1.0, 0.0, 1.0) for j in range(8))
            await agent.flush()
        assert len(agent._pending) == 10
        assert [r.levelname for r in caplog.records] == ["ERROR", "ERROR"]  # failing; dropping: once each
        agent.ledger = real
        await agent.flush()
    assert caplog.records[-1].getMessage() == "ledger writes recovered; 30 observations were dropped meanwhile"
    real.close()
