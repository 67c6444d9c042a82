"""The export's 说明 for the power KPI (fault_count): the faults, one by one, in the center's time.

``供电故障 1 次：ups-a 电池供电、告警，11-03 14:05 至 14:35（30 分钟）`` and what was
not counted: a fault going on from the period before, one inside maintenance.

Times are the center's local time, as the report's period is: the note is
given no time zone, so it takes the UTC offset at the period's start (the
period's own label and start say it). Exact for Asia/Shanghai, which keeps one
offset all year; in a zone with daylight saving a time after the change would
read an hour off.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone, tzinfo
from typing import Sequence
from zoneinfo import ZoneInfo

from agent import periods
from agent.export import format as fmt
from agent.export.format import Lang
from agent.export.notes import Show
from agent.export.rows import Outage
from agent.kpi_definition import KpiDefinition
from agent.kpi_types import KpiResult
from collectors.power.events import FaultEvent
from collectors.power.kpi import FaultCount

MAX_LISTED = 10  # events written out; beyond them the note says how many more (a flapping unit)

# The bundled profiles' conditions, as the report's readers call them; another profile's are shown as named.
CONDITIONS: dict[str, tuple[str, str]] = {
    "on_battery": ("电池供电", "on battery"),
    "bypass": ("旁路供电", "on bypass"),
    "output_off": ("无输出", "no output"),
    "battery_low": ("电池电量低", "battery low"),
    "alarm": ("告警", "alarm"),
    "input_failure": ("市电输入异常", "input failure"),
    "breaker_open": ("断路器断开", "breaker open"),
    "phase_loss": ("缺相", "phase loss"),
    "surge_protector": ("防雷器故障", "surge protector failed"),
}


def _t(lang: Lang, zh: str, en: str) -> str:
    return zh if lang == "zh" else en


def center_zone(period: periods.Period) -> tzinfo:
    """The fixed offset of the center's zone at ``period``'s start (UTC if its label cannot be read)."""
    first = period.label.split("..")[0]  # a to-date window is labelled "2026..2026-11"
    try:
        _, in_utc = periods.parse_any(first, ZoneInfo("UTC"))
    except ValueError:
        return timezone.utc
    return timezone(timedelta(seconds=round(in_utc.start - period.start)))


def _conditions(event: FaultEvent, lang: Lang) -> str:
    names = [CONDITIONS[c][0 if lang == "zh" else 1] if c in CONDITIONS else c for c in event.conditions]
    return _t(lang, "、", ", ").join(names) or _t(lang, "故障", "fault")


def _event(event: FaultEvent, until: float, zone: tzinfo, lang: Lang) -> str:
    start = datetime.fromtimestamp(event.start, zone)
    began = start.strftime("%m-%d %H:%M")
    length = fmt.duration(event.seconds(until), lang)
    what = f"{event.unit} {_conditions(event, lang)}"
    if event.end is None:
        return _t(lang, f"{what}，{began} 起，未结束（已 {length}）", f"{what}, from {began}, ongoing ({length} so far)")
    stop = datetime.fromtimestamp(event.end, zone)
    ended = stop.strftime("%H:%M" if stop.date() == start.date() else "%m-%d %H:%M")
    return _t(lang, f"{what}，{began} 至 {ended}（{length}）", f"{what}, {began} to {ended} ({length})")


def fault_events(definition: KpiDefinition, result: KpiResult, outages: Sequence[Outage], show: Show,
                 lang: Lang) -> list[str]:
    """The counted faults, then those not counted and why (none without a figure)."""
    if result.value is None or not isinstance(result, FaultCount):
        return []
    zone = center_zone(result.period)
    counted = result.counted
    phrases: list[str] = []
    if counted:
        listed = [_event(e, result.until, zone, lang) for e in counted[:MAX_LISTED]]
        more = len(counted) - MAX_LISTED
        if more > 0:
            listed.append(_t(lang, f"另有 {more} 次未列出", f"{more} more not listed"))
        phrases.append(_t(lang, f"供电故障 {len(counted)} 次：", f"{len(counted)} power fault"
                                f"{'s' if len(counted) > 1 else ''}: ") + _t(lang, "；", "; ").join(listed))
    else:
        phrases.append(_t(lang, "无供电故障", "no power faults"))
    earlier = [e for e in result.events if e.status == "earlier"]
    if earlier:
        units = _t(lang, "、", ", ").join(dict.fromkeys(e.unit for e in earlier))
        phrases.append(_t(lang, f"上期开始的故障 {len(earlier)} 次（{units}）延续至本期，不重复计数",
                          f"{len(earlier)} fault{'s' if len(earlier) > 1 else ''} from the period before "
                          f"({units}) went on into this one, not counted again"))
    maintained = [e for e in result.events if e.status == "maintenance"]
    if maintained:
        phrases.append(_t(lang, f"维护窗口内故障 {len(maintained)} 次，不计",
                          f"{len(maintained)} inside maintenance, not counted"))
    return phrases


__all__ = ["CONDITIONS", "center_zone", "fault_events"]
