"""Which series are incidents' states: a source's ``...:up`` series (down at 0) or ``...:fault`` (down at 1)."""

from __future__ import annotations


DOWN_AT = 0.5  # an up series is down below it, a fault series at or above it


def is_fault_series(series: str) -> bool:
    return series.endswith(":fault")


def is_down(series: str, value: float | None) -> bool:
    """Whether ``value`` of ``series`` is a fault; unknown (None) is never one."""
    if value is None:
        return False
    return value >= DOWN_AT if is_fault_series(series) else value < DOWN_AT


def is_good(series: str, value: float | None) -> bool:
    """Whether ``value`` says the thing works (ends an incident); unknown is neither."""
    return value is not None and not is_down(series, value)


def thing(series: str) -> str:
    """``link:egress-ct:up`` -> ``link egress-ct``: what an incident is of, for people."""
    parts = series.split(":")
    return f"{parts[0]} {':'.join(parts[1:-1])}" if len(parts) >= 3 else series
