"""The SMS rows of the export through the real path: messages in a ledger, agent/kpi_sms.py, the report.

The messages are ingested with the SMS collector's own store (collectors/sms/store.py),
as the collector writes them; every figure below is worked out by hand from the
messages. 2026 is not a leap year: January to March are 31 + 28 + 31 = 90 of 365 days.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from agent import periods
from agent import periods as agent_periods
from agent.config import parse_config
from agent.export import json_writer
from agent.export.layout import table12
from agent.export.measure import LedgerMeasurements
from agent.export.model import build_report
from agent.kpi import KpiEngine
from agent.ledger import Ledger
from collectors.sms.collector import policy_of
from collectors.sms.records import DELIVERED, EXPIRED, FAILED, PENDING, Record
from collectors.sms.store import SmsStore
from tests.sms_feed import read_over

SH = ZoneInfo("Asia/Shanghai")
GATEWAYS = ("gw-a", "gw-b")


def ts(*args: int) -> float:
    return datetime(*args, tzinfo=SH).timestamp()


def ms(*args: int) -> int:
    return int(ts(*args) * 1000)


def sms_config(data_dir):
    return parse_config({
        "agent": {"data_dir": str(data_dir), "timezone": "Asia/Shanghai"},
        "sms": [{"name": name, "url": f"http://127.0.0.1:1/{name}"} for name in GATEWAYS],
        "kpis": [{"id": "sms_delivery_rate"}, {"id": "sms_send_latency"}, {"id": "sms_annual_volume"}],
    }, "sms.yaml")


@pytest.fixture
def ledger(tmp_path):
    opened = Ledger(tmp_path / "ledger.sqlite")
    yield opened
    opened.close()


class Messages:
    """Records for one gateway, with unique ids, ingested through the SMS store in one batch."""

    def __init__(self, prefix: str):
        self.prefix = prefix
        self.records: list[Record] = []

    def _id(self) -> str:
        return f"{self.prefix}{len(self.records)}"

    def delivered(self, count: int, first_ms: int, latency_ms: int, every_ms: int = 60_000) -> None:
        for i in range(count):
            at = first_ms + i * every_ms
            self.records.append(Record(self._id(), DELIVERED, at, at + latency_ms, None))

    def final(self, outcome: int, count: int, first_ms: int, code: str) -> None:
        for i in range(count):
            at = first_ms + i * 60_000
            self.records.append(Record(self._id(), outcome, at, at + 30_000, code))

    def pending(self, count: int, first_ms: int) -> None:
        for i in range(count):
            self.records.append(Record(self._id(), PENDING, first_ms + i * 1000, None, None))


def fill(ledger, config, gateway: str, messages: Messages, now: float) -> None:
    store = SmsStore(ledger, {g.name: policy_of(g) for g in config.sms})
    result = store.ingest(gateway, messages.records, now)
    assert result.accepted == len(messages.records)


def feeds_up(ledger, start: float, end: float) -> None:
    """Both gateways' feeds known read without a gap over [start, end)."""
    for name in GATEWAYS:
        read_over(ledger, name, start, end)


def sms_rows(config, ledger, period, now, lang="zh"):
    report = build_report(table12(), LedgerMeasurements(config, ledger, now), {}, period, "month", now, SH, lang)
    return {row.id: row for row in report.rows}, report


