"""Several shards' ledgers read as one: the merged report equals the report of one ledger holding it all."""

from __future__ import annotations

import json
import shutil
import sqlite3
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

from agent.cli import build_parser
from agent.export.command import cmd_export
from agent.lab.sample_report import build_ledger, sample_config_data

NOW = datetime(2026, 11, 27, 9, 30, tzinfo=ZoneInfo("Asia/Shanghai")).timestamp()
SMS_TABLES = ("sms_covered", "sms_run", "sms_messages", "sms_buckets", "sms_latency", "sms_errors", "sms_totals",
              "sms_feed")


def _keep_only(ledger: Path, keep: str, sms: bool) -> None:
    """Delete every series whose name does not match the LIKE pattern ``keep``, and the SMS records unless ``sms``."""
    db = sqlite3.connect(ledger)
    with db:
        db.execute("DELETE FROM segments WHERE series_id IN (SELECT id FROM series WHERE name NOT LIKE ?)", (keep,))
        db.execute("DELETE FROM series WHERE name NOT LIKE ?", (keep,))
        if not sms:
            for table in SMS_TABLES:
                db.execute(f"DELETE FROM {table}")
    db.close()


def _report(config: Path, out: Path, *dirs: Path) -> dict[str, dict]:
    argv = ["export", "-c", str(config), "--month", "2026-10", "--format", "json", "-o", str(out)]
    for directory in dirs:
        argv += ["--data-dir", str(directory)]
    assert cmd_export(build_parser().parse_args(argv), now=NOW) == 0
    rows = json.loads(out.read_text(encoding="utf-8"))["rows"]
    return {row["id"]: row for row in rows if row.get("id")}


def test_two_shards_ledgers_give_the_report_of_the_whole_fleet(tmp_path):
    whole = tmp_path / "whole"
    build_ledger(whole)
    config = tmp_path / "sla.yaml"
    config.write_text(yaml.safe_dump(sample_config_data(whole), allow_unicode=True), encoding="utf-8")
    # Shard 0 polled the egress links and the SMS gateway; shard 1 the mobile links and the cloud.
    shard0, shard1 = tmp_path / "s0", tmp_path / "s1"
    for directory in (shard0, shard1):
        shutil.copytree(whole, directory)
    _keep_only(shard0 / "ledger.sqlite", "link:egress-%", sms=True)
    _keep_only(shard1 / "ledger.sqlite", "%mobile-%", sms=False)
    db = sqlite3.connect(shard1 / "ledger.sqlite")  # and the cloud: put its series back from the whole ledger
    db.execute("ATTACH ? AS w", (str(whole / "ledger.sqlite"),))
    with db:
        db.execute("INSERT INTO series SELECT * FROM w.series WHERE name LIKE 'cloud:%'")
        db.execute("INSERT INTO segments SELECT * FROM w.segments WHERE series_id IN "
                   "(SELECT id FROM w.series WHERE name LIKE 'cloud:%')")
    db.close()

    expected = _report(config, tmp_path / "whole.json", whole)
    merged = _report(config, tmp_path / "merged.json", shard0, shard1)
    measured = [i for i, row in expected.items() if row.get("coverage") not in (None, "", "—")]
    assert {"egress_link_availability", "mobile_office_link_availability", "cloud_vcpu_capacity",
            "sms_delivery_rate", "sms_send_latency"} <= set(measured)
    for kpi in measured:
        assert merged[kpi] == expected[kpi], kpi
    # One shard alone is not the fleet: its report misses the other's links.
    alone = _report(config, tmp_path / "alone.json", shard0)
    assert alone["mobile_office_link_availability"] != expected["mobile_office_link_availability"]
    assert alone["sms_delivery_rate"] == expected["sms_delivery_rate"]


def test_having_over_merged_ledgers_is_the_union(tmp_path):
    from agent.ledger import Ledger
    from agent.ledger_merge import MergedLedger

    first, second = Ledger(tmp_path / "a.sqlite"), Ledger(tmp_path / "b.sqlite")
    first.record([("link:a:up", 0.0, 0.0, 10.0), ("link:b:up", 1.0, 0.0, 10.0)])
    second.record([("link:c:up", 0.0, 5.0, 10.0), ("power:u:fault", 1.0, 0.0, 10.0)])
    merged = MergedLedger([first, second])
    names = ["link:a:up", "link:b:up", "link:c:up", "link:gone:up"]
    assert merged.having(names, 0.0, 20.0, below=0.5) == {"link:a:up", "link:c:up"}
    assert merged.having(["power:u:fault"], 0.0, 20.0, at_least=0.5) == {"power:u:fault"}
    merged.close()
