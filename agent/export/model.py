"""The report: table 12's rows with measured and manual figures (pure).

Inputs are the layout (agent/export/table12.yaml), the configured KPIs'
results (through ``Measurements``, so tests can hand in results directly) and
the manual values. Binding a configured KPI to a layout row goes by the row's
``kpi``, then its ``id``, then its verbatim name; a configured KPI that binds to
no row is appended at the end of its 一级/二级 group. So a new catalogue KPI
shows up without touching the layout, and a layout row whose KPI is not
configured says so instead of disappearing.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Callable, Mapping, Protocol, Sequence
from zoneinfo import ZoneInfo

from agent import periods, sources, units
from agent.catalogue import BY_ID, KpiDefinition
from agent.export import format as fmt
from agent.export import notes as notes_for
from agent.export.format import Lang
from agent.export.layout import LayoutRow
from agent.export.manual import ManualEntry, ManualValues
from agent.export.rows import Charts, Outage, Report, Row, Status
from agent.kpi_types import KpiResult
from agent.periods import Period, PeriodKind


class Measurements(Protocol):
    """What the report reads about measured KPIs (agent.export.measure implements it on the ledger)."""

    def definitions(self) -> Sequence[KpiDefinition]: ...

    def results(self, period: Period) -> Mapping[str, KpiResult]: ...

    def outages(self, kpi: str, period: Period) -> Sequence[Outage]: ...

    def maintenance_seconds(self, kpi: str, period: Period) -> float: ...


def _t(lang: Lang, zh: str, en: str) -> str:
    return zh if lang == "zh" else en


def _join(parts: Sequence[str], lang: Lang) -> str:
    return _t(lang, "；", "; ").join(p for p in parts if p)


def bind(layout: Sequence[LayoutRow], definitions: Sequence[KpiDefinition]) -> tuple[dict[str, KpiDefinition], list[KpiDefinition]]:
    """Configured KPIs by layout row id, and those no row takes (to append)."""
    by_id = {d.id: d for d in definitions}
    bound: dict[str, KpiDefinition] = {}
    taken: set[str] = set()
    for row in layout:
        for key in (row.kpi, row.id):
            if key in by_id and key not in taken:
                bound[row.id] = by_id[key]
                taken.add(key)
                break
    # A row's id or kpi may name a KPI that is simply not configured: never let another KPI
    # with the same Chinese name (the three cloud rows share one) take that row by name.
    reserved = {key for row in layout for key in (row.kpi, row.id) if key}
    for row in layout:
        if row.id in bound or row.kpi is not None:
            continue
        match = next((d for d in definitions if d.id not in taken and d.id not in reserved and d.name_zh == row.name), None)
        if match is not None:
            bound[row.id] = match
            taken.add(match.id)
    return bound, [d for d in definitions if d.id not in taken]


def _appended_row(definition: KpiDefinition) -> LayoutRow:
    period = getattr(definition, "period", "month")
    # A count of events whose target is set for a longer period is a total: judged to-date, pro-rated.
    total = (definition.unit == "count" and period in ("quarter", "half", "year")
             and not sources.kind(definition.kind).gauge)
    # Not validated: a config's own KPI ids may use characters the layout's ids do not.
    return LayoutRow.model_construct(id=definition.id, kpi=definition.id, level1=definition.level1,
                                     level2=definition.level2, name=definition.name_zh, name_en=definition.name_en,
                                     target_text=definition.target_text, period=period,
                                     aggregate="sum" if total else "last", prorate=total)


def _insert_appended(rows: list[LayoutRow], extra: LayoutRow) -> None:
    """After the last row of the same 一级/二级 group, else of the same 一级, else at the end."""
    for keys in ((extra.level1, extra.level2), (extra.level1,)):
        index = max((i for i, r in enumerate(rows) if (r.level1, r.level2)[: len(keys)] == keys), default=None)
        if index is not None:
            rows.insert(index + 1, extra)
            return
    rows.append(extra)


def _target_display(row: LayoutRow, definition: KpiDefinition) -> str:
    base = BY_ID.get(definition.id)
    if base is not None and base.target == definition.target:
        return row.target_text  # the table's own words
    text = definition.target_text
    for ascii_op, symbol in ((">=", "≥"), ("<=", "≤")):
        text = text.replace(ascii_op, symbol)
    return text.replace(" ", "") if text.startswith(("≥", "≤")) else text


class _Builder:
    def __init__(self, measurements: Measurements, manual: ManualValues, period: Period, kind: PeriodKind,
                 until: float, zone: ZoneInfo, lang: Lang):
        self.m = measurements
        self.manual = manual
        self.period = period
        self.kind = kind
        self.until = until
        self.zone = zone
        self.lang = lang

    def _base(self, row: LayoutRow) -> dict:
        return dict(id=row.id, level1=row.level1, level2=row.level2, name=row.display_name,
                    name_en=row.display_name_en, target_text=row.target_text, period=row.period)

    def _prorate(self, window: Period, row_period: PeriodKind, full: float,
                 show: Callable[[float], str], integral: bool = False) -> tuple[float, str]:
        """The target for the part of ``row_period`` that ``window`` covers by now, and a note saying so."""
        days, total = periods.fraction_elapsed(window, row_period, self.until, self.zone)
        if days >= total - 1e-9:
            return full, ""
        required = full * days / total
        if integral:  # 3.33 magazine issues cannot be published: events are whole, so is their target
            required = math.floor(required + 1e-9)
        what = {"year": ("年度", "yearly"), "half": ("半年", "half-year"), "quarter": ("季度", "quarterly"),
                "month": ("月度", "monthly")}[row_period]
        return required, _t(self.lang, f"{what[0]}目标按 {fmt.number(days, 1)}/{fmt.number(total, 1)} 天折算为 {show(required)}",
                            f"{what[1]} target pro-rated {fmt.number(days, 1)}/{fmt.number(total, 1)} days: {show(required)}")

    # --- measured ------------------------------------------------------------------------------

    def measured(self, row: LayoutRow, definition: KpiDefinition) -> Row:
        lang = self.lang
        window = periods.to_date(row.period, self.period, self.kind, self.zone) if row.prorate else self.period
        result = self.m.results(window).get(definition.id)
        target_text = _target_display(row, definition)
        base = self._base(row) | dict(target_text=target_text)
        if result is None:  # configured but produced nothing: say so rather than drop the row
            return Row(**base, source="measured", kpi=definition.id, unit=definition.unit, actual="—",
                       status="insufficient", note=_t(lang, "无计算结果", "no result"))
        op = result.target.op

        def figure(v: float) -> fmt.Figure:
            return fmt.value_figure(v, definition.unit, definition.target_text, op)

        def show(v: float) -> str:
            return str(figure(v))

        notes: list[str] = []
        required = result.target.value
        met = result.met
        month_value: float | None = None
        details = dict(result.details)
        if row.prorate:
            required, note = self._prorate(window, row.period, result.target.value, show)
            notes.append(note)
            if window is not self.period:
                own = self.m.results(self.period).get(definition.id)
                # A kind whose value is already to-date (SMS annual volume) gives the evaluated period's own
                # count as "month": over the to-date window that is the whole window's, so it comes from the
                # report period's own result, in the details too.
                month_value = None if own is None else own.details.get("month", own.value)
                if own is not None and "month" in own.details:
                    details["month"] = own.details["month"]
                if month_value is not None:
                    notes.append(_t(lang, f"本期 {show(month_value)}", f"this period {show(month_value)}"))
            if result.value is not None:
                met = units.Target(op, required, result.target.text).met_by(result.value)
        outages = tuple(self.m.outages(definition.id, window)) if sources.kind(definition.kind).states else ()
        notes.extend(notes_for.evidence(definition, result, outages, show, lang))
        status: Status
        if not result.sufficient:
            status = "insufficient"
            notes.insert(0, _t(lang, "期间内无数据", "no data in the period") if result.value is None else
                         _t(lang, f"数据覆盖率 {fmt.coverage(result.coverage)} 低于 {fmt.percent(result.min_coverage, decimals=0)}",
                            f"coverage {fmt.coverage(result.coverage)} below {fmt.percent(result.min_coverage, decimals=0)}"))
        else:
            status = "met" if met else "not_met"
        if self.manual.get(row.id):
            notes.append(_t(lang, "已有实测，手工填报值未采用", "measured: the manual value is not used"))
        return Row(
            **base, source="measured", kpi=definition.id, unit=definition.unit,
            actual="—" if result.value is None else show(result.value), status=status, note=_join(notes, lang),
            value=result.value, actual_figure=None if result.value is None else figure(result.value), target_op=op, target_value=required, target_full=result.target.value,
            window_start=window.start, window_end=min(self.until, window.end), coverage=result.coverage,
            maintenance_seconds=self.m.maintenance_seconds(definition.id, window), minimum=result.minimum,
            compliance=result.compliance, objective=definition.objective if result.compliance is not None else None,
            report_period_value=month_value,
            outages=outages,
            details=details,
        )

    def part_rows(self, row: LayoutRow, definition: KpiDefinition, whole: Row) -> list[Row]:
        """A sub-row per part of a KPI judged part by part (each business system), after its own row."""
        window = periods.to_date(row.period, self.period, self.kind, self.zone) if row.prorate else self.period
        result = self.m.results(window).get(definition.id)
        if result is None or not result.parts:
            return []
        lang = self.lang
        out = []
        for part, figure in result.parts.items():
            shown = None if figure.value is None else fmt.value_figure(figure.value, definition.unit,
                                                                      definition.target_text, figure.target.op)
            status: Status = ("insufficient" if not figure.sufficient else "met" if figure.met else "not_met")
            note = (_t(lang, "期间内无数据", "no data in the period") if figure.value is None else
                    _t(lang, f"数据覆盖率 {fmt.coverage(figure.coverage)}", f"coverage {fmt.coverage(figure.coverage)}"))
            out.append(Row(
                id=f"{whole.id}/{part}", source="measured", level1=whole.level1, level2=whole.level2,
                name=f"{whole.name}：{part}", name_en=f"{whole.name_en}: {part}", target_text=whole.target_text,
                actual="—" if shown is None else str(shown), status=status, note=note, kpi=definition.id,
                unit=definition.unit, value=figure.value, actual_figure=shown, target_op=figure.target.op,
                target_value=figure.target.value, target_full=figure.target.value, period=whole.period,
                window_start=whole.window_start, window_end=whole.window_end, coverage=figure.coverage,
                maintenance_seconds=whole.maintenance_seconds, part_of=whole.id,
            ))
        return out

    # --- not configured ------------------------------------------------------------------------

    def unconfigured(self, row: LayoutRow) -> Row:
        return Row(**self._base(row), source="unconfigured", kpi=row.kpi, actual=_t(self.lang, "未配置", "not configured"),
                   status="insufficient",
                   note=_t(self.lang, f"未在配置文件 kpis 中启用 {row.kpi}，无实测数据",
                           f"KPI {row.kpi} is not configured (kpis in the config): no measurement"))

    # --- manual --------------------------------------------------------------------------------

    def _required_by_milestones(self, row: LayoutRow, window: Period) -> tuple[float, str]:
        local_year = datetime.fromtimestamp(window.start, self.zone).year
        required = 0.0
        next_due: tuple[str, float] | None = None
        for milestone in row.milestones:
            month_, day = (int(p) for p in milestone.by.split("-"))
            due = (datetime(local_year, month_, day, tzinfo=self.zone) + timedelta(days=1)).timestamp()
            if due <= self.until:
                required = max(required, milestone.count)
            elif next_due is None:
                next_due = (milestone.by, milestone.count)
        parts = []
        if required > 0:
            parts.append(_t(self.lang, f"截至期末应累计完成 {fmt.number(required)} 次", f"{fmt.number(required)} due by now"))
        if next_due:
            parts.append(_t(self.lang, f"下一节点 {next_due[0]} 前累计 {fmt.number(next_due[1])} 次",
                            f"next: {fmt.number(next_due[1])} by {next_due[0]}"))
        return required, _t(self.lang, "，", ", ").join(parts)

    def manual_row(self, row: LayoutRow) -> Row:
        lang = self.lang
        window = periods.to_date(row.period, self.period, self.kind, self.zone)
        entries = [e for e in self.manual.get(row.id, ()) if self._counts(row, e, window)]
        base = self._base(row) | dict(source="manual", unit=row.kind, window_start=window.start,
                                      window_end=min(self.until, window.end))
        if not entries:
            return Row(**base, actual=_t(lang, "未填报", "not reported"), status="not_reported", note="")
        latest = max(entries, key=lambda e: (e.period.end, e.period.start))
        notes = [e.note for e in entries if e.note]
        if row.kind == "text":
            return Row(**base, actual=str(latest.value), value=latest.value, status="met" if latest.met else "not_met",
                       note=_join([self._from(latest, window)] + notes, lang))
        numbers = [float(e.value) for e in entries]
        if row.aggregate == "sum":
            total = sum(numbers)
            used = _t(lang, f"{len(entries)} 条填报合计", f"sum of {len(entries)} reports") if len(entries) > 1 else self._from(latest, window)
        elif row.aggregate == "mean":
            total = sum(numbers) / len(numbers)
            used = _t(lang, f"{len(entries)} 条填报的平均", f"mean of {len(entries)} reports") if len(entries) > 1 else self._from(latest, window)
        else:
            total = float(latest.value)
            used = self._from(latest, window)
        assert row.target is not None
        target = units.parse_target(row.target, row.kind)

        def figure(v: float) -> fmt.Figure:
            if row.suffix:
                return fmt.figure(v, 2, fmt.rounding(target.op), row.suffix)
            return fmt.value_figure(v, row.kind, row.target_text, target.op)

        def show(v: float) -> str:
            return str(figure(v))

        required, rule_note = target.value, ""
        if row.milestones:
            required, rule_note = self._required_by_milestones(row, window)
        elif row.prorate:
            required, rule_note = self._prorate(window, row.period, target.value, show, row.kind == "count")
        met = units.Target(target.op, required, target.text).met_by(total)
        if len(entries) == 1 and latest.met is not None:
            met = latest.met  # the staff's own judgement, e.g. an exception agreed with the evaluator
            notes.append(_t(lang, "人工评定", "judged by staff"))
        return Row(**base, actual=show(total), value=total, actual_figure=figure(total), status="met" if met else "not_met",
                   target_op=target.op, target_value=required, target_full=target.value,
                   note=_join([used, rule_note] + notes, lang))

    @staticmethod
    def _counts(row: LayoutRow, entry: ManualEntry, window: Period) -> bool:
        """Whether ``entry`` speaks for ``window``.

        Sums and means take only entries inside the window (a half-year's count cannot be
        split into months). A level or a state (``last``) also holds for a window inside
        the period it was reported for (a yearly "200 servers" holds in October), but
        never from a later period.
        """
        if row.aggregate == "last" or row.kind == "text":
            return entry.period.start < window.end and entry.period.end > window.start
        return entry.period.start >= window.start and entry.period.end <= window.end

    def _from(self, entry: ManualEntry, window: Period) -> str:
        if entry.period.label == self.period.label:
            return ""
        return _t(self.lang, f"取 {entry.period.label} 填报值", f"as reported for {entry.period.label}")


def build_report(layout: Sequence[LayoutRow], measurements: Measurements, manual: ManualValues, period: Period,
                 kind: PeriodKind, now: float, zone: ZoneInfo, lang: Lang = "zh", charts: Charts = Charts(),
                 generated_at: float | None = None) -> Report:
    """Every row of the layout, plus configured KPIs it does not place, for ``period`` as of ``now``."""
    bound, unplaced = bind(layout, measurements.definitions())
    rows = list(layout)
    for definition in unplaced:
        _insert_appended(rows, _appended_row(definition))
        bound[definition.id] = definition
    until = min(now, period.end)
    builder = _Builder(measurements, manual, period, kind, until, zone, lang)
    out: list[Row] = []
    for row in rows:
        if row.id in bound:
            out.append(builder.measured(row, bound[row.id]))
            out.extend(builder.part_rows(row, bound[row.id], out[-1]))
        elif row.kpi is not None:
            out.append(builder.unconfigured(row))
        else:
            out.append(builder.manual_row(row))
    return Report(period=period, kind=kind, until=until, generated_at=now if generated_at is None else generated_at,
                  timezone=str(zone.key), lang=lang, rows=tuple(out), charts=charts)
