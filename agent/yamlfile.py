"""Reading user-written YAML files (the config, the manual values) strictly.

One loader for every file a person edits: duplicate keys are refused rather
than silently keeping the last, and every read or parse failure becomes one
``FILE: where: problem`` line in a ConfigError.

The document is built straight from the parser's events, as SafeLoader would
build it but without its node tree. Why: for a config of 60,000 links the
node tree (a node and two marks per scalar) peaked at about 190 MB, and the
strings the config keeps were scattered through it, so the freed tree could
not go back to the system: 180 MB of RSS stayed behind (docs/performance.md).
Built from events, each event is freed before the next is read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import yaml
from yaml.constructor import ConstructorError
from yaml.composer import ComposerError

from agent.schema import ConfigError

# libyaml's parser where PyYAML was built with it (its wheels are): ten times as fast.
_SAFE_LOADER: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_STR = "tag:yaml.org,2002:str"
_MERGE = "tag:yaml.org,2002:merge"
_COLLECTION_TAGS = {yaml.SequenceStartEvent: "tag:yaml.org,2002:seq", yaml.MappingStartEvent: "tag:yaml.org,2002:map"}
_NO_KEY = object()  # a mapping waiting for its next key


class UniqueKeyLoader(_SAFE_LOADER):  # type: ignore[misc, valid-type]
    """SafeLoader's parser, resolver and scalar constructors; the document is built by ``_build``."""


class _Open:
    """A sequence or mapping being filled, with what a mapping must remember until it ends."""

    __slots__ = ("value", "mark", "key", "key_mark", "own", "merges")

    def __init__(self, value: list | dict, mark: yaml.Mark) -> None:
        self.value, self.mark = value, mark
        self.key: Any = _NO_KEY
        self.key_mark: yaml.Mark | None = None
        self.own: set[Any] = set()  # keys written here, not merged: a second one is a duplicate
        self.merges: list[dict] = []  # the mappings of its ``<<`` keys, in order

    def wants_key(self) -> bool:
        return isinstance(self.value, dict) and self.key is _NO_KEY

    def add(self, value: Any, mark: yaml.Mark, is_merge_key: bool = False) -> None:
        if isinstance(self.value, list):
            self.value.append(value)
        elif self.key is _NO_KEY:
            self.key, self.key_mark = (_MERGE if is_merge_key else value), mark
        elif self.key is _MERGE:
            self._merge(value, mark)
        else:
            self._put(value)

    def _put(self, value: Any) -> None:
        key = self.key
        try:
            duplicate = key in self.own
        except TypeError:
            raise ConstructorError("while constructing a mapping", self.mark, "found unhashable key",
                                   self.key_mark) from None
        if duplicate:
            raise ConstructorError(None, None, f"duplicate key {key!r}", self.key_mark)
        self.own.add(key)
        assert isinstance(self.value, dict)
        self.value[key] = value
        self.key = _NO_KEY

    def _merge(self, value: Any, mark: yaml.Mark) -> None:
        sources = value if isinstance(value, list) else [value]
        for source in sources:
            if not isinstance(source, dict):
                expected = "a mapping for merging" if isinstance(value, list) else "a mapping or list of mappings for merging"
                raise ConstructorError("while constructing a mapping", self.mark, f"expected {expected}", mark)
        self.merges.extend(sources)
        self.key = _NO_KEY

    def close(self) -> list | dict:
        """The finished collection: a mapping's merged keys first, its own keys overriding them."""
        if self.merges:
            assert isinstance(self.value, dict)
            own = dict(self.value)
            self.value.clear()
            for source in reversed(self.merges):  # the first ``<<`` mapping listed wins among them
                self.value.update(source)
            self.value.update(own)
        return self.value


def _scalar(loader: UniqueKeyLoader, event: yaml.ScalarEvent, strings: dict[str, str]) -> tuple[Any, bool]:
    """A scalar's value, and whether it is the merge key ``<<``.

    Equal strings are one object (``strings``): a config repeats its keys,
    device names and interface names once per link.
    """
    tag = event.tag
    if tag is None or tag == "!":
        tag = loader.resolve(yaml.ScalarNode, event.value, event.implicit)
    if tag == _STR:
        return strings.setdefault(event.value, event.value), False
    if tag == _MERGE:
        return None, True
    construct: Callable[..., Any] | None = loader.yaml_constructors.get(tag)
    if construct is None:
        raise ConstructorError(None, None, f"could not determine a constructor for the tag {tag!r}", event.start_mark)
    node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)
    return construct(loader, node), False


def _check_collection_tag(event: yaml.CollectionStartEvent) -> None:
    if event.tag not in (None, "!", _COLLECTION_TAGS[type(event)]):
        raise ConstructorError(None, None, f"could not determine a constructor for the tag {event.tag!r}",
                               event.start_mark)


def _build(loader: UniqueKeyLoader) -> Any:
    """The single document of the stream, from its events; a loop, not recursion, so any depth is fine."""
    loader.get_event()  # stream start
    if loader.check_event(yaml.StreamEndEvent):
        return None
    document_mark = loader.get_event().start_mark
    anchors: dict[str, Any] = {}
    strings: dict[str, str] = {}
    stack: list[_Open] = []
    while True:
        event = loader.get_event()
        kind = type(event)
        is_merge_key = False
        if kind is yaml.ScalarEvent:
            value, is_merge_key = _scalar(loader, event, strings)
            if is_merge_key and not (stack and stack[-1].wants_key()):  # ``<<`` as a value: SafeLoader refuses it too
                raise ConstructorError(None, None, f"could not determine a constructor for the tag {_MERGE!r}",
                                       event.start_mark)
            mark = event.start_mark
        elif kind is yaml.AliasEvent:
            if event.anchor not in anchors:
                raise ComposerError(None, None, "found undefined alias", event.start_mark)
            value, mark = anchors[event.anchor], event.start_mark
        elif kind is yaml.SequenceStartEvent or kind is yaml.MappingStartEvent:
            _check_collection_tag(event)
            opened = _Open([] if kind is yaml.SequenceStartEvent else {}, event.start_mark)
            if event.anchor is not None:
                anchors[event.anchor] = opened.value
            stack.append(opened)
            continue
        elif kind is yaml.SequenceEndEvent or kind is yaml.MappingEndEvent:
            closed = stack.pop()
            value, mark = closed.close(), closed.mark
        else:  # a document always holds a node (an empty one is a null scalar)
            raise ComposerError(None, None, f"unexpected {kind.__name__}", event.start_mark)
        if kind is yaml.ScalarEvent and event.anchor is not None:
            anchors[event.anchor] = value
        if not stack:
            document = value
            loader.get_event()  # document end
            break
        stack[-1].add(value, mark, is_merge_key)
    if not loader.check_event(yaml.StreamEndEvent):
        raise ComposerError("expected a single document in the stream", document_mark,
                            "but found another document", loader.get_event().start_mark)
    return document


def load_text(text: str, source: str) -> Any:
    """Parse YAML text; a syntax error is a ConfigError naming line and column."""
    loader = UniqueKeyLoader(text)
    try:
        return _build(loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(top level)"
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError([f"{source}: {where}: invalid YAML: {problem}"]) from None
    finally:
        loader.dispose()


def read_yaml(path: Path) -> Any:
    """Read and parse a UTF-8 YAML file; any failure is a one-line ConfigError."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read: {exc.strerror}"]) from None
    except UnicodeDecodeError:
        raise ConfigError([f"{path}: not UTF-8 text"]) from None
    return load_text(text, str(path))
