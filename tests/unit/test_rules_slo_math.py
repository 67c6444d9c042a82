"""The SLO arithmetic of agent/alerting.py: the workbook's burn-rate factors, derived."""

import pytest

from agent.generators.alerting import (
    MAX_ERROR_RATIO,
    WINDOWS,
    error_ratio_windows,
    human_duration,
    parse_prom_duration,
    prom_duration,
)


def test_factors_follow_from_budget_share_period_and_window():
    # SRE workbook: 2 % of a 30-day budget in 1 h -> 14.4, 5 % in 6 h -> 6, 10 % in 3 d -> 1;
    # kubernetes-mixin adds 10 % in 1 d -> 3.
    assert [(w.severity, prom_duration(w.long), prom_duration(w.short), w.factor) for w in WINDOWS] == [
        ("page", "1h", "5m", 14.4), ("page", "6h", "30m", 6), ("ticket", "1d", "2h", 3), ("ticket", "3d", "6h", 1)]
    for w in WINDOWS:
        assert w.short == w.long / 12  # the workbook's short window: 1/12 of the long one


@pytest.mark.parametrize(("objective", "expected"), [
    (0.99, [0.144, 0.06, 0.03, 0.01]),
    (0.98, [0.288, 0.12, 0.06, 0.02]),
    (0.95, [0.72, 0.3, 0.15, 0.05]),
    (0.999, [0.0144, 0.006, 0.003, 0.001]),
])
def test_thresholds_scale_with_the_error_budget(objective, expected):
    assert [w.threshold(objective) for w in WINDOWS] == pytest.approx(expected)


def test_unreachable_thresholds_are_capped_so_a_total_outage_still_fires():
    # 90 %: 14.4 x 10 % = 144 % errors could never happen.
    fast = WINDOWS[0]
    assert fast.threshold(0.90) == MAX_ERROR_RATIO < 1
    assert WINDOWS[1].threshold(0.90) == pytest.approx(0.6)


def test_budget_exhaustion_at_each_burn_rate():
    assert [human_duration(w.exhaustion()) for w in WINDOWS] == ["2d2h", "5d", "10d", "30d"]


def test_recorded_windows_cover_every_alert_window_and_30_days():
    assert [prom_duration(w) for w in error_ratio_windows()] == ["5m", "30m", "1h", "2h", "6h", "1d", "3d", "30d"]


@pytest.mark.parametrize("text", ["5m", "30m", "1h", "6h", "1d", "30d", "90s"])
def test_durations_round_trip(text):
    assert prom_duration(parse_prom_duration(text)) == text


def test_durations_reject_fractions_and_nonsense():
    with pytest.raises(ValueError):
        prom_duration(1.5)
    with pytest.raises(ValueError):
        parse_prom_duration("1h30m")
