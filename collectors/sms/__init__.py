"""SMS gateway: delivery records read incrementally (pull feed, optional webhook) into ledger aggregates;
optionally a synthetic canary (collectors/sms/canary.py).

Exports are resolved lazily so that agent/config.py may import
``collectors.sms.config`` without pulling in aiohttp or creating an import cycle.
"""

from __future__ import annotations

from typing import Any

__all__ = ["SmsCollector", "SmsTarget", "SmsGateway", "SmsCanaryCollector"]


def __getattr__(name: str) -> Any:
    if name in ("SmsCollector", "SmsTarget"):
        from collectors.sms import collector

        return getattr(collector, name)
    if name == "SmsCanaryCollector":
        from collectors.sms import canary

        return canary.SmsCanaryCollector
    if name == "SmsGateway":
        from collectors.sms import config

        return config.SmsGateway
    raise AttributeError(f"module 'collectors.sms' has no attribute {name!r}")
