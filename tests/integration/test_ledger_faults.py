"""The write path under a full disk and a locked ledger: kept for retry, logged once, recovered exactly.

The full disk is real: a 512 KiB tmpfs (mounting one needs root; skipped
otherwise) filled to its last byte, so SQLite's writes end in ENOSPC and it
reports SQLITE_FULL. The lock is real too: another process holds the write
lock of the ledger file, as a backup tool or the sqlite3 shell would.
"""

from __future__ import annotations

import errno
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Iterator, Protocol

import pytest

from agent import ledger as ledger_module
from agent.app import LEDGER_FILE, Agent
from tests.fakes import FakeClock
from tests.unit.test_agent import T0, collector, kpis, make_config, poll_at

MOUNT_SIZE = "512k"
LOCKER = (
    "import sqlite3, sys\n"
    "db = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
    "db.execute('BEGIN IMMEDIATE')\n"
    "print('locked', flush=True)\n"
    "sys.stdin.readline()\n"
)


class Fault(Protocol):
    data_dir: Path

    def start(self) -> None: ...

    def end(self) -> None: ...


class FullDisk:
    """A tmpfs that ``start`` fills to the last byte and ``end`` empties again."""

    def __init__(self, mount: Path):
        self.data_dir = mount / "data"
        self._filler = mount / "filler"

    def start(self) -> None:
        fd = os.open(self._filler, os.O_WRONLY | os.O_CREAT)
        try:
            for chunk in (65536, 4096, 1):  # bounded: the tmpfs holds 512 KiB
                for _ in range(1024):
                    try:
                        os.write(fd, b"\0" * chunk)
                    except OSError as exc:
                        assert exc.errno == errno.ENOSPC
                        break
        finally:
            os.close(fd)

    def end(self) -> None:
        self._filler.unlink()


class LockedLedger:
    """Another process holding the ledger's write lock from ``start`` to ``end``."""

    def __init__(self, data_dir: Path):
        self.data_dir = data_dir
        self._proc: subprocess.Popen[str] | None = None

    def start(self) -> None:
        self._proc = subprocess.Popen([sys.executable, "-c", LOCKER, str(self.data_dir / LEDGER_FILE)],
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self._proc.stdout is not None and self._proc.stdout.readline().strip() == "locked"

    def end(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            assert self._proc.stdin is not None
            self._proc.stdin.close()  # the locker returns and its connection goes with it
            self._proc.wait(10)


@pytest.fixture
def tmpfs(tmp_path) -> Iterator[Path]:
    mount = tmp_path / "small-disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={MOUNT_SIZE}", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.fixture
def quick_lock_timeout(monkeypatch):
    # A locked write fails after 0.1 s instead of 5 s, so a test can wait out many.
    monkeypatch.setattr(ledger_module, "BUSY_TIMEOUT_MS", 100)


@pytest.fixture(params=["disk_full", "locked"])
def fault(request, tmp_path, quick_lock_timeout) -> Iterator[Fault]:
    made: Fault = FullDisk(request.getfixturevalue("tmpfs")) if request.param == "disk_full" else LockedLedger(
        tmp_path / "data")
    yield made
    if isinstance(made, LockedLedger):
        made.end()


def config_in(data_dir: Path):
    assert data_dir.name == "data"  # where make_config puts it
    return make_config(data_dir.parent)


def messages(caplog, text: str) -> int:
    return sum(text in r.getMessage() for r in caplog.records)


async def test_observations_wait_out_the_fault_and_are_written_once(fault, caplog):
    caplog.set_level(logging.INFO, logger="agent.app")
    clock = FakeClock(T0)
    fake = collector()
    agent = Agent(config_in(fault.data_dir), [fake], clock)
    await poll_at(agent, fake, clock, T0)
    fault.start()
    fake.states["ct"] = False
    for t in (T0 + 30, T0 + 60, T0 + 90):
        await poll_at(agent, fake, clock, t)
    assert agent.state.ledger.failures == 3
    assert agent.ledger.heartbeat() == (T0, False)  # nothing after T0 is known to a start after a crash
    fault.end()
    fake.states["ct"] = True
    await poll_at(agent, fake, clock, T0 + 120)

    segments = agent.ledger.segments(["link:ct:up", "link:cu:up"], T0, T0 + 1000)
    assert segments["link:ct:up"] == [(T0, T0 + 30, 1.0), (T0 + 30, T0 + 120, 0.0), (T0 + 120, T0 + 180, 1.0)]
    assert segments["link:cu:up"] == [(T0, T0 + 180, 1.0)]
    clock.now = T0 + 150
    await agent.evaluate()
    totals = kpis(agent)["egress_link_availability"].totals
    assert (totals.good, totals.bad) == (30 + 30 + 150, 90)  # no poll lost, none counted twice
    assert messages(caplog, "ledger write failed") == 1
    assert messages(caplog, "ledger writes recovered") == 1
    assert agent.ledger.heartbeat() == (T0 + 120, False)
    agent.ledger.close()


async def test_a_crash_during_the_fault_loses_the_time_since_the_last_write(tmp_path, quick_lock_timeout):
    clock = FakeClock(T0)
    fake = collector()
    config = config_in(tmp_path / "data")
    agent = Agent(config, [fake], clock)
    await poll_at(agent, fake, clock, T0)
    clock.now = T0 + 10
    await agent.flush()  # the last write that succeeds: heartbeat T0+10
    lock = LockedLedger(tmp_path / "data")
    lock.start()
    try:
        fake.states["ct"] = False
        await poll_at(agent, fake, clock, T0 + 30)  # never written
        agent.ledger.close()  # killed
    finally:
        lock.end()
    clock.now = T0 + 100
    restarted = Agent(config, [fake], clock)
    # Up from T0 until the last write (T0+10), not for the 60 s the observation stood for.
    assert restarted.ledger.segments(["link:ct:up"], T0, T0 + 1000)["link:ct:up"] == [(T0, T0 + 10, 1.0)]
    restarted.ledger.close()


async def test_a_start_on_a_locked_ledger_cuts_the_last_run_before_writing_anything(tmp_path, quick_lock_timeout,
                                                                                     caplog):
    clock = FakeClock(T0)
    fake = collector()
    config = config_in(tmp_path / "data")
    crashed = Agent(config, [fake], clock)
    await poll_at(crashed, fake, clock, T0)  # ct up, valid until T0+60
    crashed.ledger.close()  # killed right after that write

    lock = LockedLedger(tmp_path / "data")
    lock.start()
    try:
        clock.now = T0 + 20
        agent = Agent(config, [fake], clock)  # the start-up cut cannot be written yet
        await poll_at(agent, fake, clock, T0 + 25)
        assert agent.state.ledger.failures == 1
    finally:
        lock.end()
    clock.now = T0 + 26
    await agent.flush()
    # The cut came first: the T0+25 poll starts a segment of its own instead of
    # stretching the crashed run's segment across the dead time.
    # (The crashed run's segment is cut to nothing: its only write was at T0.)
    assert agent.ledger.segments(["link:ct:up"], T0, T0 + 1000)["link:ct:up"] == [(T0 + 25, T0 + 85, 1.0)]
    assert messages(caplog, "did not stop cleanly") == 1
    agent.ledger.close()
