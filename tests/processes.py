"""Helpers for tests that run real processes on 127.0.0.1: ports, scrapes, the demo, clean stops."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import urllib.request

from agent.lab.processes import stop_process


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
