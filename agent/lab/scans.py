"""Simulated OWASP ZAP scans: realistic "Traditional JSON" reports written into a scan directory.

The agent's scan collector (collectors/scans) reads a directory into which a
scanner drops one report per run; :class:`ScanLab` is that scanner. Each
report covers :data:`SITES` (a portal, an online-service hall, an open-data
site) with a mix of the alert types ZAP's baseline scan finds on such sites
(:data:`ALERT_TYPES`): always some informational and low ones, and medium or
high ones as asked. Reports are written the way a scan job should write them:
to a hidden temporary name, then renamed into place, so a half-written file is
never in the directory under a ``.json`` name.

- :meth:`ScanLab.write`: one report made at a given time with a given number of
  medium and high alerts;
- :meth:`ScanLab.history`: a few past reports (weekly by default), the last one clean;
- :meth:`ScanLab.write_bad`: a file the agent must refuse (truncated, wrong shape, too large);
- :meth:`ScanLab.start`: a new report every ``every`` seconds while the event
  loop runs, following ``pattern`` (by default every third report has one
  medium alert, which the next report no longer has), for the demo.

``python -m agent.lab.scans DIR`` writes the history and then a report every
three minutes until Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import random
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator, Literal, Sequence
from zoneinfo import ZoneInfo

SITES = ("https://www.sz.gov.example", "https://zwfw.sz.gov.example", "https://data.sz.gov.example")
ZONE = ZoneInfo("Asia/Shanghai")
ZAP_VERSION = "2.16.0"
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
PATHS = ("/", "/index.html", "/news/list", "/search?q=test", "/service/apply", "/login", "/static/app.js",
         "/api/v1/notice", "/open/datasets", "/about/contact")
BadKind = Literal["truncated", "shape", "huge"]


@dataclass(frozen=True, slots=True)
class AlertType:
    """A ZAP rule's alert as the report lists it."""

    pluginid: str
    alert_ref: str
    name: str
    riskcode: int
    cweid: str
    param: str = ""
    evidence: str = ""


ALERT_TYPES: tuple[AlertType, ...] = (
    AlertType("40012", "40012", "Cross Site Scripting (Reflected)", 3, "79", "q", "<scrIpt>alert(1);</scRipt>"),
    AlertType("40018", "40018", "SQL Injection", 3, "89", "id", "id=1' OR '1'='1"),
    AlertType("10038", "10038-1", "Content Security Policy (CSP) Header Not Set", 2, "693"),
    AlertType("10020", "10020-1", "Missing Anti-clickjacking Header", 2, "1021", "x-frame-options"),
    AlertType("10098", "10098", "Cross-Domain Misconfiguration", 2, "264", "", "Access-Control-Allow-Origin: *"),
    AlertType("10035", "10035-1", "Strict-Transport-Security Header Not Set", 1, "319"),
    AlertType("10021", "10021", "X-Content-Type-Options Header Missing", 1, "693", "x-content-type-options"),
    AlertType("10010", "10010", "Cookie No HttpOnly Flag", 1, "1004", "JSESSIONID", "Set-Cookie: JSESSIONID"),
    AlertType("10036", "10036", "Server Leaks Version Information via \"Server\" HTTP Response Header Field",
              1, "200", "", "nginx/1.20.1"),
    AlertType("10027", "10027", "Information Disclosure - Suspicious Comments", 0, "200", "", "TODO"),
    AlertType("10096", "10096", "Timestamp Disclosure - Unix", 0, "200", "", "1764295200"),
    AlertType("10109", "10109", "Modern Web Application", 0, "-1"),
)
RISK_NAMES = ("Informational", "Low", "Medium", "High")
CONFIDENCE_NAMES = ("False Positive", "Low", "Medium", "High", "Confirmed")


def generated_text(made: datetime) -> str:
    """``Sat, 28 Nov 2026 10:15:00``: ZAP's ``@generated`` (its host's local time, English names)."""
    return (f"{_DAYS[made.weekday()]}, {made.day} {_MONTHS[made.month - 1]} {made.year} "
            f"{made.hour:02d}:{made.minute:02d}:{made.second:02d}")


def created_text(made: datetime) -> str:
    """``2026-11-28T02:15:00.123456000Z``: ZAP's ``created`` (UTC, nanoseconds)."""
    utc = made.astimezone(timezone.utc)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond:06d}000Z"


