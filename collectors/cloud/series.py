"""Ledger series of the cloud source: the contract between its collector and the KPI engine."""

from __future__ import annotations


def cloud(cloud_name: str, region: str, resource: str, which: str) -> str:
    """A cloud region's ``which`` ("capacity" or "used") of ``resource`` in base units."""
    return f"cloud:{cloud_name}:{region}:{resource}:{which}"
