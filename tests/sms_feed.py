"""Hand-built SMS ledgers: feed time recorded as read without a gap (collectors/sms/coverage_table.py)."""

from __future__ import annotations

from agent.ledger import Ledger
from collectors.sms import coverage_table


def read_over(ledger: Ledger, gateway: str, start: float, end: float) -> None:
    """Record the gateway's feed as read without a gap over [start, end) (Unix seconds)."""
    ledger.ensure_schema(coverage_table.SCHEMA)
    span = (round(start * 1000), round(end * 1000))
    ledger.write(lambda db: coverage_table.add_span(db, gateway, span))