def _instances(site: str, kind: AlertType, count: int, rng: random.Random) -> list[dict[str, str]]:
    return [{"id": str(rng.randrange(1, 99999)), "uri": site + path, "nodeName": site + path.split("?")[0],
             "method": "GET", "param": kind.param, "attack": kind.evidence if kind.riskcode == 3 else "",
             "evidence": kind.evidence, "otherinfo": ""}
            for path in rng.sample(PATHS, min(count, len(PATHS)))]


def _alert(site: str, kind: AlertType, rng: random.Random) -> dict[str, Any]:
    confidence = rng.choice((1, 2, 2, 3))
    instances = _instances(site, kind, rng.randint(1, 6), rng)
    return {
        "pluginid": kind.pluginid, "alertRef": kind.alert_ref, "alert": kind.name, "name": kind.name,
        "riskcode": str(kind.riskcode), "confidence": str(confidence),
        "riskdesc": f"{RISK_NAMES[kind.riskcode]} ({CONFIDENCE_NAMES[confidence]})",
        "desc": f"<p>{kind.name} (simulated by agent/lab/scans.py).</p>", "instances": instances,
        "count": str(len(instances)), "systemic": False, "solution": "<p>See the rule's documentation.</p>",
        "otherinfo": "", "reference": f"<p>https://www.zaproxy.org/docs/alerts/{kind.pluginid}/</p>",
        "cweid": kind.cweid, "wascid": "15", "sourceid": str(rng.randrange(1, 999)),
    }


def _site(name: str, alerts: list[dict[str, Any]]) -> dict[str, Any]:
    ssl = name.startswith("https://")
    return {"@name": name, "@host": name.split("://", 1)[1], "@port": "443" if ssl else "80",
            "@ssl": "true" if ssl else "false", "alerts": alerts}


def zap_report(made: datetime, *, medium: int = 0, high: int = 0, low: int = 3, informational: int = 3,
               sites: Sequence[str] = SITES, seed: int = 0) -> dict[str, Any]:
    """A Traditional JSON report made at ``made`` (aware) with these many alerts of each risk, over ``sites``.

    Alerts are dealt to the sites in turn, each a type of its risk not yet on that site (at most the
    types of that risk times the sites), so each counts as one alert (one type on one site).
    """
    rng = random.Random(seed)
    by_site: dict[str, list[dict[str, Any]]] = {site: [] for site in sites}
    wanted = {3: high, 2: medium, 1: low, 0: informational}
    for risk, count in wanted.items():
        kinds = [k for k in ALERT_TYPES if k.riskcode == risk]
        if count > len(kinds) * len(sites):
            raise ValueError(f"at most {len(kinds) * len(sites)} alerts of riskcode {risk} over {len(sites)} sites")
        slots = [(site, kind) for kind in kinds for site in sites]  # each type once per site
        for site, kind in slots[:count]:
            by_site[site].append(_alert(site, kind, rng))
    for alerts in by_site.values():  # ZAP lists a site's alerts from high to informational
        alerts.sort(key=lambda a: -int(a["riskcode"]))
    return {"@programName": "ZAP", "@version": ZAP_VERSION, "@generated": generated_text(made),
            "created": created_text(made), "site": [_site(site, alerts) for site, alerts in by_site.items()]}


# (medium, high) of each report the demo writes, in turn: two clean ones, then one medium finding.
DEMO_PATTERN: tuple[tuple[int, int], ...] = ((0, 0), (0, 0), (1, 0))
DEMO_EVERY = 180.0  # seconds between the demo's reports


