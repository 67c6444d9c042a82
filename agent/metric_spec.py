"""One exposed metric family: name, type, labels and help (agent/metrics.py holds them all)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True, slots=True)
class MetricSpec:
    name: str
    type: Literal["gauge", "counter", "info", "histogram"]
    labels: tuple[str, ...]
    help: str
