"""Ledger series of the SMS source (its figures come from its own tables: collectors/sms/store.py)."""

from __future__ import annotations


def sms_feed(gateway: str) -> str:
    """An SMS gateway's feed health: 1.0 when its poll succeeded, None when it failed."""
    return f"sms:{gateway}:feed"
