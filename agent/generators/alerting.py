"""SLO arithmetic shared by the rule and dashboard generators (no I/O).

Multi-window, multi-burn-rate alerting as in the Google SRE workbook
("Alerting on SLOs", approach 6), with the extra 1 d / 2 h ticket pair that
the kubernetes-mixin uses. A window pair is defined by the share of the
error budget it catches and how fast: the burn-rate factor follows from the
SLO period, so the numbers below are derived, not copied:

    factor = budget share consumed x SLO period / long window
    30 d:  2 % in 1 h -> 14.4,  5 % in 6 h -> 6,  10 % in 1 d -> 3,  10 % in 3 d -> 1

An alert fires when the error ratio over the long window *and* over the short
window (1/12 of the long one, so the alert resets soon after the burn stops)
both exceed ``factor x (1 - objective)``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Severity = Literal["page", "ticket"]

SLO_PERIOD = 30 * 86400.0
"""The rolling window an objective is held over by the burn-rate alerts.

The agent's own figures are per calendar month; 30 days is the workbook's
period and within 3 % of every month's length, so the factors stay the
workbook's round numbers.
"""

# An error-ratio threshold must stay below 1 or a total outage could never
# reach it (14.4 x 10 % budget = 1.44 for a 90 % objective); such factors
# are lowered so that 90 % errors over the window fire.
MAX_ERROR_RATIO = 0.9

_UNITS = (("d", 86400), ("h", 3600), ("m", 60), ("s", 1))


def prom_duration(seconds: float) -> str:
    """A Prometheus duration (``5m``, ``1h``, ``3d``) in the largest exact unit."""
    whole = int(round(seconds))
    if whole <= 0 or abs(whole - seconds) > 1e-9:
        raise ValueError(f"{seconds!r} is not a positive whole number of seconds")
    for suffix, size in _UNITS:
        if whole % size == 0:
            return f"{whole // size}{suffix}"
    raise AssertionError("unreachable: 1 s divides every whole number")


def parse_prom_duration(text: str) -> float:
    """Seconds from a simple Prometheus duration such as ``30m`` or ``1d``."""
    match = re.fullmatch(r"(\d+)([smhd])", text)
    if not match:
        raise ValueError(f"{text!r} is not a duration such as 5m")
    return int(match.group(1)) * dict(_UNITS)[match.group(2)]


@dataclass(frozen=True, slots=True)
class BurnWindow:
    """One long/short window pair of the multi-window, multi-burn-rate scheme."""

    severity: Severity
    long: float  # seconds
    short: float  # seconds
    budget_share: float  # share of the period's error budget consumed within ``long``
    for_: float  # seconds the condition must hold (absorbs one evaluation blip)

    @property
    def factor(self) -> float:
        """Burn rate: how many times faster than "exactly on budget" the budget goes."""
        return round(self.budget_share * SLO_PERIOD / self.long, 6)

    def threshold(self, objective: float) -> float:
        """Error ratio above which this pair fires, for ``objective`` (e.g. 0.99)."""
        return round(min(self.factor * (1.0 - objective), MAX_ERROR_RATIO), 9)

    def exhaustion(self) -> float:
        """Seconds until the whole budget is gone at exactly this burn rate."""
        return SLO_PERIOD / self.factor


WINDOWS: tuple[BurnWindow, ...] = (
    BurnWindow("page", 3600, 300, 0.02, 120),
    BurnWindow("page", 6 * 3600, 1800, 0.05, 900),
    BurnWindow("ticket", 86400, 7200, 0.10, 3600),
    BurnWindow("ticket", 3 * 86400, 6 * 3600, 0.10, 3 * 3600),
)

# Windows of at most this length are computed from raw samples; longer ones
# from 5-minute partial sums, so a 30-day window does not scan 30 days of
# raw samples at every evaluation.
RAW_WINDOW_LIMIT = 6 * 3600
BASE_WINDOW = 300.0


def error_ratio_windows() -> tuple[float, ...]:
    """Every window an error ratio is recorded over: the alerts' plus 30 days."""
    return tuple(sorted({w.long for w in WINDOWS} | {w.short for w in WINDOWS} | {BASE_WINDOW, SLO_PERIOD}))


def objective_text(objective: float) -> str:
    """``99%``, ``99.5%``: an objective as people write it."""
    return f"{objective * 100:g}%"


def human_duration(seconds: float) -> str:
    """``2 d 12 h``-style rendering for annotations and docs."""
    days, rest = divmod(int(seconds), 86400)
    hours = rest // 3600
    if days and hours:
        return f"{days}d{hours}h"
    return f"{days}d" if days else f"{hours}h"
