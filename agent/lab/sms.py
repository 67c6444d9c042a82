"""A simulated government SMS gateway on 127.0.0.1 (aiohttp), serving the delivery-record feed.

It speaks the feed API of docs/sms.md: ``GET /v1/delivery-records`` with
``after=<cursor>`` or ``since=<ms>`` and ``limit``, ``Authorization: Bearer``;
and the submit API the canary uses: ``POST /v1/messages`` (``{"to", "text"}``
-> ``201 {"id"}``) and ``GET /v1/messages/{id}`` (the message's current record).

Traffic (:class:`Traffic`): messages arrive as a Poisson stream at ``rate``
per second. Each enters the feed as ``pending`` at submit and again with its
final status when its report arrives: delivered after a log-normal latency
with a Pareto long tail (minutes to hours), failed with a carrier error code,
expired, or never (no report: it stays pending until the agent's grace runs
out). Some final records enter the feed *before* the pending one
(out-of-order), some twice (duplicates); late reports naturally land long
after their submit, across month ends.

Knobs: :meth:`publish` (a fixed record set, raw dicts, junk included),
:meth:`fail_next`, :meth:`malformed_next`, :meth:`go_down` /
:meth:`come_back` (unreachable, then back on the same port),
:meth:`reset_feed` (new epoch: old cursors get 410, or are silently taken
as positions in the new feed), ``retention`` (older cursors get 410).

Submitted messages (the canary's) are real messages: they enter the feed as
``pending`` at once and with their final record after a latency drawn as for
the generated traffic (outcome by the traffic's shares), or as fixed by
``canary_latency`` (seconds, or a ``(low, high)`` range drawn uniformly) and
``canary_outcome`` (``delivered``, ``failed``, ``expired`` or ``never``).
The final record is released on the event loop's own timer, so it comes
``canary_latency`` of real time after the submit whatever ``clock`` says.
Knobs: :meth:`fail_submit_next`, :meth:`fail_status_next`; ``submissions``
keeps what was submitted.
"""

from __future__ import annotations

import asyncio
import bisect
import heapq
import json
import math
import random
import secrets
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any, Callable, TypedDict

from aiohttp import web

HOST = "127.0.0.1"
DEMO_SMS_ENV = "SLA_DEMO_SMS_KEY"
DEMO_PROBE_ENV = "SLA_DEMO_SMS_PROBE"  # the canary's probe number in the demo configs


class CanaryBehaviour(TypedDict, total=False):
    """SmsLab's keyword arguments for submitted (canary) messages, as ``SmsLab(**behaviour)``."""

    canary_latency: float | tuple[float, float] | None
    canary_outcome: str | None


# The demo's canary messages: delivered after 1-4 s (the first probe shows within seconds).
DEMO_CANARY: CanaryBehaviour = {"canary_latency": (1.0, 4.0), "canary_outcome": "delivered"}

CANARY_OUTCOMES = ("delivered", "failed", "expired", "never")

# Carrier and SMPP error codes a Chinese SMS platform sees, with rough weights.
ERROR_CODES = (("UNDELIV", 30), ("MK:0001", 20), ("DB:0141", 15), ("MI:0013", 10), ("REJECTD", 10),
               ("ID:0076", 8), ("MB:1042", 5), ("DELETED", 2))


@dataclass(frozen=True)
class Traffic:
    """The generated stream. Shares are of all messages; latencies in seconds."""

    rate: float = 20.0
    delivered: float = 0.985
    expired: float = 0.002
    silent: float = 0.0005  # no report ever
    latency_median: float = 2.0
    latency_sigma: float = 0.55
    tail: float = 0.01  # share of deliveries from the long tail
    tail_min: float = 10.0
    tail_alpha: float = 1.1
    tail_max: float = 48 * 3600.0
    duplicates: float = 0.01  # feed entries served twice
    out_of_order: float = 0.02  # final records that enter the feed before the pending one
    seed: int = 4

    def latency(self, rng: random.Random) -> float:
        if rng.random() < self.tail:
            return min(self.tail_max, self.tail_min * (1 - rng.random()) ** (-1 / self.tail_alpha))
        return math.exp(rng.gauss(math.log(self.latency_median), self.latency_sigma))


