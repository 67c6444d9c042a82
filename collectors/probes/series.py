"""Ledger series of the HTTP probes: the contract between the probe collector and the KPI engine."""

from __future__ import annotations

import sys


def probe_up(probe: str) -> str:
    """A probe's outcome: 1.0 the last probe succeeded, 0.0 it failed, None the agent could not run it."""
    return sys.intern(f"probe:{probe}:up")
