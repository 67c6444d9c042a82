"""Benchmark: how many delivery records per second the SMS collector ingests on one core.

    python bench/bench_sms.py [--records 200000] [--page 1000] [--http]

Records come from the lab's traffic model (agent/lab/sms.py: pending and
final records, duplicates, out-of-order, long-tail latencies), serialised as
feed pages. Measured, each in the same run:

* baseline: ``json.loads`` of the same pages (the least any consumer must do);
* ingest: the collector's own path per page - parse and validate, dedup
  against the ledger, aggregate, and commit records + cursor in one SQLite
  transaction (collectors.sms.records.parse_page + SmsStore.ingest);
* with ``--http``: the whole collector polling the lab gateway over HTTP on
  127.0.0.1 (aiohttp client and server in this one process).

Peak Python memory is measured with tracemalloc in a separate pass (it slows
what it watches); max RSS includes SQLite's page cache. Not a test: no
thresholds, the figures are for the README and for spotting regressions.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agent.lab.sms import SmsLab, Traffic  # noqa: E402
from agent.ledger import Ledger  # noqa: E402
from collectors.sms.records import parse_page  # noqa: E402
from collectors.sms.store import Policy, SmsStore  # noqa: E402

START = 1_790_000_000.0
POLICY = Policy(grace_ms=72 * 3_600_000, margin_ms=3_600_000, max_codes=20)


def make_entries(records: int, rate: float = 2000.0) -> tuple[list[str], float]:
    """``records`` feed entries (JSON text) of traffic at ``rate`` messages/s, and the end time."""
    lab = SmsLab(traffic=Traffic(rate=rate, duplicates=0.01, out_of_order=0.02, seed=7), autorun=False,
                 retention=4 * records)
    now = START
    while lab.size < records:
        now += 1.0
        lab.advance(now)
    now += 60.0
    lab.advance(now)
    return lab.entries()[:records], now


def make_pages(entries: list[str], page: int) -> list[bytes]:
    pages = []
    for i in range(0, len(entries), page):
        chunk = entries[i:i + page]
        more = "true" if i + page < len(entries) else "false"
        body = (f'{{"epoch":"bench","records":[{",".join(chunk)}],'
                f'"next_cursor":"bench.{i + len(chunk) - 1}","has_more":{more}}}')
        pages.append(body.encode())
    return pages


def baseline(pages: list[bytes]) -> float:
    started = time.perf_counter()
    for body in pages:
        json.loads(body)
    return time.perf_counter() - started


def ingest(pages: list[bytes], now: float, directory: Path) -> tuple[float, dict[str, float], int]:
    ledger = Ledger(directory / "ledger.sqlite")
    store = SmsStore(ledger, {"gw": POLICY})
    now_ms = int(now * 1000)
    started = time.perf_counter()
    for body in pages:
        page = parse_page(body, now_ms)
        times = [r.event_ms for r in page.records]
        feed_time = min(max(times), now_ms) if page.has_more and times else now_ms
        store.ingest("gw", page.records, now, skipped=page.skipped, cursor=page.next_cursor, epoch=page.epoch,
                     feed_time_ms=feed_time)
    elapsed = time.perf_counter() - started
    totals = store.snapshot("gw").totals
    rows = ledger.read(lambda db: db.execute("SELECT COUNT(*) FROM sms_messages").fetchone()[0])
    ledger.close()
    return elapsed, totals, rows


async def over_http(entries: list[str], now: float, directory: Path, page: int) -> float:
    from collectors.sms.collector import SmsCollector
    from collectors.sms.config import SmsGateway

    async with SmsLab(traffic=None, clock=lambda: now, max_limit=page) as lab:
        lab.publish([json.loads(text) for text in entries], at_ms=int(now * 1000))
        ledger = Ledger(directory / "http.sqlite")
        gateway = SmsGateway.model_validate(lab.gateway_config(
            "gw", interval="600s", timeout="590s", page_size=page, max_pages=100_000, backfill="1d"))
        collector = SmsCollector([gateway], ledger, clock=lambda: now)
        started = time.perf_counter()
        await collector.poll(collector.targets()[0])
        elapsed = time.perf_counter() - started
        await collector.close()
        ledger.close()
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--page", type=int, default=1000, help="records per feed page (default %(default)s)")
    parser.add_argument("--http", action="store_true", help="also time the whole collector over HTTP")
    args = parser.parse_args(argv)

    entries, now = make_entries(args.records)
    pages = make_pages(entries, args.page)
    n = len(entries)
    pending = sum('"status":"pending"' in e for e in entries)
    print(f"{n} records ({pending} pending, "
          f"the rest final, duplicates and out-of-order included) in {len(pages)} pages of {args.page}")

    base = baseline(pages)
    with tempfile.TemporaryDirectory() as tmp:
        elapsed, totals, rows = ingest(pages, now, Path(tmp))
        size = (Path(tmp) / "ledger.sqlite").stat().st_size
    print(f"baseline json.loads        {n / base:>10,.0f} records/s")
    print(f"parse+dedup+aggregate+commit {n / elapsed:>8,.0f} records/s  ({elapsed:.2f} s, "
          f"{base / elapsed:.1%} of the baseline's speed, {elapsed / base:.1f}x its time)")
    print(f"  counted: {totals.get('submitted', 0):,.0f} messages, {totals.get('delivered', 0):,.0f} delivered, "
          f"{totals.get('skipped:duplicate', 0):,.0f} duplicates dropped; {rows:,} message rows kept; "
          f"ledger {size / 2**20:.1f} MiB")

    with tempfile.TemporaryDirectory() as tmp:
        tracemalloc.start()
        ingest(pages, now, Path(tmp))
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    print(f"peak Python memory during ingest {peak / 2**20:.1f} MiB (pages held in memory by the benchmark "
          f"not included); max RSS of the process {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")

    if args.http:
        with tempfile.TemporaryDirectory() as tmp:
            took = asyncio.run(over_http(entries, now, Path(tmp), args.page))
        print(f"whole collector over HTTP    {n / took:>8,.0f} records/s  ({took:.2f} s, lab server in-process)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
