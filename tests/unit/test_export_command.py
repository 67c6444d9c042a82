"""`sla-agent export`: files written, and every user mistake as one line on stderr with exit 2."""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest
import yaml

from agent.cli import build_parser
from agent.export.command import cmd_export
from agent.lab.sample_report import EXAMPLE_MANUAL, build_ledger, sample_config_data

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 27, 9, 30, tzinfo=SH).timestamp()


@pytest.fixture
def config_file(tmp_path):
    data = tmp_path / "data"
    build_ledger(data)
    path = tmp_path / "sla.yaml"
    path.write_text(yaml.safe_dump(sample_config_data(data), allow_unicode=True), encoding="utf-8")
    return path


def run(argv, now=NOW):
    args = build_parser().parse_args(["export", *argv])
    return cmd_export(args, now=now)


def test_default_is_every_format_for_the_last_complete_month_in_the_cwd(config_file, tmp_path, capsys, monkeypatch):
    out = tmp_path / "out"
    out.mkdir()
    monkeypatch.chdir(out)
    assert run(["-c", str(config_file), "--manual", str(EXAMPLE_MANUAL)]) == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == [f"sla-report-2026-10.{ext}" for ext in ("csv", "html", "json", "xlsx")]
    assert capsys.readouterr().out.splitlines() == [str(out / f"sla-report-2026-10.{e}") for e in ("xlsx", "csv", "json", "html")]
    wb = openpyxl.load_workbook(out / "sla-report-2026-10.xlsx")
    assert wb.active["A1"].value.startswith("深圳市大数据资源管理中心")


def test_one_format_to_a_named_file_and_other_periods(config_file, tmp_path):
    target = tmp_path / "r.json"
    assert run(["-c", str(config_file), "--quarter", "2026Q4", "--format", "json", "-o", str(target)]) == 0
    doc = json.loads(target.read_text(encoding="utf-8"))
    assert doc["period"]["label"] == "2026Q4" and doc["period"]["complete"] is False
    assert run(["-c", str(config_file), "--year", "2026", "-o", str(tmp_path / "y.xlsx")]) == 0
    assert sorted(p.name for p in tmp_path.glob("y.*")) == ["y.csv", "y.html", "y.json", "y.xlsx"]
    assert run(["-c", str(config_file), "--half", "2026H2", "--format", "csv", "-o", str(tmp_path)]) == 0
    assert (tmp_path / "sla-report-2026H2.csv").is_file()
    assert run(["-c", str(config_file), "--month", "2026-11", "--format", "html", "--lang", "en",
                "-o", str(tmp_path / "now.html")]) == 0  # the running month: figures to now
    assert "running: figures to 2026-11-27 09:30" in (tmp_path / "now.html").read_text(encoding="utf-8")


ALL_FILES = [f"sla-report-2026-10.{ext}" for ext in ("csv", "html", "json", "xlsx")]


