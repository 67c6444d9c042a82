"""The ledger's table of incidents Alertmanager pushed (collectors/incidents/webhook.py).

One row per alert occurrence, keyed by its fingerprint and ``startsAt``: a
notification repeats an alert while it fires, and its resolved notification
sets ``ends_at``; the same alert firing again later is a new row.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any, Iterable

from collectors.incidents.incidents import ALERTMANAGER, Incident

SCHEMA = """
CREATE TABLE IF NOT EXISTS alert_incidents (
    fingerprint TEXT NOT NULL,
    starts_at REAL NOT NULL,     -- Unix seconds
    ends_at REAL,                -- NULL while firing
    category TEXT NOT NULL,
    name TEXT NOT NULL,          -- alertname
    summary TEXT NOT NULL,
    labels TEXT NOT NULL,        -- JSON object
    PRIMARY KEY (fingerprint, starts_at)
) WITHOUT ROWID;
"""


@dataclass(frozen=True, slots=True)
class PushedAlert:
    fingerprint: str
    starts_at: float
    ends_at: float | None  # set when Alertmanager says resolved
    category: str
    name: str
    summary: str
    labels: dict[str, str]


def save(db: sqlite3.Connection, alerts: Iterable[PushedAlert]) -> int:
    """Upsert ``alerts`` (the caller's transaction); a resolution is kept once given. Rows written."""
    written = 0
    for alert in alerts:
        db.execute(
            "INSERT INTO alert_incidents VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (fingerprint, starts_at) DO UPDATE "
            "SET ends_at=COALESCE(excluded.ends_at, ends_at), category=excluded.category, summary=excluded.summary, "
            "labels=excluded.labels",
            (alert.fingerprint, alert.starts_at, alert.ends_at, alert.category, alert.name, alert.summary,
             json.dumps(alert.labels, sort_keys=True, ensure_ascii=False)),
        )
        written += 1
    return written


def load(db: sqlite3.Connection, start: float, end: float) -> list[Incident]:
    """Pushed incidents that were open at some time in ``[start, end)``, or started in it."""
    try:
        rows: list[Any] = db.execute(
            "SELECT fingerprint, starts_at, ends_at, category, name, summary FROM alert_incidents "
            "WHERE starts_at < ? AND (ends_at IS NULL OR ends_at >= ?) ORDER BY starts_at", (end, start)).fetchall()
    except sqlite3.OperationalError:  # no webhook ever stored anything: the table is not there
        return []
    return [Incident(ALERTMANAGER, f"{name}/{fp}", category, starts, ends,
                     (ends if ends is not None else end) - starts, summary or name)
            for fp, starts, ends, category, name, summary in rows]
