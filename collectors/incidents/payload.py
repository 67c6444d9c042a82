"""Alertmanager's webhook payload (version 4) as pushed alerts; one-line errors for anything else."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any, Mapping

from collectors.incidents.store import PushedAlert

_FRACTION = re.compile(r"(\.\d{6})\d+")  # Go writes nanoseconds; Python reads at most microseconds


class PayloadError(ValueError):
    """The body is not an Alertmanager notification; the message names the place."""


def _time(value: Any, where: str) -> float:
    if not isinstance(value, str):
        raise PayloadError(f"{where}: expected an RFC 3339 time, got {type(value).__name__}")
    try:
        return datetime.fromisoformat(_FRACTION.sub(r"\1", value)).timestamp()
    except ValueError:
        raise PayloadError(f"{where}: {value[:40]!r} is not an RFC 3339 time") from None


def _labels(value: Any, where: str) -> dict[str, str]:
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise PayloadError(f"{where}: expected an object of string labels")
    return dict(value)


def parse(body: bytes, network_labels: Mapping[str, str], skip_labels: Mapping[str, str]) -> tuple[list[PushedAlert], int]:
    """The notification's alerts (those matching ``skip_labels`` left out) and how many were left out."""
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise PayloadError(f"body is not JSON: {str(exc).splitlines()[0][:80]}") from None
    if not isinstance(document, dict) or not isinstance(document.get("alerts"), list):
        raise PayloadError("body: expected an Alertmanager notification with an alerts list")
    alerts: list[PushedAlert] = []
    skipped = 0
    for i, raw in enumerate(document["alerts"]):
        where = f"alerts[{i}]"
        if not isinstance(raw, dict):
            raise PayloadError(f"{where}: expected an object")
        status = raw.get("status")
        if status not in ("firing", "resolved"):
            raise PayloadError(f"{where}.status: expected firing or resolved, got {str(status)[:20]!r}")
        fingerprint = raw.get("fingerprint")
        if not isinstance(fingerprint, str) or not fingerprint:
            raise PayloadError(f"{where}.fingerprint: missing")
        labels = _labels(raw.get("labels", {}), f"{where}.labels")
        annotations = raw.get("annotations", {})
        if not isinstance(annotations, dict):
            raise PayloadError(f"{where}.annotations: expected an object")
        starts = _time(raw.get("startsAt"), f"{where}.startsAt")
        ends = _time(raw.get("endsAt"), f"{where}.endsAt") if status == "resolved" else None
        if ends is not None and ends < starts:
            raise PayloadError(f"{where}.endsAt: before startsAt")
        if skip_labels and all(labels.get(k) == v for k, v in skip_labels.items()):
            skipped += 1
            continue
        network = bool(network_labels) and all(labels.get(k) == v for k, v in network_labels.items())
        summary = annotations.get("summary")
        alerts.append(PushedAlert(fingerprint, starts, ends, "network" if network else "other",
                                  labels.get("alertname", ""), summary if isinstance(summary, str) else "", labels))
    return alerts, skipped
