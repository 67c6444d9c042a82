"""The 说明 (note) column of measured rows: a short account of the figure, per KPI kind (pure).

A kind without an entry here still gets a note: its own kind-specific figures
(``KpiResult.details``), briefly, under the names of :data:`DETAIL_LABELS`. So a
new kind needs no change to the export; an entry here only makes its note read
better. A detail key without a label is internal (an accuracy bound, a ratio the
note already states) and is never shown: notes are read by the evaluation
office, in Chinese, and a raw key such as ``percentile_accuracy`` means nothing
there.

A figure that is missing (no data in the period) gets no note from here: the
report says 期间内无数据 / "no data in the period" and nothing else.
"""

from __future__ import annotations

from typing import Callable, Sequence

from agent import sources
from agent.catalogue import KpiDefinition
from agent.export import format as fmt
from agent.export.format import Lang
from agent.export.rows import Outage
from agent.kpi_types import KpiResult

Show = Callable[[float], str]
NoteMaker = Callable[[KpiDefinition, KpiResult, Sequence[Outage], Show, Lang], list[str]]


def _t(lang: Lang, zh: str, en: str) -> str:
    return zh if lang == "zh" else en


def _count(value: float) -> str:
    return fmt.number(value, 0)


# Detail key -> (Chinese, English, how the figure is shown: count, seconds or ratio).
DETAIL_LABELS: dict[str, tuple[str, str, str]] = {
    "submitted": ("提交", "submitted", "count"),
    "delivered": ("送达", "delivered", "count"),
    "failed": ("失败", "failed", "count"),
    "expired": ("过期", "expired", "count"),
    "pending": ("待回执", "pending", "count"),
    "final": ("已有最终状态", "with a final status", "count"),
    "within_target": ("达标内送达", "within the bound", "count"),
    "p50_seconds": ("50% 分位时延", "p50 latency", "seconds"),
    "p95_seconds": ("95% 分位时延", "p95 latency", "seconds"),
    "p99_seconds": ("99% 分位时延", "p99 latency", "seconds"),
    "mean_seconds": ("平均时延", "mean latency", "seconds"),
    "year_to_date": ("年累计", "year to date", "count"),
    "month": ("本期", "this period", "count"),
    "projected_year_end": ("全年预计", "projected for the year", "count"),
}


def detail_text(key: str, value: float, lang: Lang) -> str | None:
    """``送达 435`` / ``p95 latency 4.64 s`` for a labelled detail; None for an internal one."""
    label = DETAIL_LABELS.get(key)
    if label is None:
        return None
    zh, en, shown = label
    if shown == "seconds":
        figure = _t(lang, f"{fmt.number(value, 2)}秒", f"{fmt.number(value, 2)} s")
    elif shown == "ratio":
        figure = fmt.percent(value)
    else:
        figure = _count(value)
    return _t(lang, f"{zh} {figure}", f"{en} {figure}")


def availability(definition: KpiDefinition, result: KpiResult, outages: Sequence[Outage], show: Show,
                 lang: Lang) -> list[str]:
    """``中断 2 次，共 41 分钟``: outages of the group's links, down time outside maintenance."""
    if not outages:
        return [_t(lang, "无中断", "no outages")] if result.value is not None else []
    total = sum(o.seconds for o in outages)
    return [_t(lang, f"中断 {len(outages)} 次，共 {fmt.duration(total, lang)}",
               f"{len(outages)} outage{'s' if len(outages) > 1 else ''}, {fmt.duration(total, lang)} total")]


def gauge(definition: KpiDefinition, result: KpiResult, outages: Sequence[Outage], show: Show,
          lang: Lang) -> list[str]:
    """Mean, minimum and time in compliance (bandwidth, cloud capacity)."""
    if result.value is None or result.compliance is None:
        return []
    objective = definition.objective if definition.objective is not None else 1.0
    low = "—" if result.minimum is None else show(result.minimum)
    share = fmt.percent(result.compliance, ">=")
    return [_t(lang, f"均值 {show(result.value)}，最小 {low}，达标时间占比 {share}（要求 ≥{fmt.percent(objective, decimals=0)}）",
               f"mean {show(result.value)}, min {low}, in compliance {share} of the time "
               f"(objective {fmt.percent(objective, decimals=0)})")]