@dataclass
class _Fault:
    kind: str
    count: int
    status: int = 500
    mode: str = "garbage"


@dataclass
class SmsLab:
    """Async context manager serving the simulated gateway; see the module docstring."""

    traffic: Traffic | None = field(default_factory=Traffic)  # None: only what publish() adds
    api_key: str = "lab-sms-S3cret"
    probe_number: str = "+8613800138000"  # what the demo's canary sends to (a secret in the config)
    port: int = 0  # 0: a free port (kept across go_down / come_back)
    retention: int = 200_000  # feed entries kept; an older cursor is answered 410 Gone
    max_limit: int = 5000
    tick: float = 0.1
    autorun: bool = True  # False: traffic advances only when a test calls advance()
    clock: Callable[[], float] = time.time  # stamps published entries (tests pass their fake clock)
    # Submitted messages: None draws as for the traffic; see the module docstring.
    canary_latency: float | tuple[float, float] | None = None
    canary_outcome: str | None = None  # delivered / failed / expired / never; None: the traffic's shares

    def __post_init__(self) -> None:
        self.epoch = secrets.token_hex(4)
        # Feed positions: entry number ``_base + i`` of this epoch is ``_entries[i]``; cursor
        # ``<epoch>.<n>`` means "after the first n entries". reset_feed() renumbers from 0.
        self._base = 0  # number of the oldest entry kept
        # Entries as JSON text (a few hundred bytes each, served without re-encoding),
        # in lists rather than deques: pages are slices and `since` bisects.
        self._entries: list[str] = []
        self._times: list[int] = []  # when each entry entered the feed, ms (nondecreasing)
        self._faults: list[_Fault] = []
        self._stale_cursors = "gone"
        self._old_epochs: set[str] = set()
        self._rng = random.Random(self.traffic.seed if self.traffic else 0)
        self._due: list[tuple[int, int, dict[str, Any], dict[str, Any] | None]] = []  # (at, n, final, held pending)
        self._next_arrival: float | None = None
        self._messages = 0  # numbers message ids and breaks ties in _due: never reset, so ids never repeat
        self._runner: web.AppRunner | None = None
        self._generator: asyncio.Task[None] | None = None
        self.requests: deque[tuple[str, int]] = deque(maxlen=10_000)
        self.generated = 0  # messages submitted by the traffic generator
        self.visible = 0  # of them, those with at least one record in the feed
        self.released: Counter[str] = Counter()  # final statuses that entered the feed, once per message
        if self.canary_outcome not in (None, *CANARY_OUTCOMES):
            raise ValueError(f"unknown canary_outcome {self.canary_outcome!r}")
        self._canary_rng = random.Random((self.traffic.seed if self.traffic else 0) + 1)
        self._status: dict[str, dict[str, Any]] = {}  # submitted message id -> its current record
        self._timers: set[asyncio.TimerHandle] = set()
        self.submissions: deque[dict[str, Any]] = deque(maxlen=1000)  # {"id", "to", "text"} as submitted

    # -- lifecycle ---------------------------------------------------------

    async def __aenter__(self) -> "SmsLab":
        await self._serve()
        if self.traffic is not None and self.traffic.rate > 0 and self.autorun:
            self._generator = asyncio.create_task(self._generate(), name="sms-lab-traffic")
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._generator is not None:
            self._generator.cancel()
            try:
                await self._generator
            except asyncio.CancelledError:
                pass
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
        await self.go_down()

    async def _serve(self) -> None:
        app = web.Application()
        app.router.add_get("/v1/delivery-records", self._records)
        app.router.add_post("/v1/messages", self._submit_message)
        app.router.add_get("/v1/messages/{id}", self._message_status)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await runner.setup()
        site = web.TCPSite(runner, HOST, self.port)
        await site.start()
        self._runner = runner
        self.port = int(runner.addresses[0][1])

    async def go_down(self) -> None:
        """Stop listening (connections are refused); the traffic and the feed go on."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def come_back(self) -> None:
        """Listen again on the same port."""
        if self._runner is None:
            await self._serve()

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def gateway_config(self, name: str = "gov-sms", **overrides: Any) -> dict[str, Any]:
        """An ``sms:`` list entry for this lab, API key included (literal)."""
        return {"name": name, "url": self.url, "api_key": self.api_key, **overrides}

    def demo_env(self) -> dict[str, str]:
        return {DEMO_SMS_ENV: self.api_key, DEMO_PROBE_ENV: self.probe_number}

    # -- knobs -------------------------------------------------------------

    def publish(self, records: list[Any], at_ms: int | None = None) -> None:
        """Append raw records (any JSON, junk included) to the feed, in order, as arriving now (or at ``at_ms``)."""
        when = at_ms if at_ms is not None else int(self.clock() * 1000)
        for record in records:
            self._append(record, when)

    def fail_next(self, status: int, count: int = 1) -> None:
        """Answer the next ``count`` feed requests with ``status``."""
        self._faults.append(_Fault("status", count, status=status))

    def fail_submit_next(self, status: int, count: int = 1) -> None:
        """Answer the next ``count`` submits (``POST /v1/messages``) with ``status``; nothing is sent."""
        self._faults.append(_Fault("submit", count, status=status))

    def fail_status_next(self, status: int, count: int = 1) -> None:
        """Answer the next ``count`` status requests (``GET /v1/messages/{id}``) with ``status``."""
        self._faults.append(_Fault("message_status", count, status=status))

    def malformed_next(self, count: int = 1, mode: str = "garbage") -> None:
        """``garbage``: not JSON; ``truncated``: the page cut in half; ``shape``: JSON of the wrong shape."""
        if mode not in ("garbage", "truncated", "shape"):
            raise ValueError(f"unknown mode {mode!r}")
        self._faults.append(_Fault("malformed", count, mode=mode))

    def reset_feed(self, stale_cursors: str = "gone") -> None:
        """Rebuild the feed under a new epoch, entries numbered from 0 again (message ids go on).

        ``stale_cursors="gone"``: a cursor of the old feed gets 410 Gone;
        ``"reuse"``: it is taken as a position in the new feed (a careless
        gateway), which only the new ``epoch`` in the answer reveals.
        """
        self._old_epochs.add(self.epoch)
        self.epoch = secrets.token_hex(4)
        self._stale_cursors = stale_cursors
        self._base = 0  # only the feed positions start again; message ids go on
        entries = list(self._entries)
        times = list(self._times)
        self._entries.clear()
        self._times.clear()
        for text, when in zip(entries, times):
            self._append_text(text, when)

    @property
    def size(self) -> int:
        return self._base + len(self._entries)

    # -- the feed ----------------------------------------------------------

    def _append(self, entry: Any, when_ms: int) -> None:
        self._append_text(json.dumps(entry, separators=(",", ":")), when_ms)

    def _append_text(self, text: str, when_ms: int) -> None:
        if self._times and when_ms < self._times[-1]:
            when_ms = self._times[-1]  # entry times never go back: `since` bisects on them
        self._entries.append(text)
        self._times.append(when_ms)
        if len(self._entries) > self.retention * 5 // 4:  # trim in steps: amortised O(1) per entry
            drop = len(self._entries) - self.retention
            del self._entries[:drop], self._times[:drop]
            self._base += drop

    def entries(self) -> list[str]:
        """The feed entries kept, oldest first, as JSON text."""
        return list(self._entries)

    def _cursor(self, position: int) -> str:
        """The cursor of the point after the first ``position`` entries (``0``: before the first)."""
        return f"{self.epoch}.{position}"

    def _position(self, cursor: str) -> int | None:
        """Number of the first entry after ``cursor``; None when it is unknown (410)."""
        epoch, _, seq = cursor.rpartition(".")
        if not seq.isdigit():
            return None
        if epoch != self.epoch and not (epoch in self._old_epochs and self._stale_cursors == "reuse"):
            return None
        position = int(seq)
        if position < self._base or position > self.size:
            return None
        return position

    async def _records(self, request: web.Request) -> web.Response:
        response = self._answer(request)
        self.requests.append((request.path_qs, response.status))
        return response

    def _answer(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return web.json_response({"error": "invalid api key"}, status=401)
        fault = self._take("status")
        if fault is not None:
            return web.json_response({"error": "simulated failure"}, status=fault.status)
        try:
            limit = max(1, min(self.max_limit, int(request.query.get("limit", "1000"))))
        except ValueError:
            return web.json_response({"error": "bad limit"}, status=400)
        if "after" in request.query:
            start = self._position(request.query["after"])
            if start is None:
                return web.json_response({"error": "unknown or expired cursor"}, status=410)
        elif "since" in request.query:
            try:
                since = int(request.query["since"])
            except ValueError:
                return web.json_response({"error": "bad since"}, status=400)
            start = self._base + bisect.bisect_left(self._times, since)
        else:
            start = self._base
        stop = min(self.size, start + limit)
        records = "[" + ",".join(self._entries[start - self._base:stop - self._base]) + "]"
        cursor = json.dumps(self._cursor(stop))  # after the last record, or the end of the feed: always one
        more = "true" if stop < self.size else "false"
        text = (f'{{"epoch":{json.dumps(self.epoch)},"records":{records},'
                f'"next_cursor":{cursor},"has_more":{more}}}')
        bad = self._take("malformed")
        if bad is not None:
            if bad.mode == "garbage":
                text = "<html><body>502 Bad Gateway</body></html>{"
            elif bad.mode == "truncated":
                text = text[: len(text) // 2]
            else:
                text = '{"data":' + records + "}"
        return web.Response(text=text, content_type="application/json")

    def _take(self, kind: str) -> _Fault | None:
        for fault in self._faults:
            if fault.kind == kind:
                fault.count -= 1
                if fault.count <= 0:
                    self._faults.remove(fault)
                return fault
        return None

    # -- the submit API (what the canary uses) --------------------------------

    def _authorized(self, request: web.Request) -> bool:
        return request.headers.get("Authorization") == f"Bearer {self.api_key}"

    async def _submit_message(self, request: web.Request) -> web.Response:
        response = await self._submit_answer(request)
        self.requests.append((request.path_qs, response.status))
        return response

    async def _submit_answer(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return web.json_response({"error": "invalid api key"}, status=401)
        fault = self._take("submit")
        if fault is not None:
            return web.json_response({"error": "simulated failure"}, status=fault.status)
        try:
            body = json.loads(await request.read())
        except ValueError:
            return web.json_response({"error": "body is not JSON"}, status=400)
        if not isinstance(body, dict) or not all(isinstance(body.get(k), str) and body[k].strip() for k in ("to", "text")):
            return web.json_response({"error": "give to and text"}, status=400)
        return web.json_response({"id": self.submit(body["to"], body["text"])}, status=201)

    def submit(self, to: str, text: str) -> str:
        """Accept one message now: pending in the feed at once, its final record after its latency."""
        submitted = int(self.clock() * 1000)
        self._messages += 1
        mid = f"SC{submitted // 1000:x}{self._messages:07d}"
        self.submissions.append({"id": mid, "to": to, "text": text})
        pending = {"id": mid, "status": "pending", "submitted_at": submitted}
        self._append(pending, submitted)
        self._status[mid] = pending
        while len(self._status) > 10_000:  # the oldest go: their status is answered 404
            del self._status[next(iter(self._status))]
        outcome, latency = self._canary_fate()
        if outcome == "never":
            return mid
        final: dict[str, Any] = {"id": mid, "status": outcome, "submitted_at": submitted,
                                 "reported_at": submitted + max(1, int(latency * 1000))}
        if outcome != "delivered":
            final["error_code"] = "EXPIRED" if outcome == "expired" else "UNDELIV"
        timer = asyncio.get_running_loop().call_later(latency, self._deliver, final)
        self._timers.add(timer)
        return mid

    def _canary_fate(self) -> tuple[str, float]:
        traffic = self.traffic or Traffic()
        rng = self._canary_rng
        outcome = self.canary_outcome
        if outcome is None:
            roll = rng.random()
            shares = (("never", traffic.silent), ("delivered", traffic.delivered), ("expired", traffic.expired))
            outcome = "failed"
            for name, share in shares:
                if roll < share:
                    outcome = name
                    break
                roll -= share
        fixed = self.canary_latency
        if isinstance(fixed, tuple):
            return outcome, rng.uniform(*fixed)
        if fixed is not None:
            return outcome, float(fixed)
        if outcome == "delivered":
            return outcome, traffic.latency(rng)
        if outcome == "expired":
            return outcome, rng.uniform(3600, 48 * 3600)
        return outcome, rng.uniform(1, 30)

    def _deliver(self, final: dict[str, Any]) -> None:
        self._timers = {t for t in self._timers if not t.cancelled() and t.when() > asyncio.get_running_loop().time()}
        self._append(final, max(int(self.clock() * 1000), final["reported_at"]))
        self.released[final["status"]] += 1
        if final["id"] in self._status:
            self._status[final["id"]] = final

    async def _message_status(self, request: web.Request) -> web.Response:
        response = self._status_answer(request)
        self.requests.append((request.path_qs, response.status))
        return response

    def _status_answer(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return web.json_response({"error": "invalid api key"}, status=401)
        fault = self._take("message_status")
        if fault is not None:
            return web.json_response({"error": "simulated failure"}, status=fault.status)
        record = self._status.get(request.match_info["id"])
        if record is None:
            return web.json_response({"error": "unknown message id"}, status=404)
        return web.json_response(record)

    def message(self, mid: str) -> dict[str, Any] | None:
        """A submitted message's current record."""
        return self._status.get(mid)

    # -- traffic -----------------------------------------------------------

    async def _generate(self) -> None:
        assert self.traffic is not None
        while True:
            self.advance(self.clock())
            await asyncio.sleep(self.tick)

    def advance(self, now: float) -> None:
        """Submit the messages due by ``now`` and release the reports due by then."""
        traffic = self.traffic
        if traffic is None:
            return
        rng = self._rng
        if self._next_arrival is None:
            self._next_arrival = now
        now_ms = int(now * 1000)
        while self._next_arrival <= now:
            self._submit(traffic, rng, int(self._next_arrival * 1000))
            self._next_arrival += rng.expovariate(traffic.rate)
        while self._due and self._due[0][0] <= now_ms:
            at, _, final, held = heapq.heappop(self._due)
            self._append(final, at)
            self.released[final["status"]] += 1
            if held is not None:
                self._append(held, at)  # the pending record after its own final: out of order
                self.visible += 1
            if rng.random() < traffic.duplicates:
                self._append(final, at)

    def _submit(self, traffic: Traffic, rng: random.Random, submitted: int) -> None:
        self._messages += 1
        self.generated += 1
        mid = f"SZ{submitted // 1000:x}{self._messages:07d}"
        pending = {"id": mid, "status": "pending", "submitted_at": submitted}
        roll = rng.random()
        if roll < traffic.silent:
            self._append(pending, submitted)
            self.visible += 1
            return
        if roll < traffic.silent + traffic.delivered:
            at = submitted + max(1, int(traffic.latency(rng) * 1000))
            final: dict[str, Any] = {"id": mid, "status": "delivered", "submitted_at": submitted, "reported_at": at}
        elif roll < traffic.silent + traffic.delivered + traffic.expired:
            at = submitted + int(rng.uniform(3600, 48 * 3600) * 1000)
            final = {"id": mid, "status": "expired", "submitted_at": submitted, "reported_at": at,
                     "error_code": "EXPIRED"}
        else:
            at = submitted + int(rng.uniform(1, 30) * 1000)
            codes, weights = zip(*ERROR_CODES)
            final = {"id": mid, "status": "failed", "submitted_at": submitted, "reported_at": at,
                     "error_code": rng.choices(codes, weights)[0]}
        held = None
        if rng.random() < traffic.out_of_order:
            held = pending  # enters the feed only after the final
        else:
            self._append(pending, submitted)
            self.visible += 1
        heapq.heappush(self._due, (at, self._messages, final, held))  # unique key: the dicts are never compared
