"""Bodies -> JSON documents, for every source, in a small pool of parsing threads.

One decoder (:func:`loads`) gives every source the same one-line reasons
(not UTF-8, malformed or truncated, nested too deep) instead of a traceback:
a document nested deeper than Python's recursion limit raises RecursionError
from the json module, which is bad input like any other, not a bug.

:func:`off_loop` runs a parse in :data:`PARSERS`, a pool of its own with two
threads, so a burst of large answers can neither stall the event loop on
Python-level work (record validation gives the GIL back every few
milliseconds) nor take the default executor's threads that the ledger and the
KPI loop use. Bodies are capped before they get here (collectors/http.py), so
a parse is bounded in time; a parse whose poll was cancelled before it started
never runs, and one already running ends within that bound.
"""

from __future__ import annotations

import asyncio
import functools
import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, TypeVar

T = TypeVar("T")

PARSERS = ThreadPoolExecutor(max_workers=2, thread_name_prefix="sla-parse")


class JsonProblem(ValueError):
    """The body is not usable JSON; the message is one line (no body text beyond the parser's position)."""


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def loads(body: bytes, *, allow_nan: bool = True) -> Any:
    """``body`` as JSON; JsonProblem with a one-line reason when it is not.

    ``allow_nan=False`` refuses NaN / Infinity, which are not JSON: a NaN
    capacity must never reach a KPI.
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise JsonProblem("malformed or truncated JSON (not UTF-8)") from None
    try:
        return json.loads(text, parse_constant=None if allow_nan else _reject_constant)
    except RecursionError:
        raise JsonProblem("JSON nested too deep") from None
    except ValueError as exc:
        reason = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
        raise JsonProblem(f"malformed or truncated JSON ({reason})") from None


async def off_loop(function: Callable[..., T], *args: Any) -> T:
    """``function(*args)`` in a parsing thread; cancelling the await drops it if it has not started."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(PARSERS, functools.partial(function, *args))
