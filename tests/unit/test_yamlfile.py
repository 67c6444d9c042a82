"""agent/yamlfile.py builds documents from parser events: the same values as PyYAML's SafeLoader.

SafeLoader (pure Python, node tree and all) is the reference: every document
here must load to an equal value, and every broken one must fail with one
``line L, column C: invalid YAML: ...`` line.
"""

from __future__ import annotations

import datetime

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.schema import ConfigError
from agent.yamlfile import load_text

DOCUMENTS = {
    "empty": "",
    "explicit empty": "---\n...\n",
    "scalar": "42\n",
    "scalars": "a: 1\nb: 1.5\nc: .inf\nd: ~\ne: true\nf: 'true'\ng: 0x1F\nh: 1_000\ni: -.5e3\nj: null\nk: ''\n",
    "dates": "day: 2026-12-01\nat: 2026-12-01T08:00:00+08:00\nquoted: '2026-12-01'\n",
    "explicit tags": "a: !!str 5\nb: !!int '7'\nc: !!float 1\nd: !!binary aGk=\ne: !!null ''\nf: !!bool yes\n",
    "non-specific tag": "a: ! 5\nb: ! [1]\n",
    "explicit collection tags": "a: !!map {x: 1}\nb: !!seq [1, 2]\n",
    "block and flow": "a:\n  - {x: 1, y: [1, 2, {z: 3}]}\n  - - nested\n    - list\nb: |\n  two\n  lines\nc: >\n  folded\n  text\n",
    "unicode": "名称: 深i您亮码稳定率\n'quoted key': \"\\u00e9\\t\"\n",
    "anchors": "base: &b {x: 1, y: [1, 2]}\nsame: *b\nlist: &l [a, b]\nagain: *l\nscalar: &s hello\necho: *s\n",
    "merge": "base: &b {x: 1, y: 2}\nchild:\n  <<: *b\n  y: 3\n  z: 4\n",
    "merge list": "a: &a {x: 1, y: 1}\nb: &b {y: 2, z: 2}\nc:\n  <<: [*a, *b]\n  w: 0\n",
    "merge before and after own keys": "a: &a {x: 1, y: 1}\nc:\n  y: 5\n  <<: *a\n",
    "nested merge": "a: &a {x: 1}\nb: &b\n  <<: *a\n  y: 2\nc:\n  <<: *b\n  z: 3\n",
    "merge in a list item": "- &r {name: rt1, address: 192.0.2.1}\n- <<: *r\n  name: rt2\n",
    "complex scalars as keys": "7: seven\n2.5: two\ntrue: yes\n~: none\n2026-01-01: day\n",
    "top-level list": "- 1\n- [2, 3]\n- {a: b}\n",
}


@pytest.mark.parametrize("text", DOCUMENTS.values(), ids=DOCUMENTS.keys())
def test_documents_load_as_safeloader_loads_them(text: str) -> None:
    assert load_text(text, "f.yaml") == yaml.load(text, Loader=yaml.SafeLoader)  # noqa: S506 - the reference


def test_an_alias_is_the_anchored_object_itself() -> None:
    data = load_text("a: &x [1]\nb: *x\n", "f.yaml")
    assert data["a"] is data["b"]


def test_merged_keys_come_first_and_own_keys_override() -> None:
    data = load_text("a: &a {x: 1, y: 1}\nc:\n  y: 5\n  <<: *a\n  z: 0\n", "f.yaml")
    assert list(data["c"].items()) == [("x", 1), ("y", 5), ("z", 0)]


def test_deep_nesting_loads_up_to_the_parsers_limit_and_fails_with_one_line_beyond() -> None:
    depth = 900  # the builder is a loop: Python's recursion limit (1000) plays no part
    assert load_text("[" * depth + "]" * depth, "f.yaml") == _nested(depth)
    if not yaml.__with_libyaml__:
        return  # PyYAML's own parser has no depth limit
    with pytest.raises(ConfigError) as raised:
        load_text("[" * 5_000 + "]" * 5_000, "f.yaml")
    assert raised.value.problems == ["f.yaml: line 1, column 1001: invalid YAML: exceeded maximum nesting depth"]


def _nested(depth: int) -> list:
    value: list = []
    for _ in range(depth - 1):
        value = [value]
    return value


SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                    st.text(max_size=12), st.dates(), st.datetimes(timezones=st.just(datetime.timezone.utc)))
KEYS = st.one_of(st.text(max_size=8), st.integers(), st.booleans())
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                        st.dictionaries(KEYS, inner, max_size=4)), max_leaves=20)


@settings(max_examples=150, deadline=None)
@given(VALUES, st.booleans())
def test_dumped_values_load_back_as_safeloader_loads_them(value: object, flow: bool) -> None:
    text = yaml.safe_dump(value, default_flow_style=flow, allow_unicode=True)
    assert load_text(text, "f.yaml") == yaml.load(text, Loader=yaml.SafeLoader)  # noqa: S506 - the reference


BROKEN = {
    "duplicate key": ("a: 1\nb: 2\na: 3\n", "line 3, column 1: invalid YAML: duplicate key 'a'"),
    "duplicate in a nested mapping": ("x:\n  - {k: 1, k: 2}\n", "line 2, column 12: invalid YAML: duplicate key 'k'"),
    "unhashable key": ("? [a, b]\n: 1\n", "line 1, column 3: invalid YAML: found unhashable key"),
    "undefined alias": ("x: *nope\n", "line 1, column 4: invalid YAML: found undefined alias"),
    "two documents": ("a: 1\n---\nb: 2\n", "line 2, column 1: invalid YAML: but found another document"),
    "unknown scalar tag": ("a: !foo x\n", "line 1, column 4: invalid YAML: could not determine a constructor "
                                          "for the tag '!foo'"),
    "unsupported collection tag": ("a: !!set {x}\n", "line 1, column 4: invalid YAML: could not determine a "
                                                     "constructor for the tag 'tag:yaml.org,2002:set'"),
    "merge of a scalar": ("<<: 1\n", "line 1, column 5: invalid YAML: expected a mapping or list of mappings "
                                     "for merging"),
    "merge of a list of scalars": ("<<: [1]\n", "line 1, column 5: invalid YAML: expected a mapping for merging"),
    "merge key as a value": ("a: <<\n", "line 1, column 4: invalid YAML: could not determine a constructor "
                                        "for the tag 'tag:yaml.org,2002:merge'"),
    "syntax": ("a: [1, 2\n", "line 2, column 1: invalid YAML: did not find expected ',' or ']'"),
}


@pytest.mark.parametrize(("text", "expected"), BROKEN.values(), ids=BROKEN.keys())
def test_broken_documents_fail_with_one_line(text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_text(text, "f.yaml")
    assert raised.value.problems == [f"f.yaml: {expected}"]


def test_a_duplicate_key_merged_in_is_not_a_duplicate() -> None:
    assert load_text("a: &a {x: 1}\nb:\n  <<: *a\n  x: 2\n", "f.yaml")["b"] == {"x": 2}
