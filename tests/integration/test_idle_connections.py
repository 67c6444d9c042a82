"""1,100 idle TCP connections must not make /metrics unreachable, and idle connections are closed.

The agent runs as `sla-agent run` with its open-files limit pinned to 1024
(soft and hard, so raising the soft limit cannot help): before connections
were bounded, the idle connections used up the descriptors and accept()
failed ("accept() out of system resource") for the scrape too.
"""

from __future__ import annotations

import asyncio
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.processes import closed_by_peer, free_port, open_idle, scrape, stop, wait_for

IDLE = 1100
FD_LIMIT = 1024
IDLE_TIMEOUT = 3.0


def _pin_fd_limit() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (FD_LIMIT, FD_LIMIT))


@pytest.fixture
def agent(tmp_path: Path):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < IDLE + 200:
        pytest.skip(f"the test process may open only {hard} files")
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard if hard != resource.RLIM_INFINITY else IDLE + 500, hard))
    port = free_port()
    config = tmp_path / "c.yaml"
    # One SNMP device nobody answers for: the agent has something to do, and nothing to reach.
    config.write_text(f"""
agent:
  listen: 127.0.0.1:{port}
  data_dir: {tmp_path / 'data'}
  idle_timeout: {IDLE_TIMEOUT:g}s
snmp:
  defaults: {{community: c, port: {free_port()}, timeout: 1s, retries: 0, interval: 5s}}
  devices: [{{name: r1, address: 127.0.0.1}}]
""")
    proc = subprocess.Popen([sys.executable, "-m", "agent.cli", "run", "-c", str(config)], preexec_fn=_pin_fd_limit,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    base = f"http://127.0.0.1:{port}"
    assert wait_for(lambda: scrape(base + "/healthz") is not None or proc.poll() is not None, 20), "agent did not start"
    yield proc, port, base
    stop(proc)
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def _open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


async def test_metrics_answers_beside_1100_idle_connections_and_idle_ones_are_closed(agent):
    proc, port, base = agent
    idle = await open_idle(port, IDLE)
    try:
        assert len(idle) >= FD_LIMIT, f"only {len(idle)} connections could be opened"
        latencies = []
        for _ in range(5):
            started = time.monotonic()
            body = await asyncio.to_thread(scrape, base + "/metrics")
            latencies.append(time.monotonic() - started)
            assert body is not None and "sla_agent_info" in body, (
                f"/metrics unreachable beside {len(idle)} idle connections "
                f"(agent has {_open_fds(proc.pid)} open files)")
        print(f"\n/metrics beside {len(idle)} idle connections: slowest of 5 scrapes {max(latencies) * 1000:.0f} ms; "
              f"agent has {_open_fds(proc.pid)} open files")
        assert _open_fds(proc.pid) < 256 + 64  # max_connections plus the agent's own files
        # Every connection that sent nothing is closed by the idle bound (3 s), none kept open.
        assert wait_for(lambda: all(closed_by_peer(s) for s in idle), IDLE_TIMEOUT + 10, step=0.5), (
            f"{sum(not closed_by_peer(s) for s in idle)} idle connections still open")
    finally:
        for sock in idle:
            sock.close()
    assert proc.poll() is None
