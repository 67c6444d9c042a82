"""Helpers for tests that run real processes on 127.0.0.1: ports, scrapes, the demo, clean stops, /proc."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from agent import periods, sli
from agent.config import MaintenanceWindow
from agent.lab.processes import stop_process


def demo_maintenance(start: float, end: float) -> float:
    """Seconds of the demo's maintenance windows in ``[start, end)``.

    agent/lab/demo.yaml (and examples/demo.yaml) put the egress group in maintenance on the
    month's first Sunday, 02:00-04:00 Asia/Shanghai: a demo run then has no egress figures.
    """
    data = yaml.safe_load(resources.files("agent.lab").joinpath("demo.yaml").read_text(encoding="utf-8"))
    windows = [MaintenanceWindow.model_validate(entry) for entry in data.get("maintenance") or ()]
    return sum(sli.length(periods.window_spans(w, start, end, ZoneInfo("Asia/Shanghai"))) for w in windows)


def skip_in_demo_maintenance(seconds: float) -> None:
    """Skip a test of the demo's egress figures if its maintenance window falls in the next ``seconds``."""
    now = time.time()
    if demo_maintenance(now - 60, now + seconds):
        pytest.skip("the demo's monthly egress maintenance window (first Sunday, 02:00-04:00 Asia/Shanghai) "
                    "is under way: its egress figures are excluded")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def scrape(url: str) -> str | None:
    """The body at ``url``, or None while nothing answers there."""
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return resp.read().decode()
    except OSError:
        return None


def demo_command(port: int, duration: float, data_dir: str | None = None) -> list[str]:
    """`sla-agent demo` on 127.0.0.1:``port``, ending by itself after ``duration`` seconds."""
    argv = [sys.executable, "-m", "agent.cli", "demo", "--listen", f"127.0.0.1:{port}", "--duration", str(duration)]
    return argv + (["--data-dir", data_dir] if data_dir is not None else [])


def stop(proc: subprocess.Popen, sig: signal.Signals = signal.SIGINT, grace: float = 15) -> None:
    """Ask ``proc`` to stop with ``sig`` (the agent's Ctrl-C by default); kill it after ``grace`` seconds."""
    stop_process(proc, sig, grace)


async def open_idle(port: int, count: int) -> list[socket.socket]:
    """``count`` TCP connections that never send a byte (each connect bounded to 5 s)."""
    loop = asyncio.get_running_loop()
    opened: list[socket.socket] = []

    async def one() -> None:
        sock = socket.socket()
        sock.setblocking(False)
        try:
            await asyncio.wait_for(loop.sock_connect(sock, ("127.0.0.1", port)), 5)
            opened.append(sock)
        except (OSError, TimeoutError):
            sock.close()

    for start in range(0, count, 100):
        await asyncio.gather(*(one() for _ in range(min(100, count - start))))
    return opened


def closed_by_peer(sock: socket.socket) -> bool:
    """Whether the other end closed (or reset) a connected socket, without consuming anything."""
    try:
        return sock.recv(1, socket.MSG_DONTWAIT | socket.MSG_PEEK) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


def wait_for(condition: Callable[[], bool], timeout: float, step: float = 0.1) -> bool:
    """Poll ``condition`` until it holds or ``timeout`` s have passed (bounded in count too)."""
    deadline = time.monotonic() + timeout
    for _ in range(int(timeout / step) + 2):
        if condition():
            return True
        if time.monotonic() > deadline:
            break
        time.sleep(step)
    return condition()


# -- /proc (Linux): who runs, and who started whom ------------------------------


def _stat(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name, or None once the pid is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name is in parentheses and may hold spaces or ")": split after the last one.
    return text.rsplit(")", 1)[1].split()


def running(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie waiting to be reaped counts as gone)."""
    fields = _stat(pid)
    return fields is not None and fields[0] not in ("Z", "X")


def children(pid: int) -> list[int]:
    """Live children of ``pid``, whichever of its threads started them (a /proc scan)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat(int(entry))
            if fields is not None and int(fields[1]) == pid and running(int(entry)):
                found.append(int(entry))
    return found


def descendants(pid: int, max_depth: int = 8) -> list[int]:
    """Live children of ``pid``, their children, and so on (``max_depth`` generations)."""
    found: list[int] = []
    generation = [pid]
    for _ in range(max_depth):
        generation = [child for parent in generation for child in children(parent)]
        found += generation
    return found


def cmdline(pid: int) -> list[str]:
    """The argv of ``pid`` ([] once it is gone)."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return raw.decode(errors="replace").split("\0")[:-1]


def udp_port_free(port: int) -> bool:
    """Whether 127.0.0.1:``port``/udp can be bound (nothing holds it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"


def start_prometheus(tmp_path: Path, config: dict, timeout: float = 20) -> tuple[subprocess.Popen, str]:
    """Debian's prometheus with ``config`` (written to tmp_path/prometheus.yml) on a free 127.0.0.1 port,
    once it says it is ready: the process and its base URL. Stop it with ``stop``."""
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    port = free_port()
    prom = subprocess.Popen(
        [PROMETHEUS, f"--config.file={tmp_path / 'prometheus.yml'}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
         f"--web.listen-address=127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    base = f"http://127.0.0.1:{port}"
    if not wait_for(lambda: prom.poll() is not None or scrape(base + "/-/ready") is not None, timeout) \
            or prom.poll() is not None:
        stop(prom)
        raise AssertionError(f"prometheus did not start: {prom.stderr.read() if prom.stderr else ''}")
    return prom, base