@dataclass
class ScanLab:
    """A scanner writing ZAP reports into ``directory`` (created if missing)."""

    directory: Path
    zone: ZoneInfo = ZONE  # of @generated, as ZAP writes its host's local time
    sites: tuple[str, ...] = SITES
    prefix: str = "zap-report"
    written: list[Path] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.directory = Path(self.directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._task: asyncio.Task[None] | None = None
        self._serial = itertools.count()

    def _place(self, name: str, body: bytes) -> Path:
        # Written under a hidden name and renamed: the agent never sees a half-written report.
        final = self.directory / name
        temporary = self.directory / f".{name}.partial"
        temporary.write_bytes(body)
        os.replace(temporary, final)
        self.written.append(final)
        return final

    def _name(self, made: datetime) -> str:
        stamp = made.astimezone(self.zone).strftime("%Y%m%d-%H%M%S")
        name = f"{self.prefix}-{stamp}.json"
        while (self.directory / name).exists():  # two reports in one second
            name = f"{self.prefix}-{stamp}-{next(self._serial)}.json"
        return name

    def write(self, made: datetime | float | None = None, *, medium: int = 0, high: int = 0, low: int = 3,
              informational: int = 3, dated: bool = True) -> Path:
        """A report made at ``made`` (aware datetime or Unix time; default now), its file dated the same.

        ``dated=False`` leaves out ``created`` and ``@generated`` (the agent then goes by the file's time).
        """
        when = self._when(made)
        report = zap_report(when, medium=medium, high=high, low=low, informational=informational,
                            sites=self.sites, seed=int(when.timestamp()))
        if not dated:
            del report["created"], report["@generated"]
        path = self._place(self._name(when), json.dumps(report, ensure_ascii=False, indent=1).encode("utf-8"))
        os.utime(path, (when.timestamp(), when.timestamp()))
        return path

    def _when(self, made: datetime | float | None) -> datetime:
        if made is None:
            made = time.time()
        if isinstance(made, (int, float)):
            return datetime.fromtimestamp(float(made), self.zone)  # created keeps the microseconds, as ZAP's does
        if made.tzinfo is None:
            raise ValueError("give an aware datetime (or Unix time) for a report's time")
        return made.astimezone(self.zone)

    def history(self, count: int = 3, *, every: timedelta = timedelta(days=7), end: datetime | float | None = None,
                findings: Sequence[tuple[int, int]] = ((1, 0), (2, 1))) -> list[Path]:
        """``count`` past reports ``every`` apart, the last at ``end`` (default now); the earlier ones take
        their (medium, high) from ``findings`` in turn, the last is clean (the vulnerabilities were fixed)."""
        last = self._when(end)
        paths = []
        for i in range(count):
            medium, high = (0, 0) if i == count - 1 else findings[i % len(findings)] if findings else (0, 0)
            paths.append(self.write(last - every * (count - 1 - i), medium=medium, high=high))
        return paths

    def write_bad(self, kind: BadKind, made: datetime | float | None = None, *, size: int = 0) -> Path:
        """A file the agent must refuse: ``truncated`` (cut mid-JSON), ``shape`` (``site`` an object) or
        ``huge`` (``size`` bytes of valid JSON padding, to exceed a max_report_bytes)."""
        when = self._when(made)
        report = zap_report(when, sites=self.sites, seed=1)
        if kind == "truncated":
            text = json.dumps(report)
            body = text[: len(text) // 2].encode("utf-8")
        elif kind == "shape":
            report["site"] = report["site"][0]
            body = json.dumps(report).encode("utf-8")
        elif kind == "huge":
            text = json.dumps(report)
            body = (text[:-1] + ', "padding": "' + "x" * max(0, size - len(text) - 15) + '"}').encode("utf-8")
        else:
            raise ValueError(f"unknown bad report kind {kind!r} (truncated, shape or huge)")
        path = self._place(self._name(when), body)
        os.utime(path, (when.timestamp(), when.timestamp()))
        return path

    def reports(self) -> Iterator[Path]:
        """The report files now in the directory, oldest name first."""
        return iter(sorted(self.directory.glob("*.json")))

    async def run(self, every: float = DEMO_EVERY, pattern: Sequence[tuple[int, int]] = DEMO_PATTERN) -> None:
        """Write a report now and every ``every`` seconds, (medium, high) from ``pattern`` in turn."""
        for medium, high in itertools.cycle(pattern or ((0, 0),)):
            self.write(medium=medium, high=high)
            await asyncio.sleep(every)

    def start(self, every: float = DEMO_EVERY, pattern: Sequence[tuple[int, int]] = DEMO_PATTERN) -> asyncio.Task[None]:
        """:meth:`run` as a task (one at a time), ended by :meth:`stop` or by cancelling it."""
        if self._task is not None and not self._task.done():
            raise RuntimeError("the scan lab is already writing reports")
        self._task = asyncio.create_task(self.run(every, pattern), name="scan-lab")
        return self._task

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m agent.lab.scans", description=__doc__.split("\n\n")[0])
    parser.add_argument("directory", type=Path, help="the scan directory (security_scans[].directory)")
    parser.add_argument("--history", type=int, default=3, help="past weekly reports to write first (default %(default)s)")
    parser.add_argument("--every", type=float, default=DEMO_EVERY, help="seconds between new reports (default %(default)s)")
    args = parser.parse_args(argv)
    lab = ScanLab(args.directory)
    if args.history > 0:
        lab.history(args.history, end=time.time() - args.every)
    print(f"writing a ZAP report into {lab.directory} every {args.every:g}s (Ctrl-C to stop)", flush=True)
    try:
        asyncio.run(lab.run(args.every))
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
