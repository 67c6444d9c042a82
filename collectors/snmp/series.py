"""Ledger series of the SNMP source beyond the links' (agent/series.py): a device's answers."""

from __future__ import annotations

import sys


def device_answered(device: str) -> str:
    """1.0 when a poll of the device succeeded, None when it failed (a device is never "down" by polling)."""
    return sys.intern(f"device:{device}:answered")
