"""Headless Chromium: render the HTML report to a PNG, or dump its DOM (tests and the README sample)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
# Nothing leaves the machine: no first-run, sync, component updates or background networking.
_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
          "--disable-background-networking", "--disable-component-update", "--disable-sync",
          "--hide-scrollbars")


def available(binary: str = CHROMIUM) -> bool:
    return Path(binary).is_file() or shutil.which(binary) is not None


def _run(args: list[str], timeout: float, binary: str) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory(prefix="sla-chromium-") as profile:
        return subprocess.run([binary, *_FLAGS, f"--user-data-dir={profile}", *args],
                              capture_output=True, text=True, timeout=timeout, check=False)


def screenshot(html: Path, png: Path, width: int = 1400, height: int = 2000, timeout: float = 60.0,
               binary: str = CHROMIUM) -> Path:
    """``html`` rendered at ``width`` x ``height`` into ``png``; RuntimeError if Chromium wrote nothing."""
    proc = _run([f"--screenshot={png}", f"--window-size={width},{height}", html.resolve().as_uri()], timeout, binary)
    if not png.is_file():
        raise RuntimeError(f"chromium wrote no screenshot (exit {proc.returncode}): {proc.stderr.strip()[-300:]}")
    return png


def dump_dom(html: Path, timeout: float = 60.0, binary: str = CHROMIUM) -> str:
    """The DOM Chromium built from ``html`` (after parsing and layout), as serialized HTML."""
    return _run(["--dump-dom", html.resolve().as_uri()], timeout, binary).stdout
