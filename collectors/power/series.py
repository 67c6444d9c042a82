"""Ledger series of the power units: the contract between the power collector and the KPI engine."""

from __future__ import annotations

import sys


def unit_fault(unit: str) -> str:
    """A unit's fault: 1.0 some condition of its profile holds, 0.0 none does, None the agent could not tell."""
    return sys.intern(f"power:{unit}:fault")


def unit_condition(unit: str, condition: str) -> str:
    """One condition of a unit's profile, valued like :func:`unit_fault`."""
    return sys.intern(f"power:{unit}:{condition}")


def condition_of(series: str) -> str:
    """The condition a :func:`unit_condition` series names."""
    return series.rsplit(":", 1)[1]
