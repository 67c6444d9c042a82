"""Completeness of a cursor-based delivery-record feed: which feed time is known read without a gap (pure).

The SMS KPIs' coverage is not the agent's uptime. The feed is a log the agent
reads from its cursor, so time the agent (or the gateway) was away is covered
once the cursor has caught up over it, and only a *gap* - feed time whose
records may never have been read - is uncovered.

Feed time is when a record entered the gateway's feed, as far as the agent can
tell: the feed is served in order of entry and no record enters before its own
time (``Record.event_ms``), so after a page whose newest record time is T every
record that entered before T has been read; once a page says the feed is caught
up, every record that entered before the request was sent has been read (the
gateway answered after that). That point is the page's *complete point*.

The agent keeps a *run*: feed time read without a gap up to ``Run.complete_ms``.

* A page read from the cursor goes on from the run's complete point to its own.
* The first read asks ``since`` = ``backfill`` before now: nothing before that is
  covered, and within it only what the feed shows it still holds: the run starts
  just after the first record returned (the gateway may keep less than
  ``backfill``), or at the request itself when there is none.
* A read that goes on by time (a gateway that gave no cursor) asks ``since`` =
  feed time - ``margin`` and starts a run there: the margin is read again and
  nothing says a record was dropped. Had the run stood before ``since``, the
  time between would be a gap.
* A cursor reset breaks the run at the request that revealed it (``Reset``).
  ``410 Gone`` on the same feed: the records after the cursor may have been
  dropped (retention). The re-read from ``margin`` before the feed time shows how
  far back the feed still reaches - its first record: before the run's complete
  point, the overlap shows nothing was dropped and there is no gap; later, the
  time from the complete point to just after that record (at most to the reset)
  is a gap. A feed of another ``epoch`` (rebuilt, failed over; also a 410 whose
  re-read shows a new epoch) is another log: what the old one held after the
  run's complete point cannot be checked against it, so the gap runs to the reset.

Everything here is integer milliseconds; the agent's clock and the gateway's are
taken to agree (NTP). collectors/sms/coverage_table.py keeps runs and spans in the
ledger, in the transaction of the page they come from.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Sequence

Span = tuple[int, int]  # [start, end) of feed time, ms

GONE, EPOCH = "gone", "epoch"  # kinds of reset: 410 for the cursor; a feed of another epoch


@dataclass(frozen=True, slots=True)
class Run:
    """The feed time read without a gap up to the cursor, as the ledger keeps it per gateway."""

    complete_ms: int | None = None  # read without a gap up to here; None before the first read
    reset_ms: int | None = None  # agent time of a reset not yet followed by a re-read
    reset_kind: str | None = None  # GONE or EPOCH, with reset_ms


@dataclass(frozen=True, slots=True)
class Reset:
    """The gateway broke the run: ``kind`` GONE or EPOCH, seen by the request sent at ``at_ms``."""

    kind: str
    at_ms: int


@dataclass(frozen=True, slots=True)
class Read:
    """What one committed page of the feed says about its completeness."""

    asked_ms: int  # agent clock just before the request
    since_ms: int | None  # the request's ``since``; None for ``after=<cursor>``
    first_ms: int | None  # time of the page's first usable record
    complete_ms: int | None  # the page's complete point; None when it shows nothing (no records, more to come)
    new_epoch: bool = False  # the page's epoch is not the one stored


@dataclass(frozen=True, slots=True)
class Step:
    """What a page or a reset does to the record: the new run, the span now covered, the gap it leaves."""

    run: Run
    span: Span | None = None
    gap: Span | None = None


def read_of(asked_ms: int, since_ms: int | None, event_times: Sequence[int], caught_up: bool,
            new_epoch: bool = False) -> Read:
    """The Read of a page whose usable records have ``event_times`` (in feed order)."""
    if caught_up:
        complete: int | None = asked_ms
    elif event_times:
        # A gateway clock a little ahead must not claim time the agent has not reached.
        complete = min(max(event_times), asked_ms)
    else:
        complete = None
    return Read(asked_ms, since_ms, event_times[0] if event_times else None, complete, new_epoch)


def after_reset(run: Run, reset: Reset) -> Step:
    """A reset before the re-read: the run ends where it stood; the re-read decides the gap."""
    if run.reset_ms is not None:  # a second reset before any re-read: the first one's time stands
        kind = EPOCH if EPOCH in (run.reset_kind, reset.kind) else GONE
        return Step(replace(run, reset_kind=kind))
    return Step(replace(run, reset_ms=reset.at_ms, reset_kind=reset.kind))


def _start(run: Run, read: Read, resume_ms: int | None) -> int:
    """Where the feed time that ``read`` vouches for begins."""
    if read.since_ms is None:
        if run.complete_ms is not None:
            return run.complete_ms  # the cursor goes on from where the run stood
        # A cursor but no run: a ledger from before runs were kept. Only what the cursor
        # reads from its stored feed time on is known.
        return resume_ms if resume_ms is not None else (read.complete_ms or read.asked_ms)
    reset_ms, kind = run.reset_ms, run.reset_kind
    if read.new_epoch:
        reset_ms, kind = (reset_ms if reset_ms is not None else read.asked_ms), EPOCH
    if reset_ms is not None and kind == EPOCH:
        return reset_ms  # another log: nothing of the old one after the run can be checked
    if reset_ms is None:
        if run.complete_ms is not None:
            return read.since_ms  # reading on by time, the margin re-read: nothing says a record was lost
        if resume_ms is not None:
            return resume_ms  # read by time on a ledger from before runs were kept
    # The first read, or the re-read after a 410: the feed may not reach back to ``since``
    # (retention). It does reach back to its first record, and nothing that entered after that
    # was dropped (records of the same millisecond before it may have been). Time from the
    # break on - the reset, or the first request - is read whatever the feed held before.
    bound = reset_ms if reset_ms is not None else read.asked_ms
    return bound if read.first_ms is None else min(bound, max(read.since_ms, read.first_ms + 1))


def advance(run: Run, read: Read, resume_ms: int | None = None) -> Step:
    """The run after committing ``read``; ``resume_ms`` is the feed time stored before it (older ledgers)."""
    start = _start(run, read, resume_ms)
    end = read.complete_ms
    span = (start, end) if end is not None and end > start else None
    gap = (run.complete_ms, start) if run.complete_ms is not None and start > run.complete_ms else None
    return Step(Run(start if end is None else max(start, end)), span, gap)


def apply(run: Run, event: Read | Reset, resume_ms: int | None = None) -> Step:
    return after_reset(run, event) if isinstance(event, Reset) else advance(run, event, resume_ms)

