"""The keys a config model accepts at a place, for "unknown key" messages with a suggestion.

pydantic reports an unknown key as ``extra_forbidden`` at its location; the
location is walked here through the model types (lists, optionals,
discriminated unions, whose tag pydantic puts in the location) to the model
that refused it, whose fields are the keys the operator could have meant.
"""

from __future__ import annotations

import difflib
import types
from typing import Annotated, Any, Literal, Sequence, Union, get_args, get_origin

from pydantic import BaseModel


def _unwrap(kind: Any) -> Any:
    """``Annotated[X, ...]`` -> X, repeatedly."""
    while get_origin(kind) is Annotated:
        kind = get_args(kind)[0]
    return kind


def _members(kind: Any) -> tuple[Any, ...]:
    """The members of a union (``X | None`` too), or ``(kind,)``."""
    kind = _unwrap(kind)
    if get_origin(kind) in (Union, types.UnionType):
        return tuple(_unwrap(m) for m in get_args(kind) if m is not type(None))
    return (kind,)


def _tag(model: type[BaseModel]) -> Any:
    """The ``type: Literal[...]`` value that selects ``model`` in a discriminated union."""
    field = model.model_fields.get("type")
    if field is None or get_origin(field.annotation) is not Literal:
        return None
    return get_args(field.annotation)[0]


def _step(kind: Any, part: Any) -> tuple[Any, bool]:
    """The type one location part leads to, and whether the part was a tag (not a key)."""
    for member in _members(kind):
        origin = get_origin(member)
        if isinstance(part, int) and origin in (tuple, list):
            return get_args(member)[0], False
        if isinstance(member, type) and issubclass(member, BaseModel):
            if isinstance(part, str) and part in member.model_fields:
                return member.model_fields[part].annotation, False
            if _tag(member) == part:
                return member, True
    return None, False


def model_at(root: type[BaseModel], loc: Sequence[Any]) -> type[BaseModel] | None:
    """The model validating the mapping at ``loc`` (pydantic's location, tags included)."""
    kind: Any = root
    for part in loc:
        kind, _ = _step(kind, part)
        if kind is None:
            return None
    models = [m for m in _members(kind) if isinstance(m, type) and issubclass(m, BaseModel)]
    return models[0] if len(models) == 1 else None


def unknown_key_message(root: type[BaseModel], loc: Sequence[Any]) -> str:
    """``unknown key 'listn' (did you mean 'listen'?)`` for an ``extra_forbidden`` error at ``loc``."""
    key = loc[-1]
    model = model_at(root, loc[:-1])
    message = f"unknown key {key!r}"
    if model is None:
        return message
    known = list(model.model_fields)
    close = difflib.get_close_matches(str(key), known, n=1, cutoff=0.6)
    if close:
        return f"{message} (did you mean {close[0]!r}?)"
    return f"{message}; known keys: {', '.join(known)}"


def error_message(root: type[BaseModel], error: Any) -> str:
    """The operator's text for one pydantic error (``ErrorDetails``) of a model rooted at ``root``."""
    if error["type"] == "extra_forbidden":
        return unknown_key_message(root, error["loc"])
    return str(error["msg"]).removeprefix("Value error, ")
