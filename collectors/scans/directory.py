"""A scan's report directory: which files are reports, which one is the newest, and what it says.

Reports are the directory's ``*.json`` files (not its subdirectories, nor
hidden files): a scanner should write each report under another name and
rename it into place, so a half-written file is never read as a report. The
newest report is the one made last: by its own time (``created`` /
``@generated``, collectors/scans/report.py), or, for one that gives none or
cannot be read, its file's modification time; ties go to the later file
name. It is the scan's current state, good or bad: a newest report that
cannot be used fails the poll rather than let an older one stand in for it,
which would hide the newest scan's findings. Older files that cannot be used
are left out, and counted once per version of the file (its size and
modification time).

Each version of a file is read and parsed once (in the parsing threads) and
only its counts are kept, so a poll costs a directory listing once the
reports are known.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable
from zoneinfo import ZoneInfo

from collectors.base import CollectorError
from collectors.http import size_text
from collectors.parsing import off_loop
from collectors.scans.report import REASONS, Report, ReportProblem, parse_report

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Listed:
    """A report file as the listing saw it; ``version`` changes when the file is rewritten."""

    path: Path
    size: int
    mtime: float
    version: tuple[int, int, int]  # inode, size, mtime in ns


@dataclass(frozen=True, slots=True)
class Newest:
    """The newest report of a directory and when it was made (its own time, else its file's)."""

    path: Path
    time: float
    report: Report


def _reason(exc: OSError) -> str:
    # The errno's text ("Permission denied"); str(exc) would repeat the path.
    return os.strerror(exc.errno) if exc.errno else type(exc).__name__


def _cannot(directory: Path, exc: OSError) -> CollectorError:
    if isinstance(exc, FileNotFoundError):
        return CollectorError(f"{directory}: no such directory")
    if isinstance(exc, NotADirectoryError):
        return CollectorError(f"{directory}: not a directory")
    return CollectorError(f"{directory}: cannot list the directory ({_reason(exc)})")


def list_reports(directory: Path) -> list[Listed]:
    """The directory's report files; CollectorError naming it when it cannot be listed."""
    found: list[Listed] = []
    try:
        with os.scandir(directory) as entries:
            for entry in entries:
                if entry.name.startswith(".") or not entry.name.lower().endswith(".json"):
                    continue
                try:
                    if not entry.is_file():  # follows links: a linked report is a report
                        continue
                    stat = entry.stat()
                except OSError:
                    continue  # gone since the listing, or a dangling link: not a report
                found.append(Listed(Path(entry.path), stat.st_size, stat.st_mtime,
                                    (stat.st_ino, stat.st_size, stat.st_mtime_ns)))
    except OSError as exc:
        raise _cannot(directory, exc) from None
    return found


def read_report(listed: Listed, limit: int, zone: ZoneInfo) -> Report | None:
    """One report file's counts; ReportProblem when it cannot be used; None when it is gone."""
    too_large = f"{{}} is larger than the max_report_bytes limit of {size_text(limit)}"
    if listed.size > limit:
        raise ReportProblem("too_large", too_large.format(f"{listed.size} bytes"))
    try:
        with open(listed.path, "rb") as handle:
            body = handle.read(limit + 1)  # no more than the limit, even if the file grew since the listing
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ReportProblem("unreadable", f"cannot read the file ({_reason(exc)})") from None
    if len(body) > limit:
        raise ReportProblem("too_large", too_large.format("the file"))
    return parse_report(body, zone)


Outcome = Report | ReportProblem


class ReportDirectory:
    """One scan's directory, its reports known by version, and the rejections counted."""

    def __init__(self, scan: str, directory: Path, limit: int, zone: ZoneInfo) -> None:
        self.scan = scan
        self.directory = directory
        self.limit = limit
        self.zone = zone
        self._known: dict[Path, tuple[tuple[int, int, int], Outcome]] = {}
        self.rejected: dict[str, int] = {reason: 0 for reason in REASONS}  # file versions since the start

    def _learn(self, listed: Listed, outcome: Outcome) -> None:
        before = self._known.get(listed.path)
        self._known[listed.path] = (listed.version, outcome)
        if not isinstance(outcome, ReportProblem):
            return
        if before is not None and before[0] == listed.version and isinstance(before[1], ReportProblem):
            return  # the same version retried (unreadable): counted once
        self.rejected[outcome.reason] += 1
        log.warning("scan %s: report %s is not used: %s", self.scan, listed.path, outcome.problem)

    def _forget_all_but(self, paths: Iterable[Path]) -> None:
        keep = set(paths)
        for path in [p for p in self._known if p not in keep]:
            del self._known[path]

    async def newest(self) -> Newest:
        """List, read what is new, and return the newest report; CollectorError if there is none or it is bad."""
        listing = await off_loop(list_reports, self.directory)
        present: list[tuple[Listed, Outcome]] = []
        for listed in listing:
            known = self._known.get(listed.path)
            # Known versions are not read again, but for an unreadable one: permissions change, mtimes do not.
            if known is not None and known[0] == listed.version and not _unreadable(known[1]):
                present.append((listed, known[1]))
                continue
            try:
                outcome: Outcome | None = await off_loop(read_report, listed, self.limit, self.zone)
            except ReportProblem as problem:
                outcome = problem
            if outcome is None:
                continue  # removed since the listing
            self._learn(listed, outcome)
            present.append((listed, outcome))
        self._forget_all_but(listed.path for listed, _ in present)
        if not present:
            raise CollectorError(f"{self.directory}: no report yet (no *.json file)")
        listed, outcome = max(present, key=lambda item: (_made(*item), item[0].path.name))
        if isinstance(outcome, ReportProblem):
            raise CollectorError(f"{listed.path}: {outcome.problem}")
        return Newest(listed.path, _made(listed, outcome), outcome)


def _unreadable(outcome: Outcome) -> bool:
    return isinstance(outcome, ReportProblem) and outcome.reason == "unreadable"


def _made(listed: Listed, outcome: Outcome) -> float:
    """When a file's report was made: its own time, else (none given, or unreadable) the file's."""
    if isinstance(outcome, Report) and outcome.time is not None:
        return outcome.time
    return listed.mtime


__all__ = ["Listed", "Newest", "ReportDirectory", "list_reports", "read_report"]
