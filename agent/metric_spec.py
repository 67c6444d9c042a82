"""One exposed metric family: name, type, labels and help (agent/metrics.py holds them all)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

LINK_LABELS = ("link", "group", "device")  # every per-link family's labels, in this order


@dataclass(frozen=True, slots=True)
class MetricSpec:
    name: str
    type: Literal["gauge", "counter", "info", "histogram"]
    labels: tuple[str, ...]
    help: str
