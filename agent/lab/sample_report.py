"""A sample report from a synthetic ledger: ``python -m agent.lab.sample_report``.

October 2026 in Asia/Shanghai, hand-made: an egress outage across the
month's end (23:50 on the 31st to 00:20 on 1 November), another of 26 minutes,
a link down inside the monthly maintenance window (excluded), two hours with
no data, a mobile-office link down 16 hours (the month misses ≥99%), a
cloud storage pool offline for two days, and 6200 SMS messages through one
gateway (a few failed or expired, about 1 % slower than 10 s, a slow burst
during the egress outage of the 12th). The SMS yearly total stays a manual
row: a sample cannot hold 170 million messages. Writes the four formats and, when
Chromium is installed, a screenshot of the HTML (docs/export-sample.png).
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import tempfile
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from collectors.snmp import series
from agent.config import Config, parse_config
from agent.ledger import Ledger
from collectors.cloud.series import cloud as cloud_series
from collectors.sms.collector import policy_of
from collectors.sms import coverage_table
from collectors.sms.records import DELIVERED, EXPIRED, FAILED, Record
from collectors.sms.store import SmsStore

SH = ZoneInfo("Asia/Shanghai")
GBIT = 1e9 / 8
GIB, TIB = 2.0**30, 2.0**40
SAMPLE_NOW = datetime(2026, 11, 27, 9, 30, tzinfo=SH).timestamp()
EXAMPLE_MANUAL = Path(__file__).resolve().parents[2] / "examples" / "manual-2026.yaml"


def ts(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> float:
    return datetime(year, month, day, hour, minute, tzinfo=SH).timestamp()


def sample_config(data_dir: Path) -> Config:
    """The center's KPIs on two egress groups and one cloud, with the monthly egress maintenance window."""
    return parse_config(sample_config_data(data_dir), "sample.yaml")


def sample_config_data(data_dir: Path) -> dict:
    """The sample config as YAML data (tests write it to a file for the CLI)."""
    return {
        "agent": {"data_dir": str(data_dir), "timezone": "Asia/Shanghai"},
        "snmp": {"devices": [{"name": "egress-r1", "address": "127.0.0.1", "community": "x"},
                             {"name": "mobile-r1", "address": "127.0.0.1", "community": "x"}]},
        "link_groups": [
            {"name": "internet_egress", "description": "政务外网统一互联网出口", "links": [
                {"name": "egress-ct", "device": "egress-r1", "if_name": "ct", "capacity": "10G"},
                {"name": "egress-cu", "device": "egress-r1", "if_name": "cu", "capacity": "10G"},
                {"name": "egress-cm", "device": "egress-r1", "if_name": "cm", "capacity": "10G"}]},
            {"name": "mobile_office", "description": "政务外网移动办公出口", "links": [
                {"name": "mobile-ct", "device": "mobile-r1", "if_name": "ct", "capacity": "1G"},
                {"name": "mobile-cu", "device": "mobile-r1", "if_name": "cu", "capacity": "1G"}]},
        ],
        "clouds": [{"type": "openstack", "name": "gov-cloud", "auth_url": "http://127.0.0.1:1/v3",
                    "regions": ["shenzhen-1", "shenzhen-2"],
                    "auth": {"type": "application_credential", "id": "x", "secret": "x"}}],
        "sms": [{"name": "gov-sms", "url": "http://127.0.0.1:1/sms", "api_key": "x"}],
        "kpis": [
            {"id": "egress_bandwidth", "link_group": "internet_egress"},
            {"id": "egress_link_availability", "link_group": "internet_egress"},
            {"id": "mobile_office_link_availability", "link_group": "mobile_office"},
            {"id": "cloud_vcpu_capacity"}, {"id": "cloud_memory_capacity"}, {"id": "cloud_storage_capacity"},
            {"id": "sms_delivery_rate"}, {"id": "sms_send_latency"},
        ],
        "maintenance": [{"name": "monthly egress maintenance", "link_groups": ["internet_egress"],
                         "rrule": "FREQ=MONTHLY;BYDAY=1SU", "dtstart": "2026-01-04T02:00:00", "duration": "2h",
                         "timezone": "Asia/Shanghai"}],
    }


def _link(ledger: Ledger, link: str, capacity: float, states: list[tuple[float, float, float | None]]) -> None:
    """Write a link's up/down states and the matching available-capacity series."""
    for start, end, up in states:
        available = None if up is None else capacity * up
        ledger.record([(series.link_up(link), up, start, end - start),
                       (series.link_available(link), available, start, end - start)])


def sms_records(begin: float, days: int) -> list[Record]:
    """200 messages a day, latencies log-normal around 2.5 s, with a slow burst at 14:05-14:31 on the 12th."""
    rng = random.Random(2026)  # the same sample every time
    burst = (ts(2026, 10, 12, 14, 5), ts(2026, 10, 12, 14, 31))
    records: list[Record] = []
    for i in range(200 * days):
        submitted = begin + i * 432.0 + rng.uniform(0, 400)  # 86400 / 200 s apart
        at = int(submitted * 1000)
        draw = rng.random()
        if draw < 0.003:
            records.append(Record(f"m{i}", FAILED, at, at + 4000, rng.choice(["UNDELIV", "REJECTD"])))
        elif draw < 0.004:
            records.append(Record(f"m{i}", EXPIRED, at, at + 48 * 3600_000, "EXPIRED"))
        else:
            seconds = math.exp(rng.gauss(math.log(2.5), 0.6))
            if burst[0] <= submitted < burst[1]:
                seconds = rng.uniform(15, 60)
            records.append(Record(f"m{i}", DELIVERED, at, at + max(1, int(seconds * 1000)), None))
    return records


