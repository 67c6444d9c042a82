"""Which series are incidents' states: a source's ``...:up`` series (down at 0) or ``...:fault`` (down at 1)."""

from __future__ import annotations


def is_down(series: str, value: float | None) -> bool:
    """Whether ``value`` of ``series`` is a fault; unknown (None) is never one."""
    if value is None:
        return False
    return value >= 0.5 if series.endswith(":fault") else value < 0.5


def is_good(series: str, value: float | None) -> bool:
    """Whether ``value`` says the thing works (ends an incident); unknown is neither."""
    return value is not None and not is_down(series, value)


def thing(series: str) -> str:
    """``link:egress-ct:up`` -> ``link egress-ct``: what an incident is of, for people."""
    parts = series.split(":")
    return f"{parts[0]} {':'.join(parts[1:-1])}" if len(parts) >= 3 else series
