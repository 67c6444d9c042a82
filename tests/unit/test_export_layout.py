"""The bundled layout of table 12: complete, verbatim, and consistent with the catalogue."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from agent.catalogue import BY_ID, CATALOGUE
from agent.export.layout import parse_layout, table12
from agent.schema import ConfigError

SEED = Path(__file__).resolve().parents[3] / "shared" / "seed" / "000_7c0dc5f578f8076f.txt"


def test_every_row_of_table_12_in_order():
    rows = table12()
    # 43 indicators; 云资源服务能力规模 has three targets, so three rows.
    assert len(rows) == 45
    assert len({r.name for r in rows}) == 43
    assert [r.level1 for r in rows][:1] == ["产出指标"] and rows[-1].level1 == "满意度"
    assert [r.name for r in rows[:3]] == ["出口可用宽带", "技术服务维保数理数量", "安全服务项数"]
    assert rows[-1].name == "市民的对“深 i 您”使用满意度"
    groups = []
    for r in rows:
        if not groups or groups[-1] != (r.level1, r.level2):
            groups.append((r.level1, r.level2))
    assert groups == [("产出指标", "数量指标"), ("产出指标", "质量指标"), ("产出指标", "时效"), ("成本", ""),
                      ("效益", "社会效益"), ("满意度", "服务对象满意度")]


@pytest.mark.skipif(not SEED.is_file(), reason="the seed document is in shared/, beside the repository")
def test_names_and_targets_are_verbatim_from_the_seed():
    text = re.sub(r"<[^>]+>", "\n", SEED.read_text(encoding="utf-8"))
    for row in table12():
        assert row.name in text, row.name
        assert row.target_text in text, row.target_text


def test_measured_rows_name_catalogue_kpis_and_every_catalogue_kpi_has_a_row():
    rows = table12()
    referenced = {r.kpi for r in rows if r.kpi}
    assert referenced <= set(BY_ID)
    for kpi in CATALOGUE:
        assert kpi.id in referenced or any(r.name == kpi.name_zh for r in rows), kpi.id
    cloud = [r for r in rows if r.name == "云资源服务能力规模"]
    assert [r.kpi for r in cloud] == ["cloud_vcpu_capacity", "cloud_memory_capacity", "cloud_storage_capacity"]


def test_bad_layouts_are_reported_one_line_per_problem():
    with pytest.raises(ConfigError) as err:
        parse_layout({"rows": [
            {"id": "a", "level1": "x", "level2": "y", "name": "n", "name_en": "n", "target_text": "t", "kind": "count"},
            {"id": "a", "level1": "x", "level2": "y", "name": "n", "name_en": "n", "target_text": "t", "colour": 1},
        ]}, "t.yaml")
    assert err.value.problems == [
        "t.yaml: rows[0]: a count row needs a machine-readable target",
        "t.yaml: rows[1].colour: unknown key 'colour'; known keys: id, level1, level2, name, name_en, part, part_en, "
        "target_text, kpi, period, kind, target, aggregate, prorate, milestones, suffix",
    ]
