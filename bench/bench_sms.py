"""Benchmark: how many delivery records per second the SMS collector ingests on one core.

    python bench/bench_sms.py [--records 200000] [--page 1000] [--soak-records 100000]
                              [--soak-hours 219] [--http]

Records come from the lab's traffic model (agent/lab/sms.py: pending and
final records, duplicates, out-of-order, long-tail latencies), serialised as
feed pages: every entry kept (nothing trimmed) from a minute into the stream,
so the record mix - about half pending, half final - is the same at any
--records. The
process is pinned to one CPU (os.sched_setaffinity, where the platform has
it): the requirement is 2,000 delivery records/s on one core. Measured, each
in the same run:

* baseline: ``json.loads`` of the same pages (the least any consumer must do);
* ingest: the collector's own path per page - parse and validate, dedup
  against the ledger, aggregate, and commit records + cursor in one SQLite
  transaction (collectors.sms.records.parse_page + SmsStore.ingest);
* drain: the feed time then moves on past grace + margin with no new
  records, so every pending message expires (no_report) and every message
  row is purged: the ledger's row count at the end is 0;
* soak: ``--soak-records`` records of traffic spread over ``--soak-hours``
  of feed time (default 3 x (grace + margin)), read as a backlog, so expiry
  and purging run all along: the message rows stay near what grace + margin
  of traffic holds instead of growing with the feed;
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
import os
import resource
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agent.lab.sms import SmsLab, Traffic  # noqa: E402
from agent.ledger import Ledger  # noqa: E402
from collectors.sms.records import parse_page  # noqa: E402
from collectors.sms.store import Policy, SmsStore  # noqa: E402

START = 1_790_000_000.0
HOUR_MS = 3_600_000
POLICY = Policy(grace_ms=72 * HOUR_MS, margin_ms=HOUR_MS, max_codes=20)
WARMUP = 60.0  # s of traffic before the burst's records: failures report within 30 s, most deliveries within 10 s


def pin_to_one_core() -> str:
    """Run on one CPU only, as the requirement is stated; says which (or why not)."""
    if not hasattr(os, "sched_setaffinity"):
        return "not pinned (no os.sched_setaffinity on this platform)"
    cpu = max(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})
    return f"pinned to CPU {cpu}"


def make_entries(records: int, rate: float = 2000.0, step: float = 1.0,
                 warmup: float = 0.0) -> tuple[list[str], float]:
    """``records`` feed entries (JSON text) of traffic at ``rate`` messages/s, and the time then.

    The lab keeps every entry (no retention limit) and the set starts
    ``warmup`` seconds into the stream, once reports flow as fast as messages
    arrive: the same mix (about half pending, half final) whatever ``records``
    is, never the tail end of a trimmed feed.
    """
    lab = SmsLab(traffic=Traffic(rate=rate, duplicates=0.01, out_of_order=0.02, seed=7), autorun=False,
                 retention=sys.maxsize)
    now = START
    while now < START + warmup:
        now += step
        lab.advance(now)
    skip = lab.size
    while lab.size < skip + records:
        now += step
        lab.advance(now)
    return lab.entries()[skip:skip + records], now


def mix(entries: list[str]) -> Counter[str]:
    """Records by status; ``duplicate`` for a repeated (id, status)."""
    seen: set[tuple[str, str]] = set()
    out: Counter[str] = Counter()
    for text in entries:
        record = json.loads(text)
        key = (record["id"], record["status"])
        out["duplicate" if key in seen else record["status"]] += 1
        seen.add(key)
    return out


def describe(entries: list[str]) -> str:
    m = mix(entries)
    n = len(entries)
    parts = [f"{m[k]:,} {k} ({m[k] / n:.1%})" for k in ("pending", "delivered", "failed", "expired", "duplicate")]
    return ", ".join(parts)


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


def rows_of(ledger: Ledger) -> int:
    return ledger.read(lambda db: db.execute("SELECT COUNT(*) FROM sms_messages").fetchone()[0])


@dataclass
class Run:
    elapsed: float  # ingest of the pages, s
    totals: dict[str, float]
    rows: int  # message rows after the ingest
    max_rows: int  # the most message rows seen between pages (sampled every 10 pages)
    drained: float  # s to move the feed time past grace + margin
    expired: int  # pending messages expired (no_report) while draining
    purged: int  # message rows purged, during the ingest and the drain
    rows_at_end: int
    ledger_mib: float


def ingest(pages: list[bytes], now: float, directory: Path) -> Run:
    """Ingest ``pages`` as the collector does (catching up: feed time = newest record), then drain."""
    ledger = Ledger(directory / "ledger.sqlite")
    store = SmsStore(ledger, {"gw": POLICY})
    now_ms = int(now * 1000)
    elapsed = 0.0
    purged = max_rows = 0
    for i, body in enumerate(pages):
        started = time.perf_counter()
        page = parse_page(body, now_ms)
        times = [r.event_ms for r in page.records]
        feed_time = min(max(times), now_ms) if page.has_more and times else now_ms
        result = store.ingest("gw", page.records, now, skipped=page.skipped, cursor=page.next_cursor,
                              epoch=page.epoch, feed_time_ms=feed_time)
        elapsed += time.perf_counter() - started
        purged += result.purged
        if i % 10 == 9:
            max_rows = max(max_rows, rows_of(ledger))
    rows = rows_of(ledger)
    max_rows = max(max_rows, rows)
    # The feed goes quiet: its time moves on, an hour a poll, until every message
    # has expired or been reported and then gone unchanged for grace + margin.
    started = time.perf_counter()
    expired = 0
    end = now_ms + 2 * POLICY.grace_ms + POLICY.margin_ms + HOUR_MS
    feed_time = now_ms
    while feed_time < end:
        feed_time = min(end, feed_time + HOUR_MS)
        result = store.ingest("gw", [], feed_time / 1000, feed_time_ms=feed_time)
        expired += result.expired
        purged += result.purged
    drained = time.perf_counter() - started
    totals = store.snapshot("gw").totals
    rows_at_end = rows_of(ledger)
    ledger.close()
    size = (directory / "ledger.sqlite").stat().st_size / 2**20
    return Run(elapsed, totals, rows, max_rows, drained, expired, purged, rows_at_end, size)


def traced(pages: list[bytes], now: float) -> float:
    """Peak Python memory (MiB) of an ingest + drain, in a pass of its own (tracemalloc slows what it watches)."""
    with tempfile.TemporaryDirectory() as tmp:
        tracemalloc.start()
        ingest(pages, now, Path(tmp))
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return peak / 2**20


def report(entries: list[str], pages: list[bytes], now: float) -> Run:
    n = len(entries)
    base = baseline(pages)
    with tempfile.TemporaryDirectory() as tmp:
        run = ingest(pages, now, Path(tmp))
    t = run.totals
    print(f"  baseline json.loads            {n / base:>10,.0f} records/s")
    print(f"  parse+dedup+aggregate+commit   {n / run.elapsed:>10,.0f} records/s  ({run.elapsed:.2f} s, "
          f"{base / run.elapsed:.1%} of the baseline's speed, {run.elapsed / base:.1f}x its time)")
    print(f"  counted: {t.get('submitted', 0):,.0f} messages, {t.get('delivered', 0):,.0f} delivered, "
          f"{t.get('failed', 0):,.0f} failed, {t.get('expired', 0):,.0f} expired "
          f"({t.get('code:no_report', 0):,.0f} of them no_report); skipped {t.get('skipped:duplicate', 0):,.0f} "
          f"duplicate, {t.get('skipped:stale', 0):,.0f} stale")
    print(f"  message rows: {run.rows:,} after the ingest (at most {run.max_rows:,} during it); "
          f"drain past grace + margin {run.drained:.2f} s: {run.expired:,} expired, "
          f"{run.purged:,} rows purged in all; {run.rows_at_end:,} message rows at the end; "
          f"ledger {run.ledger_mib:.1f} MiB")
    print(f"  peak Python memory during ingest + drain {traced(pages, now):.1f} MiB "
          f"(pages held in memory by the benchmark not included)")
    return run


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
    parser.add_argument("--soak-records", type=int, default=100_000, help="0: no soak (default %(default)s)")
    parser.add_argument("--soak-hours", type=float, default=3 * (POLICY.grace_ms + POLICY.margin_ms) / HOUR_MS,
                        help="feed time the soak's records span (default %(default)g)")
    parser.add_argument("--http", action="store_true", help="also time the whole collector over HTTP")
    args = parser.parse_args(argv)
    print(f"SMS ingest benchmark, {pin_to_one_core()}; grace {POLICY.grace_ms // HOUR_MS} h, "
          f"margin {POLICY.margin_ms // HOUR_MS} h")

    entries, now = make_entries(args.records, warmup=WARMUP)
    pages = make_pages(entries, args.page)
    print(f"burst: {len(entries):,} records of 2,000 messages/s (from {WARMUP:g} s into the stream) in {len(pages)} "
          f"pages of {args.page}: "
          f"{describe(entries)}")
    report(entries, pages, now)

    if args.soak_records > 0:
        rate = args.soak_records / 2 / (args.soak_hours * 3600)
        soak, soak_now = make_entries(args.soak_records, rate=rate, step=60.0)
        soak_pages = make_pages(soak, args.page)
        window = rate * (POLICY.grace_ms + POLICY.margin_ms) / 1000
        print(f"soak: {len(soak):,} records of {rate:.3g} messages/s over {(soak_now - START) / 3600:.0f} h of feed "
              f"time (grace + margin hold about {window:,.0f} messages): {describe(soak)}")
        report(soak, soak_pages, soak_now)

    print(f"max RSS of the process {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB "
          f"(generated feeds and SQLite's page cache included)")

    if args.http:
        with tempfile.TemporaryDirectory() as tmp:
            took = asyncio.run(over_http(entries, now, Path(tmp), args.page))
        print(f"whole collector over HTTP (burst)  {len(entries) / took:>8,.0f} records/s  ({took:.2f} s, "
              f"lab server in-process)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
