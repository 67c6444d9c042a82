"""A scan's report directory (collectors/scans/directory.py): the newest report, and every bad input's message."""

from __future__ import annotations

import errno
import json
import os
import shutil
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from collectors.base import CollectorError
from collectors.scans import directory as directory_module
from collectors.scans.directory import Listed, ReportDirectory, read_report

SH = ZoneInfo("Asia/Shanghai")
LIMIT = 64 * 1024


def ts(*args: int) -> float:
    return datetime(*args, tzinfo=SH).timestamp()


def zap(generated: str | None, medium: int = 0, high: int = 0) -> dict[str, Any]:
    alerts = ([{"pluginid": "10038", "alertRef": f"10038-{i}", "name": "CSP", "riskcode": "2", "count": "1"}
               for i in range(medium)]
              + [{"pluginid": "40012", "alertRef": f"40012-{i}", "name": "XSS", "riskcode": "3", "count": "1"}
                 for i in range(high)])
    report: dict[str, Any] = {"@version": "2.16.0", "site": [{"@name": "https://www.sz.gov.example", "alerts": alerts}]}
    if generated is not None:
        report["@generated"] = generated
    return report


def put(folder: Path, name: str, content: dict[str, Any] | bytes, mtime: float) -> Path:
    path = folder / name
    path.write_bytes(content if isinstance(content, bytes) else json.dumps(content).encode("utf-8"))
    os.utime(path, (mtime, mtime))
    return path


def scans(folder: Path, limit: int = LIMIT) -> ReportDirectory:
    return ReportDirectory("portal", folder, limit, SH)


async def failure(directory: ReportDirectory) -> str:
    with pytest.raises(CollectorError) as caught:
        await directory.newest()
    message = str(caught.value)
    assert "\n" not in message and "Traceback" not in message
    return message


async def test_the_newest_is_the_report_made_last_not_the_file_written_last(tmp_path):
    # A report of Nov 28 copied in on Dec 7 (newer file) and the Dec 6 report written on Dec 6.
    put(tmp_path, "copied.json", zap("Sat, 28 Nov 2026 10:15:00", medium=3), ts(2026, 12, 7))
    put(tmp_path, "latest.json", zap("Sun, 6 Dec 2026 10:15:00", medium=1), ts(2026, 12, 6, 10, 16))
    newest = await scans(tmp_path).newest()
    assert newest.path.name == "latest.json"
    assert newest.time == ts(2026, 12, 6, 10, 15)
    assert newest.report.findings == 1


async def test_a_report_without_a_date_is_dated_by_its_file(tmp_path):
    put(tmp_path, "dated.json", zap("Sun, 6 Dec 2026 10:15:00", medium=1), ts(2026, 12, 6, 10, 16))
    put(tmp_path, "undated.json", zap(None, high=2), ts(2026, 12, 6, 11))
    newest = await scans(tmp_path).newest()
    assert (newest.path.name, newest.time, newest.report.findings) == ("undated.json", ts(2026, 12, 6, 11), 2)
    # An undated file older than the dated report is just an older report.
    os.utime(tmp_path / "undated.json", (ts(2026, 12, 6, 9), ts(2026, 12, 6, 9)))
    assert (await scans(tmp_path).newest()).path.name == "dated.json"


async def test_two_reports_of_the_same_second_go_to_the_later_name(tmp_path):
    put(tmp_path, "zap-b.json", zap("Sun, 6 Dec 2026 10:15:00", medium=2), ts(2026, 12, 6))
    put(tmp_path, "zap-a.json", zap("Sun, 6 Dec 2026 10:15:00", medium=1), ts(2026, 12, 7))
    assert (await scans(tmp_path).newest()).path.name == "zap-b.json"


async def test_only_json_files_of_the_directory_itself_are_reports(tmp_path):
    put(tmp_path, "report.json", zap("Sun, 6 Dec 2026 10:15:00"), ts(2026, 12, 6))
    put(tmp_path, "REPORT2.JSON", zap("Sun, 6 Dec 2026 11:15:00", high=1), ts(2026, 12, 6))  # any case
    put(tmp_path, ".zap-report.json.partial", b"{", ts(2026, 12, 8))  # being written
    put(tmp_path, ".hidden.json", b"{", ts(2026, 12, 8))
    put(tmp_path, "report.html", b"<html>", ts(2026, 12, 8))
    (tmp_path / "archive.json").mkdir()
    os.symlink(tmp_path / "missing.json", tmp_path / "dangling.json")
    newest = await scans(tmp_path).newest()
    assert newest.path.name == "REPORT2.JSON"
    assert scans(tmp_path).rejected == {"malformed": 0, "shape": 0, "too_large": 0, "unreadable": 0}


async def test_a_bad_newest_report_fails_the_poll_and_never_falls_back(tmp_path):
    put(tmp_path, "good.json", zap("Sun, 6 Dec 2026 10:15:00", medium=1), ts(2026, 12, 6, 10, 16))
    bad = put(tmp_path, "truncated.json", b'{"@generated": "Mon, 7 Dec 2026 10:15:00", "site": [', ts(2026, 12, 7, 10, 16))
    directory = scans(tmp_path)
    # Unreadable, so dated by its file (Dec 7): newer than the good report of Dec 6.
    assert await failure(directory) == (
        f"{bad}: malformed or truncated JSON (Expecting value: line 1 column 53 (char 52))")
    assert directory.rejected["malformed"] == 1
    await failure(directory)
    assert directory.rejected["malformed"] == 1  # the same file: counted once


