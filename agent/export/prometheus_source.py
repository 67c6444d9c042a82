"""A small client of the Prometheus HTTP API (Prometheus, Thanos, Mimir, VictoriaMetrics) for the export.

Blocking calls for the synchronous export, made with aiohttp (collectors/http.py's
JsonHttp: per-request deadline, retries on 5xx, capped bodies, one-line errors
that name the URL and never a header) on an event loop of the client's own, in
a thread, so the export can run from plain code and from inside an event loop alike.

Raw samples come from range-vector selectors evaluated by the instant-query
endpoint (``m[1h]`` at ``t``: every sample in the hour before ``t``, as stored);
``query_range`` would give evaluated points, not samples. A month is read in
chunks sized from the density of the previous one.
"""

from __future__ import annotations

import asyncio
import base64
import math
import threading
from dataclasses import dataclass
from typing import Any, Coroutine, Iterable, TypeVar

import aiohttp
from pydantic import SecretStr
from yarl import URL

from collectors.base import CollectorError
from collectors.http import JsonHttp, decode_json, safe_url

T = TypeVar("T")
Labels = tuple[tuple[str, str], ...]
Points = list[tuple[float, float]]

TIMEOUT = 120.0  # per request: Prometheus' own query timeout is 2 minutes
RETRIES = 2
MAX_BODY = 256 * 2**20
SAMPLES_PER_QUERY = 200_000  # ~6 MB of JSON
MIN_CHUNK, FIRST_CHUNK, MAX_CHUNK = 60.0, 3600.0, 7 * 86400.0
MAX_POINTS = 10_000  # query_range refuses more than 11,000 points per series
USER_AGENT = "sla-agent export"


class StoreError(Exception):
    """The store could not answer; the message is one line naming the URL, never a credential."""


@dataclass(frozen=True, slots=True)
class StoreAuth:
    """Credentials for the store, read from the environment or a file (never the command line)."""

    bearer_token: SecretStr | None = None
    username: str | None = None
    password: SecretStr | None = None
    tenant: str | None = None  # X-Scope-OrgID (Mimir, Cortex, a Thanos receive tenant)

    def headers(self) -> dict[str, str]:
        headers: dict[str, str] = {}
        if self.bearer_token is not None:
            headers["Authorization"] = "Bearer " + self.bearer_token.get_secret_value()
        elif self.username is not None:
            password = self.password.get_secret_value() if self.password is not None else ""
            pair = base64.b64encode(f"{self.username}:{password}".encode("utf-8")).decode("ascii")
            headers["Authorization"] = "Basic " + pair
        if self.tenant:
            headers["X-Scope-OrgID"] = self.tenant
        return headers


def check_url(text: str) -> str:
    """The API's base URL, or ValueError with the problem (the caller prints it after ``--url``)."""
    try:
        url = URL(text)
    except (ValueError, TypeError):
        raise ValueError("not a URL (a bad host or port?)") from None
    if url.scheme not in ("http", "https"):
        raise ValueError("use an http:// or https:// URL")
    if not url.host:
        raise ValueError("no host in the URL")
    if url.user is not None or url.password is not None:
        # It would show in `ps` and in shell history: the password comes from a file or the environment.
        raise ValueError("no user or password in the URL: use --basic-auth-user with --basic-auth-password-file "
                         "or SLA_AGENT_STORE_PASSWORD")
    if url.query_string or url.fragment:
        raise ValueError("give the API's base URL without a query or fragment, e.g. http://prometheus:9090")
    return str(url).rstrip("/")


def labels_of(metric: dict[str, str]) -> Labels:
    return tuple(sorted(metric.items()))


def duration(seconds: float) -> str:
    """A PromQL duration in whole milliseconds (``86400000ms``): exact, and accepted by every store."""
    return f"{max(1, round(seconds * 1000))}ms"


def next_chunk(chunk: float, samples: int) -> float:
    """The next chunk's length: sized so that it holds about SAMPLES_PER_QUERY samples at the density seen."""
    wanted = chunk * SAMPLES_PER_QUERY / samples if samples else chunk * 8
    return min(MAX_CHUNK, max(MIN_CHUNK, min(wanted, chunk * 8)))


