"""Cloud capacity: OpenStack (Keystone, Placement, Cinder) and generic vendor HTTP/JSON APIs.

Exports are resolved lazily so that agent/config.py may import
``collectors.cloud.config`` (which imports agent.config's building blocks)
without pulling in aiohttp or creating an import cycle.
"""

from __future__ import annotations

from typing import Any

__all__ = ["CloudCollector", "CloudTarget", "CloudConfig", "GenericCloud", "OpenStackCloud", "series"]


def __getattr__(name: str) -> Any:
    if name in ("CloudCollector", "CloudTarget", "series"):
        from collectors.cloud import collector

        return getattr(collector, name)
    if name in ("CloudConfig", "GenericCloud", "OpenStackCloud"):
        from collectors.cloud import config

        return getattr(config, name)
    raise AttributeError(f"module 'collectors.cloud' has no attribute {name!r}")
