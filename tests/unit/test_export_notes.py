"""The 说明 column for kinds without a note of their own: labelled figures, never raw detail keys."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from agent import periods
from agent.catalogue import KpiDefinition
from agent.export import notes
from agent.kpi_types import KpiResult
from agent.units import parse_target

SH = ZoneInfo("Asia/Shanghai")
DEFINITION = KpiDefinition(id="sms_queue", name_zh="短信排队", name_en="SMS queue", level1="产出指标",
                           level2="质量指标", kind="new_kind", unit="seconds", target="<= 10s",
                           target_text="≤10秒", objective=None, source="sms", description="")


def note(value, details, lang="zh"):
    period = periods.month(2026, 3, SH)
    result = KpiResult(definition=DEFINITION, target=parse_target(DEFINITION.target, DEFINITION.unit),
                       period=period, until=period.end, value=value, met=None, coverage=1.0, min_coverage=0.9,
                       details=details)
    return notes.evidence(DEFINITION, result, (), lambda v: f"{v:g}秒", lang)


def test_a_new_kind_shows_its_labelled_figures_translated():
    details = {"percentile_accuracy": 0.0109, "delivered": 12, "p95_seconds": 4.2, "pending": 3, "queue_depth": 7}
    assert note(4.2, details) == ["送达 12，95% 分位时延 4.2秒，待回执 3"]
    assert note(4.2, details, "en") == ["delivered 12, p95 latency 4.2 s, pending 3"]


def test_no_figure_no_note():
    assert note(None, {"delivered": 0, "pending": 0, "percentile_accuracy": 0.0109}) == []
    assert note(1.0, {"percentile_accuracy": 0.0109}) == []  # only internal figures: nothing to say