def test_output_ending_in_a_slash_is_a_directory_created_if_needed(config_file, tmp_path, capsys):
    out = tmp_path / "reports" / "2026"
    assert run(["-c", str(config_file), "-o", f"{out}/"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ALL_FILES
    assert capsys.readouterr().out.splitlines() == [str(out / f"sla-report-2026-10.{e}") for e in ("xlsx", "csv", "json", "html")]
    assert not list(tmp_path.glob("reports/2026.*"))  # not files beside the directory
    one = tmp_path / "one"
    assert run(["-c", str(config_file), "--format", "json", "-o", f"{one}/"]) == 0  # not a file named "one"
    assert [p.name for p in one.iterdir()] == ["sla-report-2026-10.json"]
    assert run(["-c", str(config_file), "--format", "csv", "-o", str(one)]) == 0  # an existing directory, no slash
    assert sorted(p.name for p in one.iterdir()) == ["sla-report-2026-10.csv", "sla-report-2026-10.json"]


def test_output_directory_is_relative_to_the_cwd(config_file, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert run(["-c", str(config_file), "-o", "out/"]) == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ALL_FILES
    assert capsys.readouterr().out.splitlines()[0] == "out/sla-report-2026-10.xlsx"


def test_output_prefix_without_a_slash_stays_a_file_stem(config_file, tmp_path):
    (tmp_path / "out").mkdir()
    assert run(["-c", str(config_file), "-o", str(tmp_path / "out" / "r")]) == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["r.csv", "r.html", "r.json", "r.xlsx"]


def test_output_directory_that_cannot_be_created(config_file, tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert run(["-c", str(config_file), "-o", f"{blocker}/sub/"]) == 2
    captured = capsys.readouterr()
    assert captured.err == f"sla-agent: cannot create directory {blocker}/sub: {blocker} is not a directory\n"
    assert captured.out == ""


def test_output_directory_in_an_unwritable_directory(config_file, tmp_path, capsys, monkeypatch):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    monkeypatch.setattr(os, "access", lambda path, mode: Path(path) != locked)  # as for a user who is not root
    assert run(["-c", str(config_file), "-o", f"{locked}/new/"]) == 2
    assert capsys.readouterr().err == f"sla-agent: cannot create directory {locked}/new: permission denied in {locked}\n"
    assert not (locked / "new").exists()


def test_output_inside_a_directory_the_user_cannot_read(config_file, tmp_path, capsys, monkeypatch):
    """As for a user who is not root and may not look into ``private`` (mode 0700, another owner)."""
    private = tmp_path / "private"
    (private / "sub").mkdir(parents=True)
    stat = os.stat

    def denied_inside(path, *args, **kwargs):
        if str(path).startswith(f"{private}/"):
            raise PermissionError(13, "Permission denied", str(path))
        return stat(path, *args, **kwargs)

    monkeypatch.setattr(os, "stat", denied_inside)
    monkeypatch.setattr(os, "access", lambda path, mode: Path(path) != private)
    assert run(["-c", str(config_file), "-o", f"{private}/sub/"]) == 2
    assert capsys.readouterr().err == f"sla-agent: cannot create directory {private}/sub: permission denied in {private}\n"
    assert run(["-c", str(config_file), "--format", "csv", "-o", f"{private}/sub/r.csv"]) == 2
    assert capsys.readouterr().err == f"sla-agent: cannot write {private}/sub/r.csv: no directory {private}/sub\n"


def test_a_failed_export_creates_no_output_directory(config_file, tmp_path, capsys):
    out = tmp_path / "new"
    assert run(["-c", str(config_file), "--data-dir", str(tmp_path / "nothing"), "-o", f"{out}/"]) == 2
    assert capsys.readouterr().err.startswith("sla-agent: no ledger at")
    assert not out.exists()


@pytest.mark.parametrize("argv, message", [
    (["--month", "2026-13"], "sla-agent: --month: '2026-13' is not a month (use YYYY-MM, month 01-12)"),
    (["--month", "2026-10", "--year", "2026"], "sla-agent: give only one of --month, --quarter, --half, --year"),
    (["--format", "pdf"], "sla-agent: --format pdf: use one of xlsx, csv, json, html or all"),
    (["--month", "2026-12"], "sla-agent: --month 2026-12: that period has not started yet"),
    (["--year", "2027"], "sla-agent: --year 2027: that period has not started yet"),
    (["--lang", "fr"], "sla-agent: --lang fr: use zh or en"),
    (["-o", "/nonexistent/dir/r.xlsx", "--format", "xlsx"], "sla-agent: cannot write /nonexistent/dir/r.xlsx: no directory /nonexistent/dir"),
])
def test_user_mistakes_are_one_line_exit_2(config_file, capsys, argv, message):
    assert run(["-c", str(config_file), *argv]) == 2
    captured = capsys.readouterr()
    assert captured.err == message + "\n" and captured.out == ""


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_unwritable_output_directory(config_file, tmp_path, capsys):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    assert run(["-c", str(config_file), "-o", str(locked / "r.csv"), "--format", "csv"]) == 2
    assert capsys.readouterr().err.startswith(f"sla-agent: cannot write {locked / 'r.csv'}")


def test_output_that_is_a_file_path_inside_a_file(config_file, tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert run(["-c", str(config_file), "-o", str(blocker / "r.csv"), "--format", "csv"]) == 2
    assert capsys.readouterr().err == f"sla-agent: cannot write {blocker / 'r.csv'}: no directory {blocker}\n"


def test_bad_manual_file_lists_each_problem(config_file, tmp_path, capsys):
    manual = tmp_path / "m.yaml"
    manual.write_text("2026-10:\n  servers: many\n  nope: 1\n", encoding="utf-8")
    assert run(["-c", str(config_file), "--manual", str(manual), "-o", str(tmp_path)]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"{manual}: 2026-10.servers: expected a number, not 'many'",
        f"{manual}: 2026-10.nope: unknown indicator (see the ids in agent/export/table12.yaml)",
    ]
    assert not list(tmp_path.glob("sla-report-*"))


def test_missing_ledger_and_bad_config(tmp_path, capsys):
    path = tmp_path / "c.yaml"
    path.write_text(f"agent:\n  data_dir: {tmp_path / 'empty'}\n"
                    "snmp:\n  devices:\n    - {name: rt1, address: 192.0.2.1, community: c}\n", encoding="utf-8")
    assert run(["-c", str(path), "-o", str(tmp_path)]) == 2
    assert capsys.readouterr().err == f"sla-agent: no ledger at {tmp_path / 'empty' / 'ledger.sqlite'} (has the agent run with this config? --data-dir reads another directory)\n"
    assert not (tmp_path / "empty").exists()  # exporting never creates a ledger
    path.write_text("agent:\n  timezone: Mars/Olympus\n", encoding="utf-8")
    assert run(["-c", str(path)]) == 2
    assert capsys.readouterr().err.startswith(f"{path}: agent.timezone: unknown time zone")


def test_secrets_in_the_config_are_never_resolved(tmp_path, capsys, monkeypatch):
    """The office that files the report has the config but none of the agent's credentials."""
    data = tmp_path / "data"
    build_ledger(data)
    config = sample_config_data(data)
    config["snmp"]["devices"][0].update(version="v3", user="u", auth_protocol="sha", auth_key="${SLA_T_AUTH}",
                                        priv_protocol="aes", priv_key={"env": "SLA_T_PRIV"})
    config["snmp"]["devices"][0].pop("community")
    config["clouds"][0]["auth"]["secret"] = {"file": str(tmp_path / "no-such-secret")}
    for name in ("SLA_T_AUTH", "SLA_T_PRIV"):
        monkeypatch.delenv(name, raising=False)
    path = tmp_path / "sla.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    assert run(["-c", str(path), "--format", "json", "-o", str(tmp_path / "r.json")]) == 0, capsys.readouterr().err
    doc = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert {r["id"]: r["actual"] for r in doc["rows"]}["egress_link_availability"] == "99.97%"


def test_data_dir_option_reads_another_ledger(config_file, tmp_path, capsys):
    moved = tmp_path / "moved"
    (tmp_path / "data").rename(moved)
    assert run(["-c", str(config_file), "--format", "json", "-o", str(tmp_path / "r.json")]) == 2
    assert capsys.readouterr().err.startswith(f"sla-agent: no ledger at {tmp_path / 'data' / 'ledger.sqlite'}")
    assert run(["-c", str(config_file), "--data-dir", str(moved), "--format", "json",
                "-o", str(tmp_path / "r.json")]) == 0
    doc = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert {r["id"]: r["actual"] for r in doc["rows"]}["egress_link_availability"] == "99.97%"
    assert not (tmp_path / "data").exists()


def test_through_main_no_traceback(config_file, capsys):
    from agent.cli import main

    assert main(["export", "-c", str(config_file), "--month", "2026-13"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
