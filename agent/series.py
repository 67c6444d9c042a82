"""Ledger series names: the contract between collectors (writers) and the KPI engine (reader)."""

from __future__ import annotations


def link_up(link: str) -> str:
    """A link's state: 1.0 up, 0.0 down, None unknown."""
    return f"link:{link}:up"


def link_available(link: str) -> str:
    """A link's available capacity in bytes/s: its capacity when up, 0 when down."""
    return f"link:{link}:available_bytes_per_second"


def cloud(cloud_name: str, region: str, resource: str, which: str) -> str:
    """A cloud region's ``which`` ("capacity" or "used") of ``resource`` in base units."""
    return f"cloud:{cloud_name}:{region}:{resource}:{which}"


def sms_feed(gateway: str) -> str:
    """An SMS gateway's feed health: 1.0 when its poll succeeded, None when it failed."""
    return f"sms:{gateway}:feed"