def delivery_rate(definition: KpiDefinition, result: KpiResult, outages: Sequence[Outage], show: Show,
                  lang: Lang) -> list[str]:
    """Delivered of the messages with a final status, and what is still pending."""
    d = result.details
    if "final" not in d:
        return generic(definition, result, outages, show, lang)
    if not d["final"]:  # nothing settled yet: no figure, only what is still open
        return [_t(lang, f"待回执 {_count(d['pending'])} 条", f"{_count(d['pending'])} pending")] if d.get("pending") else []
    parts = [_t(lang, f"送达 {_count(d.get('delivered', 0))} / {_count(d['final'])} 条",
                f"{_count(d.get('delivered', 0))} of {_count(d['final'])} delivered")]
    failed = d.get("failed", 0) + d.get("expired", 0)
    if failed:
        parts.append(_t(lang, f"失败或过期 {_count(failed)} 条", f"{_count(failed)} failed or expired"))
    if d.get("pending"):
        parts.append(_t(lang, f"待回执 {_count(d['pending'])} 条", f"{_count(d['pending'])} pending"))
    return [_t(lang, "，", ", ").join(parts)]


def latency_within(definition: KpiDefinition, result: KpiResult, outages: Sequence[Outage], show: Show,
                   lang: Lang) -> list[str]:
    """The percentile shown, and the share of messages within the bound against the objective."""
    if result.compliance is None:  # no delivered message: no figure, and nothing to say beyond that
        return [] if result.value is None else generic(definition, result, outages, show, lang)
    objective = definition.objective if definition.objective is not None else 0.95
    q = fmt.number(objective * 100, 1)
    bound = show(result.target.value)
    bound_en = f"{fmt.number(result.target.value, 2)} s"  # the target is in seconds; "10秒" is not English
    share = fmt.percent(result.compliance, ">=")
    return [_t(lang, f"实际完成值为 {q}% 分位时延；{bound}内送达 {share}（要求 ≥{fmt.percent(objective, decimals=0)}），"
                     f"共 {_count(result.details.get('delivered', 0))} 条",
               f"value is the p{q} latency; {share} delivered within {bound_en} "
               f"(objective {fmt.percent(objective, decimals=0)}) of {_count(result.details.get('delivered', 0))}")]


def annual_volume(definition: KpiDefinition, result: KpiResult, outages: Sequence[Outage], show: Show,
                  lang: Lang) -> list[str]:
    """The pro-rating note comes from the model; add the year-end projection."""
    projected = result.details.get("projected_year_end")
    if projected is None:
        return []
    return [_t(lang, f"按当前进度全年约 {show(projected)}", f"on this pace {show(projected)} for the year")]


def generic(definition: KpiDefinition, result: KpiResult, outages: Sequence[Outage], show: Show,
            lang: Lang) -> list[str]:
    """A kind this module does not know: its own labelled figures, at most four (none without a figure)."""
    if result.value is None:
        return []
    if result.compliance is not None and result.minimum is not None:
        return gauge(definition, result, outages, show, lang)
    shown = [t for t in (detail_text(k, v, lang) for k, v in result.details.items()) if t is not None][:4]
    return [_t(lang, "，", ", ").join(shown)] if shown else []


NOTES: dict[str, NoteMaker] = {
    "availability": availability,
    "capacity_sum": gauge,
    "delivery_rate": delivery_rate,
    "latency_within": latency_within,
    "annual_volume": annual_volume,
}


def evidence(definition: KpiDefinition, result: KpiResult, outages: Sequence[Outage], show: Show,
             lang: Lang) -> list[str]:
    own = sources.kind(definition.kind).note
    return (own or NOTES.get(definition.kind, generic))(definition, result, outages, show, lang)
