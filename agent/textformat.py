"""The Prometheus text format (0.0.4), written straight from series, with each target's part kept.

Why not prometheus_client's ``generate_latest`` for /metrics: it rebuilds
every family and formats every sample on each scrape, which for 60,000 links
took most of a second holding the GIL. Here a target's lines are formatted
once, when its poll lands (agent/state.py), and a scrape only joins them
family by family: its cost is a join, not formatting. Values are written as
prometheus_client writes them (``floatToGoString``), labels escaped by the
text format's rules (once per run of samples sharing a label set), and a test checks
that both outputs parse to the same samples.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Iterable, Mapping

from agent import exposed
from agent.exposed import Series
from collectors.base import Labels

if TYPE_CHECKING:
    from agent.state import TargetStatus
from agent.metrics import METRICS

Fragments = Mapping[str, bytes]  # family name -> its lines, UTF-8 (each ending in a newline)
_TYPES = {"gauge": "gauge", "counter": "counter", "info": "gauge", "histogram": "histogram"}


def escape_label(value: str) -> str:
    """A label value as the text format writes it between quotes."""
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def family_of(sample_name: str) -> str:
    """The metric family a sample belongs to: its own name, or the histogram of a _bucket/_sum/_count."""
    if sample_name in METRICS:
        return sample_name
    for suffix in ("_bucket", "_sum", "_count"):
        base = sample_name[: -len(suffix)]
        if sample_name.endswith(suffix) and base in METRICS and METRICS[base].type == "histogram":
            return base
    raise KeyError(f"{sample_name} is not in agent.metrics")


def _label_text(labels: Labels) -> str:
    # Not remembered across calls: a target's lines are kept formatted, so a
    # cache of label texts would hold a second copy of them (10 MB for 60,000
    # links) to save formatting each link's labels once per poll.
    inner = ",".join(f'{key}="{escape_label(val)}"' for key, val in labels)
    return f"{{{inner}}}" if labels else ""


_INF, _MINUS_INF = float("inf"), float("-inf")


def go_float(value: float) -> str:
    """prometheus_client's ``floatToGoString`` (Go's spelling of a float), for a float, with fewer steps.

    It is most of the cost of formatting a line; tests/unit/test_textformat.py
    checks it against the original.
    """
    if value != value:
        return "NaN"
    if value == _INF:
        return "+Inf"
    if value == _MINUS_INF:
        return "-Inf"
    text = repr(value)
    dot = text.find(".")
    if dot > 6 and value > 0:  # Go switches to an exponent sooner than Python
        mantissa = f"{text[0]}.{text[1:dot]}{text[dot + 1:]}".rstrip("0.")
        return f"{mantissa}e+{dot - 1:02d}"
    return text


_FLOAT_TEXT: dict[float, str] = {}
# Whole values repeat poll after poll (a link's state, its capacity); a rate or an
# uptime in seconds is new at nearly every poll, and remembering those kept up to
# ~27 MB of texts at the full fleet only to clear them every other cycle.
_FLOAT_TEXT_LIMIT = 8192


def float_text(value: float) -> str:
    """``go_float(value)``, remembered for whole values, which repeat (1.0, a link's capacity)."""
    text = _FLOAT_TEXT.get(value)
    if text is None:
        text = go_float(value)
        # Not 0.0: -0.0 is equal to it and would share its text. NaN and infinities are not whole.
        if value and type(value) is float and value.is_integer():
            if len(_FLOAT_TEXT) >= _FLOAT_TEXT_LIMIT:
                _FLOAT_TEXT.clear()
            _FLOAT_TEXT[value] = text
    return text


_FAMILIES: dict[str, str] = {}  # sample name -> family, learnt as samples come


def _family(name: str) -> str:
    family = _FAMILIES.get(name)
    if family is None:
        family = _FAMILIES[name] = family_of(name)
    return family


def fragments(series: Iterable[Series]) -> dict[str, bytes]:
    """Series grouped into their families' lines."""
    lines: dict[str, list[str]] = {}
    last: Labels | None = None
    text = ""
    for name, labels, value in series:
        if labels is not last:  # a link's samples share one labels tuple: its text is formatted once
            text = _label_text(labels)
            last = labels
        family = _FAMILIES.get(name) or _family(name)
        # An int (a device's counter, as read) is written as an integer: exact where a
        # 64-bit counter beyond 2**53 would lose digits as a float, and cheaper.
        if type(value) is int:
            line = f"{name}{text} {value}\n"
        else:
            number = _FLOAT_TEXT.get(value) or float_text(value)
            line = f"{name}{text} {number}\n"
        parts = lines.get(family)
        if parts is None:
            lines[family] = [line]
        else:
            parts.append(line)
    return {family: "".join(parts).encode() for family, parts in lines.items()}


def target_fragments(target: "TargetStatus") -> dict[str, bytes]:
    """A target's lines: its health series (agent/exposed.py says which) and its samples, in one pass."""
    return fragments(itertools.chain(exposed.target_health(target), target.samples))


def header(family: str) -> bytes:
    """A family's HELP and TYPE lines."""
    spec = METRICS[family]
    help_text = spec.help.replace("\\", "\\\\").replace("\n", "\\n")
    return f"# HELP {family} {help_text}\n# TYPE {family} {_TYPES[spec.type]}\n".encode()


def render_chunks(parts: Iterable[Fragments]) -> list[bytes]:
    """Every part's families, each under one HELP/TYPE header: the exposition as the pieces it is made of.

    Not joined: the pieces are the targets' own bytes, so the /metrics handler
    writes them out without a copy of the whole text (27 MB for 300,000
    series) in memory.
    """
    by_family: dict[str, list[bytes]] = {}
    for part in parts:
        for family, text in part.items():
            by_family.setdefault(family, []).append(text)
    out: list[bytes] = []
    for family, texts in by_family.items():
        out.append(header(family))
        out.extend(texts)
    return out


def render(parts: Iterable[Fragments]) -> bytes:
    """The whole exposition as one bytes object."""
    return b"".join(render_chunks(parts))