def build_ledger(data_dir: Path) -> Config:
    """Write the synthetic October 2026 (and the first days of November) into ``data_dir``."""
    config = sample_config(data_dir)
    ledger = Ledger(data_dir / "ledger.sqlite")
    begin, end = ts(2026, 10, 1), ts(2026, 11, 3)
    gap = (ts(2026, 10, 20, 3), ts(2026, 10, 20, 5))  # the agent host rebooted: nobody saw anything
    try:
        _link(ledger, "egress-ct", 10 * GBIT, [
            (begin, gap[0], 1.0), (gap[0], gap[1], None), (gap[1], ts(2026, 10, 31, 23, 50), 1.0),
            (ts(2026, 10, 31, 23, 50), ts(2026, 11, 1, 0, 20), 0.0), (ts(2026, 11, 1, 0, 20), end, 1.0)])
        _link(ledger, "egress-cu", 10 * GBIT, [
            (begin, ts(2026, 10, 12, 14, 5), 1.0), (ts(2026, 10, 12, 14, 5), ts(2026, 10, 12, 14, 31), 0.0),
            (ts(2026, 10, 12, 14, 31), gap[0], 1.0), (gap[0], gap[1], None), (gap[1], end, 1.0)])
        # Down 02:10-03:40 on Sunday 4 October: inside the 02:00-04:00 maintenance window.
        _link(ledger, "egress-cm", 10 * GBIT, [
            (begin, ts(2026, 10, 4, 2, 10), 1.0), (ts(2026, 10, 4, 2, 10), ts(2026, 10, 4, 3, 40), 0.0),
            (ts(2026, 10, 4, 3, 40), gap[0], 1.0), (gap[0], gap[1], None), (gap[1], end, 1.0)])
        _link(ledger, "mobile-ct", GBIT, [(begin, gap[0], 1.0), (gap[0], gap[1], None), (gap[1], end, 1.0)])
        _link(ledger, "mobile-cu", GBIT, [
            (begin, ts(2026, 10, 8, 9), 1.0), (ts(2026, 10, 8, 9), ts(2026, 10, 8, 9, 45), 0.0),
            (ts(2026, 10, 8, 9, 45), gap[0], 1.0), (gap[0], gap[1], None),
            (gap[1], ts(2026, 10, 22, 6), 1.0), (ts(2026, 10, 22, 6), ts(2026, 10, 22, 22), 0.0),
            (ts(2026, 10, 22, 22), end, 1.0)])
        regions = {"shenzhen-1": (9600, 41287680 / 1024 * GIB, 2280 * TIB),
                   "shenzhen-2": (7744, 63438848 / 1024 * GIB, 1900 * TIB)}
        for region, (vcpu, memory, storage) in regions.items():
            for resource, value in (("vcpu", vcpu), ("memory", memory)):
                name = cloud_series("gov-cloud", region, resource, "capacity")
                ledger.record([(name, value, begin, gap[0] - begin), (name, None, gap[0], gap[1] - gap[0]),
                               (name, value, gap[1], end - gap[1])])
            name = cloud_series("gov-cloud", region, "storage", "capacity")
            if region == "shenzhen-2":  # a 400 TiB pool offline for two days: the sum drops below 4000 TiB
                dip = (ts(2026, 10, 15), ts(2026, 10, 17))
                ledger.record([(name, storage, begin, dip[0] - begin),
                               (name, storage - 400 * TIB, dip[0], dip[1] - dip[0]),
                               (name, storage, dip[1], gap[0] - dip[1]), (name, None, gap[0], gap[1] - gap[0]),
                               (name, storage, gap[1], end - gap[1])])
            else:
                ledger.record([(name, storage, begin, gap[0] - begin), (name, None, gap[0], gap[1] - gap[0]),
                               (name, storage, gap[1], end - gap[1])])
        # October's SMS messages as the store keeps them. The feed is read from its cursor, so the
        # reboot was caught up afterwards: the feed is known complete all month (the links are not).
        store = SmsStore(ledger, {g.name: policy_of(g) for g in config.sms})
        store.ingest("gov-sms", sms_records(begin, 31), SAMPLE_NOW)
        read = (int(begin * 1000), int(SAMPLE_NOW * 1000))
        ledger.write(lambda db: coverage_table.add_span(db, "gov-sms", read))
    finally:
        ledger.close()
    return config


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m agent.lab.sample_report", description=__doc__.splitlines()[0])
    parser.add_argument("--out", help="directory for the four files (default: a temporary directory)")
    parser.add_argument("--screenshot", default="docs/export-sample.png", help="PNG of the HTML (default %(default)s)")
    parser.add_argument("--lang", default="zh", choices=["zh", "en"])
    args = parser.parse_args(argv)
    from agent.export import browser
    from agent.export.command import FORMATS, export
    from agent.periods import parse

    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="sla-sample-"))
    out.mkdir(parents=True, exist_ok=True)
    config = build_ledger(out / "data")
    manual = str(EXAMPLE_MANUAL) if EXAMPLE_MANUAL.is_file() else None
    written = export(config, "month", parse("month", "2026-10", SH), FORMATS, str(out), manual, args.lang,
                     SAMPLE_NOW)
    for path in written:
        print(path)
    if args.screenshot and browser.available():
        html = next(p for p in written if p.suffix == ".html")
        png = browser.screenshot(html, Path(args.screenshot), height=3700)
        print(png)
    return 0


if __name__ == "__main__":
    sys.exit(main())
