"""SIGKILL a real `sla-agent run`, restart it, and read from the ledger what the dead time counts as.

Each observation stands for two intervals (10 s here), so without the
heartbeat cut the time after the kill read as up until those 10 s ran out,
and a restart within them stretched the segment across the whole outage.
"""

from __future__ import annotations

import os
import signal
import time

import pytest

from agent.app import FLUSH_INTERVAL
from tests.integration.agent_process import (
    SERIES, known_seconds, read_segments, run_command, start, wait_polls, write_config,
)
from tests.integration.snmpd_fixture import snmpd  # noqa: F401 - a fixture
from tests.processes import free_port, stop

pytestmark = pytest.mark.snmpd

DEAD = 4.0  # seconds the agent stays dead
# A heartbeat is written every FLUSH_INTERVAL after the previous write ended; allow for
# the write itself and a busy machine.
BOUND = FLUSH_INTERVAL + 0.5


def test_time_after_a_sigkill_reads_unknown(snmpd, tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    data = tmp_path / "data"
    config = write_config(tmp_path / "agent.yaml", snmpd, data, port, interval="5s")
    first = start(run_command(config), tmp_path)
    try:
        wait_polls(first, base, 2, timeout=20)
        time.sleep(0.6)  # somewhere between two heartbeats
        killed = time.time()
        os.kill(first.pid, signal.SIGKILL)
        first.wait(10)
    finally:
        stop(first)
    time.sleep(DEAD)
    restarted_at = time.time()
    second = start(run_command(config), tmp_path)
    try:
        wait_polls(second, base, 1, timeout=20)
    finally:
        stop(second)
    stderr = second.stderr.read() if second.stderr else ""
    assert second.returncode == 0, stderr

    segments = read_segments(data, killed - 60, restarted_at + 60)
    for name in SERIES:
        # Nothing from the kill to the restart is known (it was 10 s up per series before the fix).
        assert known_seconds(segments[name], killed, restarted_at) == 0, (name, segments[name])
        # ... and at most one flush interval before the kill was lost with the process.
        last_end = max(e for s, e, v in segments[name] if s < killed)
        assert killed - BOUND <= last_end <= killed, (name, killed, segments[name])
    # The restarted agent's own data starts afresh after the restart.
    assert any(s >= restarted_at for s, e, v in segments[SERIES[0]])
    assert "did not stop cleanly" in stderr  # said once, at the start after the crash
