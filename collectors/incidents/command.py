"""``sla-agent incidents --month YYYY-MM``: the month's incidents from the ledger, as a table, CSV or JSON."""

from __future__ import annotations

import argparse
import csv
import io
import json
import re
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from dataclasses import replace

from agent import periods
from agent.catalogue import BY_ID
from agent.config import Config, load_for_command
from agent.kpi import KpiEngine
from agent.kpi_types import Plan
from agent.units import parse_target
from collectors.incidents import incidents as inc
from collectors.incidents import kpi

FORMATS = ("table", "csv", "json")
COLUMNS = ("start", "end", "duration_seconds", "category", "source", "what", "key", "down_seconds")


def add_parser(sub: "argparse._SubParsersAction[argparse.ArgumentParser]", common: argparse.ArgumentParser) -> None:
    command = sub.add_parser(
        "incidents", help="list a month's incidents (down time of links, probes, power; pushed alerts)",
        parents=[common], formatter_class=argparse.RawDescriptionHelpFormatter,
        description="List the incidents raised in a month (in the configured time zone) from the ledger:\n"
                    "every down run of a link, probe or power unit outside maintenance, and the alerts\n"
                    "Alertmanager pushed to the incident webhook. Secrets are not read.")
    command.add_argument("-c", "--config", required=True, help="YAML config file (the agent's)")
    command.add_argument("--month", required=True, help="YYYY-MM")
    command.add_argument("--format", default="table", help="table (default), csv or json")
    command.add_argument("--data-dir", default=None, help="ledger directory (default: the config's agent.data_dir)")
    command.set_defaults(func=cmd_incidents)


def _month(text: str, zone: ZoneInfo) -> periods.Period | None:
    match = re.fullmatch(r"(\d{4})-(\d{2})", text)
    if not match or not 1 <= int(match.group(2)) <= 12:
        return None
    return periods.month(int(match.group(1)), int(match.group(2)), zone)


def month_incidents(config: Config, ledger: object, period: periods.Period, now: float) -> list[inc.Incident]:
    """Incidents raised in ``period`` (up to ``now``), with the same maintenance as the KPIs."""
    definition = BY_ID["fault_handling_rate"]
    inputs = tuple(name for name, _, _ in kpi.incident_series(config))
    parts = kpi.incident_parts(definition, None, config)  # type: ignore[arg-type]
    # A plan of every incident series, whether or not an incident KPI is configured (config: unused here).
    plan = Plan(None, definition, parse_target(definition.target, definition.unit), inputs, parts)  # type: ignore[arg-type]
    end = min(now, period.end)
    maintenance = KpiEngine(config, ledger).maintenance(plan, period.start, end)  # type: ignore[arg-type]
    found = kpi.period_incidents(plan, ledger, period.start, end, maintenance)  # type: ignore[arg-type]
    what = {name: label for name, _, label in kpi.incident_series(config)}
    return [i if i.what else replace(i, what=what.get(i.key, "")) for i in inc.raised_in(found, period.start, end)]


def _time(value: float | None, zone: ZoneInfo) -> str:
    return "" if value is None else datetime.fromtimestamp(value, zone).isoformat(timespec="seconds")


def rows(found: list[inc.Incident], zone: ZoneInfo, now: float) -> list[dict[str, object]]:
    return [{"start": _time(i.start, zone), "end": _time(i.end, zone), "duration_seconds": round(i.duration(now), 3),
             "category": i.category, "source": i.source, "what": i.what, "key": i.key,
             "down_seconds": round(i.down_seconds, 3)} for i in found]


def render(found: list[inc.Incident], fmt: str, zone: ZoneInfo, now: float) -> str:
    table = rows(found, zone, now)
    if fmt == "json":
        return json.dumps({"incidents": table}, ensure_ascii=False, indent=2) + "\n"
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(table)
        return out.getvalue()
    shown = [("start", 25), ("end", 25), ("duration_seconds", 12), ("category", 9), ("what", 30)]
    lines = ["  ".join(name.ljust(width) for name, width in shown).rstrip()]
    for row in table:
        lines.append("  ".join(str(row[name] or ("open" if name == "end" else "")).ljust(width)
                               for name, width in shown).rstrip())
    resolved = sum(1 for i in found if i.resolved)
    lines.append(f"{len(found)} incidents, {resolved} resolved, {len(found) - resolved} open")
    return "\n".join(lines) + "\n"


def cmd_incidents(args: argparse.Namespace) -> int:
    from agent.app import LEDGER_FILE
    from agent.ledger import Ledger, LedgerError

    if args.format not in FORMATS:
        print(f"--format: {args.format!r} is not one of {', '.join(FORMATS)}", file=sys.stderr)
        return 2
    config = load_for_command(args.config, secrets=False)
    if config is None:
        return 2
    zone = config.agent.zone
    period = _month(args.month, zone)
    if period is None:
        print(f"--month: {args.month!r} is not YYYY-MM", file=sys.stderr)
        return 2
    path = Path(args.data_dir or config.agent.data_dir) / LEDGER_FILE
    if not path.is_file():
        print(f"{path}: no ledger (has the agent run with this config? --data-dir reads another directory)",
              file=sys.stderr)
        return 2
    try:
        ledger = Ledger(path)
    except LedgerError as exc:
        print(str(exc).splitlines()[0], file=sys.stderr)
        return 2
    try:
        now = datetime.now().timestamp()
        sys.stdout.write(render(month_incidents(config, ledger, period, now), args.format, zone, now))
    finally:
        ledger.close()
    return 0
