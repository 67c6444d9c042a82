"""SNMP collector: link state, capacity and traffic of network devices from IF-MIB."""

from collectors.snmp.collector import (
    SnmpCollector,
    SnmpTarget,
    TargetLink,
    available_series,
    poll_timeout,
    resolve_device,
    up_series,
)

__all__ = [
    "SnmpCollector",
    "SnmpTarget",
    "TargetLink",
    "available_series",
    "poll_timeout",
    "resolve_device",
    "up_series",
]
