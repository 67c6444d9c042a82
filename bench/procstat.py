"""What a benchmark reads about a process and the host from /proc: CPU, memory, I/O, UDP drops."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

_TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of ``pid`` (its threads included), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


def rss_bytes(pid: int) -> tuple[int, int]:
    """(current, peak) resident set size of ``pid``."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0]) * 1024
    return values.get("VmRSS", 0), values.get("VmHWM", 0)


def written_bytes(pid: int) -> int:
    """Bytes ``pid`` has caused to be written to storage (0 where /proc/PID/io is not readable)."""
    try:
        for line in Path(f"/proc/{pid}/io").read_text().splitlines():
            if line.startswith("write_bytes:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


@dataclass(frozen=True, slots=True)
class UdpCounters:
    receive_buffer_errors: int  # datagrams dropped because a socket's receive buffer was full
    in_errors: int


def udp_counters() -> UdpCounters:
    """The host's UDP error counters (/proc/net/snmp), IPv4."""
    lines = [line.split() for line in Path("/proc/net/snmp").read_text().splitlines() if line.startswith("Udp:")]
    named = dict(zip(lines[0][1:], (int(v) for v in lines[1][1:])))
    return UdpCounters(named.get("RcvbufErrors", 0), named.get("InErrors", 0))


def pin(pid: int, cpu: int | None) -> None:
    """Pin ``pid`` to one CPU, where the platform and the machine allow it."""
    if cpu is not None and hasattr(os, "sched_setaffinity") and cpu in os.sched_getaffinity(0):
        os.sched_setaffinity(pid, {cpu})