def test_march_from_messages_in_the_ledger(tmp_path, ledger):
    config = sms_config(tmp_path)
    now = ts(2026, 4, 2, 12)
    a, b = Messages("a"), Messages("b")
    # January (gw-a): 12 000 delivered in 1.5 s.
    a.delivered(12_000, ms(2026, 1, 2), 1_500, every_ms=200_000)
    # February (gw-b): 8 000 delivered, and one sent at 23:59:30 on the 28th, reported after midnight:
    # it is February's (by submit time), not March's.
    b.delivered(8_000, ms(2026, 2, 2), 1_500, every_ms=250_000)
    b.delivered(1, ms(2026, 2, 28, 23, 59) + 30_000, 50_000)
    # March: 10 000 with a final status over both gateways, and 20 still pending.
    a.delivered(8_999, ms(2026, 3, 2), 2_000, every_ms=150_000)
    a.delivered(1, ms(2026, 3, 31, 23, 59) + 59_000, 2_000)  # sent 23:59:59, reported on 1 April: March's
    b.delivered(400, ms(2026, 3, 5), 8_000)
    b.delivered(300, ms(2026, 3, 6), 10_000)  # exactly the 10 s bound: within it
    b.delivered(150, ms(2026, 3, 7), 25_000)
    b.final(FAILED, 100, ms(2026, 3, 8), "UNDELIV")
    b.final(EXPIRED, 50, ms(2026, 3, 9), "EXPIRED")
    a.pending(20, ms(2026, 3, 31, 23, 50))
    # April: after the report period, in neither March nor the year to date of March.
    a.delivered(5, ms(2026, 4, 1), 1_000)
    fill(ledger, config, "gw-a", a, now)
    fill(ledger, config, "gw-b", b, now)
    feeds_up(ledger, ts(2026, 1, 1), now)

    march = agent_periods.month(2026, 3, SH)
    rows, report = sms_rows(config, ledger, march, now)

    # 短信送达率: delivered / (delivered + failed + expired) of March's messages.
    rate = rows["sms_delivery_rate"]
    delivered, final = 8_999 + 1 + 400 + 300 + 150, 10_000
    assert delivered == 9_850
    assert rate.source == "measured" and rate.value == pytest.approx(delivered / final)
    assert rate.actual == "98.50%" and rate.status == "met" and rate.coverage == pytest.approx(1.0)
    assert rate.note == "送达 9850 / 10000 条，失败或过期 150 条，待回执 20 条"
    assert (rate.details["submitted"], rate.details["pending"]) == (10_020, 20)

    # 短信发送速度: the p95 latency as the figure, the share within 10 s as compliance.
    # Nearest rank of p95 among 9 850: ceil(0.95 x 9850) = 9358th; 9 000 at 2 s, then 400 at 8 s
    # (ranks 9001-9400): the 8 s bin, (10 x 2^(-11/32), 10 x 2^(-10/32)] s, reported at its middle.
    speed = rows["sms_send_latency"]
    p95 = 10 * 2 ** (-10.5 / 32)  # 7.9667 s
    assert speed.value == pytest.approx(p95)
    assert speed.actual == "7.97秒" and speed.target_text == "≤10 秒"
    within = (9_000 + 400 + 300) / 9_850  # 0.98477: the 150 at 25 s are late
    assert speed.compliance == pytest.approx(within) and speed.status == "met"
    assert speed.note == "实际完成值为 95% 分位时延；10秒内送达 98.47%（要求 ≥95%），共 9850 条"
    rows_en, _ = sms_rows(config, ledger, march, now, "en")
    assert rows_en["sms_send_latency"].note == (
        "value is the p95 latency; 98.47% delivered within 10 s (objective 95%) of 9850")
    assert rows_en["sms_delivery_rate"].note == "9850 of 10000 delivered, 150 failed or expired, 20 pending"
    assert speed.details["mean_seconds"] == pytest.approx(
        (9_000 * 2 + 400 * 8 + 300 * 10 + 150 * 25) / 9_850)

    # 短信年发送总量: year to date (1 January - 1 April) against 170 million x 90/365.
    volume = rows["sms_annual_volume"]
    march_count = 10_020  # 10 000 final + 20 pending: counted when submitted
    ytd = 12_000 + 8_001 + march_count
    assert volume.value == ytd == 30_021
    assert volume.report_period_value == march_count
    assert volume.window_start == ts(2026, 1, 1) and volume.window_end == ts(2026, 4, 1)
    assert volume.target_full == 170_000_000
    assert volume.target_value == pytest.approx(170_000_000 * 90 / 365)  # 41 917 808.2
    assert volume.actual == "3万条" and volume.status == "not_met"
    projected = ytd * 365 / 90  # 121 751.5
    assert volume.details["projected_year_end"] == pytest.approx(projected)
    assert volume.note == "年度目标按 90/365 天折算为 4191.78万条；本期 1万条；按当前进度全年约 12.17万条"

    # February alone: the message reported after midnight of 1 March is February's.
    february = agent_periods.month(2026, 2, SH)
    rows_feb, _ = sms_rows(config, ledger, february, now)
    assert rows_feb["sms_delivery_rate"].details["delivered"] == 8_001
    assert rows_feb["sms_annual_volume"].value == 12_000 + 8_001
    assert rows_feb["sms_annual_volume"].report_period_value == 8_001
    assert rows_feb["sms_annual_volume"].target_value == pytest.approx(170_000_000 * 59 / 365)

    # The HTML chart's data: March's delivered messages as the stored latency bins, a bar per quarter
    # doubling of 10 s: (10 x 2^((g-1)/4), 10 x 2^(g/4)] s. 2 s is in g = ceil(4 log2 0.2) = -9, 8 s in -1,
    # 10 s in 0 (the bound is a bar edge), 25 s in ceil(4 log2 2.5) = 6.
    dist = LedgerMeasurements(config, ledger, now).charts(march).distributions
    assert [d.kpi for d in dist] == ["sms_send_latency"] and dist[0].target_value == 10.0
    bars = dist[0].bins
    assert [n for _, _, n in bars] == [9_000, 0, 0, 0, 0, 0, 0, 0, 400, 300, 0, 0, 0, 0, 0, 150]
    assert bars[0][:2] == pytest.approx((10 * 2 ** (-10 / 4), 10 * 2 ** (-9 / 4)))
    assert bars[9][1] == 10.0 and bars[10][0] == 10.0 and bars[-1][1] == pytest.approx(10 * 2 ** (6 / 4))
    assert all(a[1] == b[0] for a, b in zip(bars, bars[1:]))  # consecutive, gaps kept
    assert sum(n for _, upper, n in bars if upper <= 10.0) == 9_700  # exactly the messages within 10 s
    assert dist[0].within == pytest.approx(within)
    assert dict(dist[0].markers)["p95"] == pytest.approx(p95)

