"""Ledger series of the SNMP source: a link's state and available capacity, a device's answers."""

from __future__ import annotations

import sys

# Names are interned: the collector, the ledger, the KPI engine and the link states each hold a
# link's names, and at 60,000 links separate copies were about 29 MB (docs/performance.md, Memory).


def link_up(link: str) -> str:
    """A link's state: 1.0 up, 0.0 down, None unknown."""
    return sys.intern(f"link:{link}:up")


def link_available(link: str) -> str:
    """A link's available capacity in bytes/s: its capacity when up, 0 when down."""
    return sys.intern(f"link:{link}:available_bytes_per_second")


def device_answered(device: str) -> str:
    """1.0 when a poll of the device succeeded, None when it failed (a device is never "down" by polling)."""
    return sys.intern(f"device:{device}:answered")
