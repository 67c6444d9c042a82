"""Where a py-spy profile's time went, by the project's own module that caused it.

    python bench/profile_summary.py PROFILE.txt [--top 25] [--leaf]

PROFILE.txt is py-spy's raw (collapsed) output, e.g. from ``BENCH_PROFILE=DIR bench/run``.
Each sample is charged to the innermost frame in agent/ or collectors/ (the
project's code that asked for the work, library time included), or with
``--leaf`` to the innermost frame of any file. Shares are of the busy samples.
"""

from __future__ import annotations

import argparse
import collections
import re
import sys
from pathlib import Path

_FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^()]*?)(?::\d+)?\)$")
_OWN = re.compile(r"(?:^|/)((?:agent|collectors)/[\w/]+\.py)$")


def charge(stack: str, leaf: bool) -> str:
    frames = stack.split(";")
    for frame in reversed(frames):
        match = _FRAME.match(frame)
        if match is None:
            continue
        if leaf:
            return f"{Path(match['file']).name}:{match['function']}"
        own = _OWN.search(match["file"])
        if own:
            return f"{own.group(1)}:{match['function']}"
    return "(outside agent/ and collectors/: event loop, threads)"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("profile", type=Path)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--leaf", action="store_true")
    args = parser.parse_args()
    totals: collections.Counter[str] = collections.Counter()
    for line in args.profile.read_text(encoding="utf-8").splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            totals[charge(stack, args.leaf)] += int(count)
    busy = sum(totals.values())
    if not busy:
        print(f"{args.profile}: no samples", file=sys.stderr)
        return 1
    print(f"{busy} busy samples")
    for where, count in totals.most_common(args.top):
        print(f"{100 * count / busy:5.1f} %  {where}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
