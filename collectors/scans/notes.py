"""The export's 说明 for the security scans' KPI (latest_count): when the latest report was made, and its counts."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Mapping, Sequence

from agent.export.format import Lang, number
from agent.export.notes import Show
from agent.export.rows import Outage
from agent.kpi_definition import KpiDefinition
from agent.kpi_types import KpiResult


def _local(details: Mapping[str, float], key: str) -> str:
    # The offset the evaluator found for that instant in the configured zone (collectors/scans/kpi.py).
    zone = timezone(timedelta(seconds=details.get(f"{key}_utc_offset", 0.0)))
    return datetime.fromtimestamp(details[key], zone).strftime("%Y-%m-%d %H:%M")


def latest_report(definition: KpiDefinition, result: KpiResult, outages: Sequence[Outage], show: Show,
                  lang: Lang) -> list[str]:
    """``最新报告 2026-11-28 10:15：高危 0，中危 2，低危 5`` (several scans: the range of their latest reports)."""
    d = result.details
    if result.value is None or "high" not in d:
        return []
    counts = [(zh, en, number(d.get(key, 0.0), 0)) for key, zh, en in
              (("high", "高危", "high"), ("medium", "中危", "medium"), ("low", "低危", "low"))]
    zh_counts = "，".join(f"{zh} {n}" for zh, _, n in counts)
    en_counts = ", ".join(f"{en} {n}" for _, en, n in counts)
    scans, known = int(d.get("scans", 1)), int(d.get("scans_known", 1))
    if "report_time" not in d:
        when_zh = when_en = ""
    elif known > 1 and d["oldest_report_time"] != d["report_time"]:
        oldest, newest = _local(d, "oldest_report_time"), _local(d, "report_time")
        when_zh, when_en = f"{known} 个扫描的最新报告 {oldest} 至 {newest}", f"latest reports of {known} scans {oldest} to {newest}"
    else:
        newest = _local(d, "report_time")
        when_zh, when_en = f"最新报告 {newest}", f"latest report {newest}"
    zh = f"{when_zh}：{zh_counts}" if when_zh else zh_counts
    en = f"{when_en}: {en_counts}" if when_en else en_counts
    if known < scans:
        zh += f"；{scans - known} 个扫描无数据"
        en += f"; {scans - known} of {scans} scans without data"
    return [zh if lang == "zh" else en]


__all__ = ["latest_report"]
