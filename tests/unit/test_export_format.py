"""Figures written like the table's targets, rounded towards failing them."""

from __future__ import annotations

import pytest

from agent.export import format as fmt
from agent.export.xlsx import number_format

GBIT = 1e9 / 8


@pytest.mark.parametrize("value, unit, target_text, op, expected", [
    (0.99953, "ratio", "≥99%", ">=", "99.95%"),
    (0.98996, "ratio", "≥99%", ">=", "98.99%"),  # never "99.00%" for a miss
    (0.99, "ratio", "≥99%", ">=", "99.00%"),  # 0.99 * 100 is 98.999...: not a miss
    (0.20001, "ratio", "离职率≤20%", "<=", "20.01%"),  # rounded up against a ≤ target
    (17.5 * GBIT, "bytes_per_second", "≥15G", ">=", "17.5G"),
    (30 * GBIT, "bytes_per_second", "≥15G", ">=", "30G"),
    (17344, "count", "≥15000核", ">=", "17344核"),
    (102272 * 2**30, "bytes", "≥100000GB", ">=", "102272GB"),
    (4180 * 2**40, "bytes", "4000TB 存储", ">=", "4180TB"),
    (3999.96 * 2**40, "bytes", "4000TB", ">=", "3999.9TB"),
    (152_345_678, "count", "≥17000 万条", ">=", "15234.56万条"),
    (3.214, "seconds", "≤10 秒", "<=", "3.22秒"),
    (7.0, "seconds", "<= 10s", "<=", "7s"),  # a config override written in seconds stays in seconds
])
def test_value(value, unit, target_text, op, expected):
    assert fmt.value(value, unit, target_text, op) == expected


def test_suffix_of_targets():
    assert fmt.target_suffix("4 项/半年") == "项"
    assert fmt.target_suffix("新增 20 种") == "种"
    assert fmt.target_suffix("≥15000 核 CPU") == "核"
    assert fmt.target_suffix("无中高危漏洞") == ""


def test_durations():
    assert fmt.duration(41 * 60) == "41 分钟"
    assert fmt.duration(2 * 3600) == "2 小时"
    assert fmt.duration(16.75 * 3600, "en") == "16.8 h"
    assert fmt.duration(5 * 86400) == "5 天"


@pytest.mark.parametrize("ratio, expected", [
    (0.997304, "99.7%"),  # the usual: one decimal
    (1 / 3, "33.3%"),
    (0.0004167, "0.04%"),  # 18 minutes of one link in a month: never "0.0%"
    (0.0000042, "0.0004%"),
    (1e-15, "0.000000000001%"),  # beyond the last decimal shown: still not zero
    (0.99996, "99.9%"),  # rounded down: below 1 never reads 100 %
    (0.999999999, "99.99%"),
    (1 - 1e-12, "99.99999%"),  # within the rounding tolerance of 100 % at fewer decimals
    (0.29, "29.0%"),  # 0.29 x 1000 is 289.99999...: not a shortfall
    (1.0, "100%"),
    (0.0, "0%"),
])
def test_coverage_never_reads_zero_or_complete_unless_it_is(ratio, expected):
    assert str(fmt.coverage(ratio)) == expected


def test_figures_carry_the_rounded_number_and_its_decimals():
    """What the xlsx stores: the number as shown (in the target's scale), its decimals and unit."""
    assert fmt.value_figure(0.98996, "ratio", "≥99%", ">=") == fmt.Figure(0.9899, 2, percent=True)
    assert fmt.value_figure(30 * GBIT, "bytes_per_second", "≥15G", ">=") == fmt.Figure(30, 0, "G")
    assert fmt.value_figure(152_345_678, "count", "≥17000 万条", ">=") == fmt.Figure(15234.56, 2, "万条")
    assert fmt.hours(41 * 60) == fmt.Figure(0.68, 2, " 小时") and str(fmt.hours(7200, "en")) == "2 h"


@pytest.mark.parametrize("figure, excel", [
    (fmt.Figure(0.9997, 2, percent=True), "0.00%"),
    (fmt.Figure(1.0, 0, percent=True), "0%"),
    (fmt.Figure(4154.1, 1, "TB"), '0.0"TB"'),
    (fmt.Figure(2, 0, " 小时"), '0" 小时"'),
    (fmt.Figure(4, 0, '"个"'), '0""\\""个"\\"""'),  # a quote in the unit: closed, escaped, reopened
    (fmt.Figure(17344, 0), "0"),
])
def test_xlsx_number_formats_show_the_figure_as_written(figure, excel):
    assert number_format(figure) == excel