class PrometheusApi:
    """Blocking calls to one store's HTTP API; ``close()`` (or ``with``) ends its thread."""

    def __init__(self, url: str, auth: StoreAuth | None = None, timeout: float = TIMEOUT):
        self.url = check_url(url)
        self._headers = {"User-Agent": USER_AGENT, **(auth or StoreAuth()).headers()}
        self._timeout = timeout
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="sla-export-store", daemon=True)
        self._thread.start()
        self._session: aiohttp.ClientSession | None = None
        self._busy: dict[tuple[str, float, float, float], list[tuple[float, float]]] = {}  # see busy()

    def __repr__(self) -> str:
        return f"PrometheusApi({safe_url(self.url)!r})"  # never the headers

    def __enter__(self) -> "PrometheusApi":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._loop.is_closed():
            return
        if self._session is not None:
            self._run(self._session.close())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    def _run(self, work: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(work, self._loop).result()

    async def _get(self, path: str, params: dict[str, str]) -> Any:
        if self._session is None:
            self._session = aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar())
        deadline = asyncio.get_running_loop().time() + self._timeout
        http = JsonHttp(self._session, deadline=deadline, timeout=self._timeout, retries=RETRIES, max_body=MAX_BODY)
        endpoint = f"{self.url}{path}"
        try:
            response = await http.request("store", "GET", URL(endpoint).with_query(params), self._headers)
            if response.status in (401, 403):
                raise StoreError(f"{endpoint}: HTTP {response.status}: credentials refused "
                                 "(--bearer-token-file, --basic-auth-user / its password)")
            if 300 <= response.status < 400:
                raise StoreError(f"{endpoint}: HTTP {response.status} redirect: give the URL it redirects to")
            if response.status == 404:
                raise StoreError(f"{endpoint}: HTTP 404: no Prometheus HTTP API here "
                                 "(--url is the API's base, e.g. http://prometheus:9090)")
            answer = await decode_json(response)
        except CollectorError as exc:
            raise StoreError(str(exc).removeprefix("store GET ")) from None
        if not isinstance(answer, dict) or answer.get("status") not in ("success", "error"):
            raise StoreError(f"{endpoint}: HTTP {response.status}: not a Prometheus API answer")
        if answer["status"] == "error":
            kind = answer.get("errorType") or "error"
            raise StoreError(f"{endpoint}: {kind}: {str(answer.get('error', ''))[:300]}".replace("\n", " "))
        if not 200 <= response.status < 300:
            raise StoreError(f"{endpoint}: HTTP {response.status} {response.reason}".rstrip())
        data = answer.get("data")
        if not isinstance(data, dict) or not isinstance(data.get("result"), list):
            raise StoreError(f"{endpoint}: answer without data.result")
        return data

    def query(self, expr: str, at: float) -> list[dict[str, Any]]:
        """``/api/v1/query`` at ``at``: the result list (vector or matrix)."""
        return self._run(self._get("/api/v1/query", {"query": expr, "time": f"{at:.3f}"}))["result"]

    def instant(self, expr: str, at: float) -> dict[Labels, float]:
        """An instant vector as ``{labels: value}``."""
        return {labels_of(r.get("metric", {})): float(r["value"][1]) for r in self.query(expr, at) if "value" in r}

    def raw(self, selector: str, start: float, end: float) -> dict[Labels, Points]:
        """Every stored sample of ``selector``'s series in ``[start, end]``, per series, in time order."""
        out: dict[Labels, Points] = {}
        chunk = min(FIRST_CHUNK, max(end - start, 1.0))
        cursor = start
        while cursor < end:
            upper = min(end, cursor + chunk)
            try:
                result = self.query(f"{selector}[{duration(upper - cursor)}]", upper)
            except StoreError as exc:
                if "too many samples" in str(exc) and chunk > MIN_CHUNK:
                    chunk = max(MIN_CHUNK, chunk / 4)  # the store's sample limit: ask for less at a time
                    continue
                raise
            count = 0
            for series in result:
                points = out.setdefault(labels_of(series.get("metric", {})), [])
                for t_text, v_text in series.get("values", []):
                    t, v = float(t_text), float(v_text)
                    # A range selector may include its left edge (Prometheus 2), so chunks can share one.
                    if (not points or t > points[-1][0]) and math.isfinite(v):
                        points.append((t, v))
                        count += 1
            chunk = next_chunk(upper - cursor, count)
            cursor = upper
        return out

    def query_range(self, expr: str, start: float, end: float, step: float,
                    sampled: str | None = None) -> dict[Labels, Points]:
        """Evaluated points every ``step`` in ``[start, end]``, per series (chunked under the points limit).

        With ``sampled`` (a selector of the series ``expr`` reads), only the stretches in which it has
        samples are asked for (``busy``): a year-to-date figure from a store that keeps 15 days, or
        scraped every second, is otherwise thousands of requests for nothing. The points are those of
        the whole range, on the same grid (``start + k * step``).
        """
        out: dict[Labels, Points] = {}
        chunk = step * (MAX_POINTS - 1)
        spans = [(start, end)] if sampled is None else self.busy(sampled, start, end, chunk)
        for low, high in spans:
            cursor = start + math.ceil(round((low - start) / step, 6)) * step  # on the grid
            while cursor <= high:
                upper = min(high, cursor + chunk)
                params = {"query": expr, "start": f"{cursor:.3f}", "end": f"{upper:.3f}", "step": f"{step:.3f}"}
                for series in self._run(self._get("/api/v1/query_range", params))["result"]:
                    points = out.setdefault(labels_of(series.get("metric", {})), [])
                    for t, v in series.get("values", []):
                        if not points or float(t) > points[-1][0]:
                            points.append((float(t), float(v)))
                cursor = upper + step
        return out

    def busy(self, selector: str, start: float, end: float, width: float) -> list[tuple[float, float]]:
        """The stretches of ``[start, end]`` in which ``selector`` has samples, to within ``width``.

        One range query counts the samples per ``width`` (each sample in one window); a window with
        any, and the one after it (the lookback of the last samples reaches into it), is busy. If the
        store refuses the count (its sample limit), all of ``[start, end]`` is.
        """
        width = max(width, (end - start) / (MAX_POINTS - 1), 1.0)
        key = (selector, start, end, width)  # a source's families over one selector: counted once
        if key not in self._busy:
            self._busy[key] = self._count_busy(selector, start, end, width)
        return self._busy[key]

    def _count_busy(self, selector: str, start: float, end: float, width: float) -> list[tuple[float, float]]:
        params = {"query": f"sum(count_over_time({selector}[{duration(width)}]))", "start": f"{start:.3f}",
                  "end": f"{end + width:.3f}", "step": f"{width:.3f}"}
        try:
            result = self._run(self._get("/api/v1/query_range", params))["result"]
        except StoreError as exc:
            if "too many samples" in str(exc):
                return [(start, end)]
            raise
        windows = [float(t) for series in result for t, v in series.get("values", []) if float(v) > 0]
        return busy_spans(windows, width, start, end)


def busy_spans(window_ends: Iterable[float], width: float, start: float, end: float) -> list[tuple[float, float]]:
    """Merged ``[t - width, t + width]`` for each window ``(t - width, t]`` with samples, clipped to ``[start, end]``."""
    spans: list[tuple[float, float]] = []
    for t in sorted(window_ends):
        low, high = max(start, t - width), min(end, t + width)
        if high < low:
            continue
        if spans and low <= spans[-1][1]:
            spans[-1] = (spans[-1][0], max(spans[-1][1], high))
        else:
            spans.append((low, high))
    return spans

def label(labels: Labels, name: str) -> str | None:
    return next((v for k, v in labels if k == name), None)


def without(labels: Labels, *names: str) -> Labels:
    return tuple((k, v) for k, v in labels if k not in names)


def regex_of(values: Iterable[str]) -> str:
    """A PromQL regex (inside ``"..."``) matching exactly ``values``: config names of letters, digits, ``_ . : -``.

    A dot is the only one of those a regex reads specially; ``\\\\.`` in PromQL's string is the regex's ``\\.``.
    """
    return "|".join(v.replace(".", "\\\\.") for v in sorted(set(values)))
