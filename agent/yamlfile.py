"""Reading user-written YAML files (the config, the manual values) strictly.

One loader for every file a person edits: duplicate keys are refused rather
than silently keeping the last, and every read or parse failure becomes one
``FILE: where: problem`` line in a ConfigError.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from agent.schema import ConfigError


# libyaml's parser where PyYAML was built with it (its wheels are): a config of
# 60,000 links parses in a tenth of the time, and the pure-Python parser's
# transient objects left about 270 MB of RSS behind (docs/performance.md).
_SAFE_LOADER: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class UniqueKeyLoader(_SAFE_LOADER):  # type: ignore[misc, valid-type]
    """SafeLoader that refuses duplicate keys instead of silently keeping the last."""


def _construct_mapping(loader: UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    own: set[Any] = set()
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key = loader.construct_object(key_node, deep=deep)
        try:
            duplicate = key in own
        except TypeError:
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping", node.start_mark, "found unhashable key", key_node.start_mark
            ) from None
        if duplicate:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        own.add(key)
    # Merge keys (<<: *anchor) are flattened first, so explicit keys override merged ones.
    loader.flatten_mapping(node)
    return dict(loader.construct_pairs(node, deep=deep))


UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def load_text(text: str, source: str) -> Any:
    """Parse YAML text; a syntax error is a ConfigError naming line and column."""
    try:
        return yaml.load(text, Loader=UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(top level)"
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError([f"{source}: {where}: invalid YAML: {problem}"]) from None


def read_yaml(path: Path) -> Any:
    """Read and parse a UTF-8 YAML file; any failure is a one-line ConfigError."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read: {exc.strerror}"]) from None
    except UnicodeDecodeError:
        raise ConfigError([f"{path}: not UTF-8 text"]) from None
    return load_text(text, str(path))