def test_the_volume_rows_own_count_is_the_report_periods(tmp_path, ledger):
    """``details.month`` (本期) is the report period's count, not the year to date the row is judged on."""
    config = sms_config(tmp_path)
    now = ts(2026, 4, 20)
    a, b = Messages("a"), Messages("b")
    a.delivered(6_000, ms(2026, 1, 3), 1_000, every_ms=300_000)  # January
    b.delivered(4_006, ms(2026, 2, 3), 1_000, every_ms=300_000)  # February
    a.delivered(250, ms(2026, 3, 10), 1_000)  # March: 250 + 150 = 400
    b.final(FAILED, 100, ms(2026, 3, 11), "UNDELIV")
    b.pending(50, ms(2026, 3, 31, 23, 0))
    a.delivered(30, ms(2026, 4, 2), 1_000)  # April, to now
    fill(ledger, config, "gw-a", a, now)
    fill(ledger, config, "gw-b", b, now)
    feeds_up(ledger, ts(2026, 1, 1), now)

    march, report = sms_rows(config, ledger, agent_periods.month(2026, 3, SH), now)
    volume = march["sms_annual_volume"]
    assert volume.value == volume.details["year_to_date"] == 6_000 + 4_006 + 400 == 10_406
    assert volume.details["month"] == volume.report_period_value == 400
    doc = {r["id"]: r for r in json.loads(json_writer.render(report))["rows"]}
    assert doc["sms_annual_volume"]["details"]["month"] == 400
    assert doc["sms_annual_volume"]["details"]["year_to_date"] == 10_406

    # A quarterly report: the quarter's own count (April so far), the year to date beside it.
    q2 = build_report(table12(), LedgerMeasurements(config, ledger, now), {}, periods.parse("quarter", "2026Q2", SH),
                      "quarter", now, SH)
    volume = next(r for r in q2.rows if r.id == "sms_annual_volume")
    assert (volume.value, volume.details["month"]) == (10_436, 30)

    # /metrics evaluates month to date, where the period is the month: the same count.
    results = {r.definition.id: r for r in KpiEngine(config, ledger).month_to_date(now)}
    assert results["sms_annual_volume"].details["month"] == 30


RAW_KEY = re.compile(r"[a-z]+_[a-z_]+")


@pytest.mark.parametrize("lang, none", [("zh", "期间内无数据"), ("en", "no data in the period")])
def test_no_messages_say_only_no_data(tmp_path, ledger, lang, none):
    config = sms_config(tmp_path)
    march = agent_periods.month(2026, 3, SH)
    feeds_up(ledger, march.start, march.end)  # the feeds were read: there simply were no messages
    rows, report = sms_rows(config, ledger, march, ts(2026, 4, 2), lang)
    assert rows["sms_delivery_rate"].note == none and rows["sms_delivery_rate"].status == "insufficient"
    assert rows["sms_send_latency"].note == none and rows["sms_send_latency"].status == "insufficient"
    assert rows["sms_send_latency"].actual == "—"
    (dist,) = LedgerMeasurements(config, ledger, ts(2026, 4, 2)).charts(march).distributions
    assert dist.bins == () and dist.within is None  # drawn as "no delivered messages"
    for row in report.rows:
        if row.source == "measured":  # unconfigured rows name the KPI id to enable, on purpose
            assert not RAW_KEY.search(row.note), (row.id, row.note)


def test_pending_only_says_what_is_open(tmp_path, ledger):
    config = sms_config(tmp_path)
    now = ts(2026, 3, 31, 23, 59)
    pending = Messages("p")
    pending.pending(3, ms(2026, 3, 31, 23, 50))
    fill(ledger, config, "gw-a", pending, now)
    march = agent_periods.month(2026, 3, SH)
    feeds_up(ledger, march.start, now)
    rows, _ = sms_rows(config, ledger, march, now)
    assert rows["sms_delivery_rate"].note == "期间内无数据；待回执 3 条"
    assert rows["sms_send_latency"].note == "期间内无数据"
