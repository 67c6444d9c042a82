"""The HTML report rendered by a real browser: headless Chromium shows the table.

The screenshot is kept for review in pytest's temporary directory (the last runs stay
under /tmp/pytest-of-$USER/), or in $SLA_EXPORT_ARTIFACTS when set (CI can upload it); the
README's docs/export-sample.png comes from `python -m agent.lab.sample_report`.
"""

from __future__ import annotations

import os
import shutil
import struct
from pathlib import Path

import pytest

from agent.export import browser
from agent.export.command import export
from agent.export.layout import table12
from agent.lab.sample_report import EXAMPLE_MANUAL, SAMPLE_NOW, SH, build_ledger
from agent.periods import parse

pytestmark = pytest.mark.skipif(not browser.available(), reason="needs /usr/bin/chromium (Debian package chromium)")


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return struct.unpack(">II", header[16:24])


@pytest.fixture(scope="module")
def html_report(tmp_path_factory):
    out = tmp_path_factory.mktemp("html")
    config = build_ledger(out / "data")
    written = export(config, "month", parse("month", "2026-10", SH), ["html"], str(out / "report.html"),
                     str(EXAMPLE_MANUAL), "zh", SAMPLE_NOW)
    return written[0]


def test_chromium_renders_the_report(html_report, tmp_path):
    png = browser.screenshot(html_report, tmp_path / "report.png", width=1400, height=2000, timeout=90)
    assert png_size(png) == (1400, 2000)
    # A blank page compresses to a few kB; the table and charts make it far larger.
    assert png.stat().st_size > 50_000
    if os.environ.get("SLA_EXPORT_ARTIFACTS"):
        artifacts = Path(os.environ["SLA_EXPORT_ARTIFACTS"])
        artifacts.mkdir(parents=True, exist_ok=True)
        shutil.copy(png, artifacts / "export-report.png")


def test_the_dom_chromium_builds_contains_the_table(html_report):
    dom = browser.dump_dom(html_report, timeout=90)
    assert '<table class="report" id="report">' in dom
    assert dom.count("<tr class=") == len(table12())
    assert "政务外网移动办公出口链路可用率" in dom and "未达标" in dom
    assert dom.count("<svg") >= 7  # link timelines, the SMS latency histogram and capacity charts
    assert "短信发送时延分布 SMS latency distribution" in dom and 'class="histogram"' in dom
    assert 'class="bound"' in dom and "目标 ≤10秒 bound" in dom
    assert dom.count('<rect class="within"') > 10 and '<rect class="late"' in dom
    assert "无送达短信" not in dom