async def test_bad_older_files_are_left_out_and_counted_once_per_version(tmp_path):
    put(tmp_path, "old-shape.json", zap("Sat, 28 Nov 2026 10:15:00") | {"site": {}}, ts(2026, 11, 28))
    put(tmp_path, "old-cut.json", b'{"site": [', ts(2026, 11, 29))
    put(tmp_path, "old-big.json", b" " * (LIMIT + 1), ts(2026, 11, 30))
    put(tmp_path, "new.json", zap("Sun, 6 Dec 2026 10:15:00", medium=2, high=1), ts(2026, 12, 6, 10, 16))
    directory = scans(tmp_path)
    newest = await directory.newest()
    assert newest.path.name == "new.json" and newest.report.findings == 3
    assert directory.rejected == {"malformed": 1, "shape": 1, "too_large": 1, "unreadable": 0}
    await directory.newest()
    assert directory.rejected == {"malformed": 1, "shape": 1, "too_large": 1, "unreadable": 0}
    put(tmp_path, "old-cut.json", b'{"site": [{', ts(2026, 11, 29, 1))  # rewritten: a new version
    await directory.newest()
    assert directory.rejected["malformed"] == 2


async def test_an_oversize_newest_report_names_the_limit(tmp_path):
    put(tmp_path, "old.json", zap("Sat, 28 Nov 2026 10:15:00"), ts(2026, 11, 28))
    big = put(tmp_path, "huge.json", b"{" + b" " * 70_000 + b"}", ts(2026, 12, 6))
    assert await failure(scans(tmp_path)) == f"{big}: 70002 bytes is larger than the max_report_bytes limit of 64 KiB"


def test_a_file_that_grew_past_the_limit_after_the_listing_is_refused_unread_beyond_it(tmp_path):
    path = put(tmp_path, "growing.json", b" " * (LIMIT + 10), ts(2026, 12, 6))
    listed = Listed(path, 100, ts(2026, 12, 6), (0, 100, 0))  # as listed, before it grew
    with pytest.raises(directory_module.ReportProblem) as caught:
        read_report(listed, LIMIT, SH)
    assert (caught.value.reason, caught.value.problem) == (
        "too_large", "the file is larger than the max_report_bytes limit of 64 KiB")


def test_a_file_removed_after_the_listing_is_no_report(tmp_path):
    assert read_report(Listed(tmp_path / "gone.json", 10, 0.0, (0, 10, 0)), LIMIT, SH) is None


async def test_unreadable_files_are_retried_and_counted_once(tmp_path, monkeypatch):
    good = put(tmp_path, "good.json", zap("Sun, 6 Dec 2026 10:15:00"), ts(2026, 12, 6, 10, 16))
    locked = put(tmp_path, "locked.json", zap("Sun, 6 Dec 2026 11:15:00", high=1), ts(2026, 12, 6, 11, 16))
    opened: list[str] = []
    real_open = open

    def fake_open(path: Any, *args: Any, **kwargs: Any) -> Any:  # as a non-root agent meets a 0600 file
        opened.append(Path(path).name)
        if Path(path).name == "locked.json" and "locked" in allowed:
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    allowed = {"locked"}
    monkeypatch.setattr(directory_module, "open", fake_open, raising=False)
    directory = scans(tmp_path)
    # Unreadable, so dated by its file: 11:16, newer than the good report.
    assert await failure(directory) == f"{locked}: cannot read the file (Permission denied)"
    assert await failure(directory) == f"{locked}: cannot read the file (Permission denied)"
    assert directory.rejected["unreadable"] == 1
    assert opened.count("good.json") == 1  # a known version is not read again; the unreadable one is
    assert opened.count("locked.json") == 2
    allowed.clear()  # permissions fixed: the same version is read now
    newest = await directory.newest()
    assert newest.path == locked and newest.report.findings == 1
    assert good.exists()


async def test_an_empty_directory_is_no_report_yet_not_zero(tmp_path):
    put(tmp_path, "notes.txt", b"scan job not run yet", ts(2026, 12, 6))
    assert await failure(scans(tmp_path)) == f"{tmp_path}: no report yet (no *.json file)"


async def test_a_report_removed_leaves_the_older_one_newest(tmp_path):
    put(tmp_path, "a.json", zap("Sat, 28 Nov 2026 10:15:00", medium=1), ts(2026, 11, 28))
    put(tmp_path, "b.json", zap("Sun, 6 Dec 2026 10:15:00", medium=2), ts(2026, 12, 6))
    directory = scans(tmp_path)
    assert (await directory.newest()).report.findings == 2
    (tmp_path / "b.json").unlink()  # the operator withdrew a report made in error
    assert (await directory.newest()).report.findings == 1


async def test_a_directory_that_cannot_be_listed(tmp_path, monkeypatch):
    assert await failure(scans(tmp_path / "missing")) == f"{tmp_path / 'missing'}: no such directory"
    plain = put(tmp_path, "file.json", zap(None), ts(2026, 12, 6))
    assert await failure(scans(plain)) == f"{plain}: not a directory"

    def denied(path: Any) -> Any:  # the agent runs as root here, where chmod 000 denies nothing
        raise PermissionError(errno.EACCES, "Permission denied", str(path))

    monkeypatch.setattr(directory_module.os, "scandir", denied)
    assert await failure(scans(tmp_path)) == f"{tmp_path}: cannot list the directory (Permission denied)"


async def test_the_bundled_report_through_a_directory(tmp_path):
    source = resources.files("agent.lab").joinpath("data/scans/zap-mixed-2026-11-28.json")
    with resources.as_file(source) as path:
        shutil.copy(path, tmp_path / "zap.json")
    newest = await scans(tmp_path, 32 * 2**20).newest()
    assert newest.report.alerts == (3, 4, 3, 1) and newest.time == pytest.approx(ts(2026, 11, 28, 10, 15, 0) + 0.4129031)
