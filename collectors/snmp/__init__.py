"""SNMP collector: link state, capacity and traffic of network devices from IF-MIB.

Exports are resolved lazily so that agent/config.py may import
``collectors.snmp.config`` (its section) without an import cycle.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "SnmpCollector",
    "SnmpTarget",
    "TargetLink",
    "available_series",
    "poll_timeout",
    "resolve_device",
    "up_series",
]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from collectors.snmp import collector

        return getattr(collector, name)
    raise AttributeError(f"module 'collectors.snmp' has no attribute {name!r}")
