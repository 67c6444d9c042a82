"""`sla-agent export`: the CLI glue from arguments to written files.

User mistakes (a malformed or future period, two period options, an unknown
format, an unwritable output, a bad manual-values file, no ledger) end with
one line on stderr and exit code 2, as every other command does.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from agent.config import Config
    from agent.export.prometheus_source import StoreAuth
    from agent.periods import Period

from agent.periods import PeriodKind

FORMATS = ("xlsx", "csv", "json", "html")
EXIT_USAGE = 2


class ExportError(Exception):
    """A problem the user can fix; printed as one line after ``sla-agent: ``."""


class ManualFileError(ExportError):
    """Problems in the manual-values file, each already a ``FILE: path: problem`` line."""


def add_parser(sub: "argparse._SubParsersAction[argparse.ArgumentParser]", common: argparse.ArgumentParser) -> None:
    """Register the ``export`` subcommand (``common``: the options every subcommand takes)."""
    export = sub.add_parser(
        "export", help="write the 绩效 indicator table with the measured figures", parents=[common],
        description="Write the period's 绩效 evaluation table (单位整体支出绩效目标表) with the figures measured\n"
                    "in the ledger and the manual entries, as xlsx, csv, json and html. Secrets are not read.",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    export.add_argument("-c", "--config", required=True, help="YAML config file (the agent's)")
    export.add_argument("--month", help="YYYY-MM (default: the last complete month in the configured time zone)")
    export.add_argument("--quarter", help="YYYYQn, e.g. 2026Q3")
    export.add_argument("--half", help="YYYYHn, e.g. 2026H1")
    export.add_argument("--year", help="YYYY")
    export.add_argument("--format", default="all", help="xlsx, csv, json, html or all (default: all)")
    export.add_argument("-o", "--output", help="output file (one format), file stem (all), or a directory: "
                        "DIR/ (created if needed) or an existing one, default names inside")
    export.add_argument("--manual", help="YAML file of the manual indicators' values (see docs/export.md)")
    from agent.export.from_store import add_arguments as add_store_arguments

    add_store_arguments(export)  # --source, --url and the store's credentials
    export.add_argument("--lang", default="zh", help="zh (default) or en: English indicator names alongside")
    export.add_argument("--data-dir", action="append", metavar="DIR",
                        help="ledger directory to read (default: the config's agent.data_dir); repeat it to read "
                             "the ledgers of several shards as one fleet")
    export.set_defaults(func=cmd_export)


def _writers() -> "dict[str, Callable[..., bytes]]":
    from agent.export import csv_writer, html, json_writer, xlsx

    return {"xlsx": xlsx.render, "csv": csv_writer.render, "json": json_writer.render, "html": html.render}


def resolve_period(args: argparse.Namespace, zone: ZoneInfo, now: float) -> "tuple[PeriodKind, Period]":
    """The report period from the one period option given (default: last complete month)."""
    from agent import periods

    given: list[tuple[PeriodKind, str]] = [
        (kind, getattr(args, kind)) for kind in periods.KINDS if getattr(args, kind, None) is not None]
    if len(given) > 1:
        raise ExportError("give only one of --month, --quarter, --half, --year")
    if not given:
        return "month", periods.last_complete_month(now, zone)
    kind, text = given[0]
    try:
        period = periods.parse(kind, text, zone)
    except ValueError as exc:
        raise ExportError(f"--{kind}: {exc}") from None
    if period.start > now:
        raise ExportError(f"--{kind} {text}: that period has not started yet")
    return kind, period


# os.path's tests, not Path's: inside a directory the user may not read, Path.exists() raises
# PermissionError (a traceback) where os.path.exists() says False.

def _names_directory(output: str) -> bool:
    """``-o DIR/`` names a directory even before it exists; so does the name of an existing one."""
    return output.endswith(("/", os.sep)) or os.path.isdir(output)


def _check_directory(directory: Path) -> None:
    """``directory`` exists or can be created: its nearest existing ancestor is a writable directory."""
    existing = directory
    while not os.path.exists(existing):
        existing = existing.parent
    if not os.path.isdir(existing):
        raise ExportError(f"cannot create directory {directory}: {existing} is not a directory")
    if existing != directory and not os.access(existing, os.W_OK | os.X_OK):
        raise ExportError(f"cannot create directory {directory}: permission denied in {existing}")


def _check_file(path: Path) -> None:
    parent = path.parent if str(path.parent) else Path(".")
    if not os.path.isdir(parent):
        raise ExportError(f"cannot write {path}: no directory {parent}")
    if (os.path.isdir(path) or not os.access(parent, os.W_OK)
            or (os.path.exists(path) and not os.access(path, os.W_OK))):
        raise ExportError(f"cannot write {path}: permission denied or a directory")


def output_paths(output: str | None, formats: Sequence[str], label: str, cwd: Path | None = None) -> dict[str, Path]:
    """Where each format goes; checks that every target can be written before anything is computed.

    A directory that ``-o DIR/`` names is only checked here: ``export`` creates it when it
    writes, so a failed export leaves nothing behind.
    """
    if output is None or _names_directory(output):
        directory = (cwd or Path.cwd()) if output is None else Path(output)
        _check_directory(directory)
        paths = {f: directory / f"sla-report-{label}.{f}" for f in formats}
        if not os.path.isdir(directory):
            return paths  # nothing inside a directory still to be created can be in the way
    elif len(formats) == 1:
        paths = {formats[0]: Path(output)}
    else:
        out = Path(output)
        stem = out.with_suffix("") if out.suffix.lstrip(".") in FORMATS else out
        paths = {f: stem.parent / f"{stem.name}.{f}" for f in formats}
    for path in paths.values():
        _check_file(path)
    return paths


def _write(path: Path, data: bytes) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)  # the directory of -o DIR/
    except OSError as exc:
        raise ExportError(f"cannot create directory {path.parent}: {exc.strerror or exc}") from None
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise ExportError(f"cannot write {path}: {exc.strerror or exc}") from None


def export(config: "Config", kind: "PeriodKind", period: "Period", formats: Sequence[str], output: str | None,
           manual_path: str | None, lang: str, now: float, cwd: Path | None = None,
           data_dirs: Sequence[Path] = (), source: str = "ledger", url: str | None = None,
           auth: "StoreAuth | None" = None) -> list[Path]:
    """Build the report for ``period`` and write it; the paths written.

    ``source`` "ledger": from the ledger(s) in ``data_dirs`` (several: one per shard, read as one
    fleet; default agent.data_dir); "prometheus": from the store at ``url``.
    """
    from agent.app import LEDGER_FILE
    from agent.export.layout import table12
    from agent.export.manual import load_manual
    from agent.export.measure import LedgerMeasurements
    from agent.export.model import build_report
    from agent.ledger import Ledger, LedgerError
    from agent.ledger_merge import MergedLedger
    from agent.schema import ConfigError

    paths = output_paths(output, formats, period.label, cwd)
    if source == "prometheus":  # the store at ``url`` (agent/export/from_store.py), not the ledger
        from agent.export.from_store import export_from_store

        return export_from_store(config, kind, period, paths, manual_path, lang, now, url or "", auth)
    zone = config.agent.zone
    try:
        layout = table12()
        manual = load_manual(manual_path, layout, zone) if manual_path else {}
    except ConfigError as exc:
        raise ManualFileError("\n".join(exc.problems)) from None
    ledgers: list[Ledger] = []
    try:
        for directory in data_dirs or [Path(config.agent.data_dir)]:
            ledger_path = directory / LEDGER_FILE
            if not ledger_path.is_file():
                raise ExportError(f"no ledger at {ledger_path} (has the agent run with this config? "
                                  "--data-dir reads another directory)")
            try:
                ledgers.append(Ledger(ledger_path))
            except LedgerError as exc:
                raise ExportError(str(exc).splitlines()[0]) from None
        reader = ledgers[0] if len(ledgers) == 1 else MergedLedger(ledgers)
        measurements = LedgerMeasurements(config, reader, now)
        report = build_report(layout, measurements, manual, period, kind, now, zone,
                              "en" if lang == "en" else "zh", charts=measurements.charts(period))
    finally:
        for ledger in ledgers:
            ledger.close()
    writers = _writers()
    written = []
    for fmt_name, path in paths.items():
        _write(path, writers[fmt_name](report))
        written.append(path)
    return written


def cmd_export(args: argparse.Namespace, now: float | None = None) -> int:
    # The export reads only the ledger and the catalogue: it must run where no secret is
    # available (the office that files the report), so ${ENV} / {file:} secrets stay unresolved.
    from agent.config import load_for_command

    now = time.time() if now is None else now
    try:
        if args.lang not in ("zh", "en"):
            raise ExportError(f"--lang {args.lang}: use zh or en")
        if args.format != "all" and args.format not in FORMATS:
            raise ExportError(f"--format {args.format}: use one of {', '.join(FORMATS)} or all")
        formats = list(FORMATS) if args.format == "all" else [args.format]
        from agent.export.from_store import options as store_options

        store = store_options(args)  # {} for the ledger
        config = load_for_command(args.config, secrets=False)
        if config is None:
            return EXIT_USAGE
        data_dirs = [Path(d) for d in getattr(args, "data_dir", None) or ()]
        kind, period = resolve_period(args, config.agent.zone, now)
        written = export(config, kind, period, formats, args.output, args.manual, args.lang, now,
                         data_dirs=data_dirs, **store)
    except ExportError as exc:
        print(str(exc) if isinstance(exc, ManualFileError) else f"sla-agent: {exc}", file=sys.stderr)
        return EXIT_USAGE
    for path in written:
        print(path)
    return 0
