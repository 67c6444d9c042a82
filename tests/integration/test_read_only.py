"""`sla-agent run` as the container runs it: every file system read-only except the data directory.

The agent runs in a mount namespace of its own in which `/` (and with it
/tmp, HOME and the working directory) is remounted read-only and only the
data directory stays writable, as compose's ``read_only: true`` with the
data volume does, and with the image's environment (PYTHONDONTWRITEBYTECODE).
It must poll, write its ledger and stop cleanly. An audit hook in the
process also lists every write it so much as attempts outside the data
directory (a failed __pycache__ write is silent otherwise): there must be none.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.agent_process import SERIES, known_seconds, read_segments, start, wait_polls, write_config
from tests.integration.snmpd_fixture import snmpd  # noqa: F401 - a fixture
from tests.processes import free_port, stop

pytestmark = pytest.mark.snmpd

DOCKERFILE = Path(__file__).resolve().parents[2] / "docker" / "Dockerfile"
# Runs `sla-agent` with an audit hook that notes writes outside argv[1] and prints them at exit.
AUDITED = r"""
import atexit, json, os, sys
allowed = os.path.realpath(sys.argv.pop(1))
attempts = []
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
CHANGES = {"os.mkdir", "os.rename", "os.remove", "os.rmdir", "os.symlink", "os.link", "os.truncate",
           "os.chmod", "os.chown", "os.utime", "shutil.copyfile", "shutil.rmtree", "sqlite3.connect"}

def outside(path):
    if not isinstance(path, (str, bytes, os.PathLike)):
        return False
    real = os.path.realpath(os.fsdecode(path))
    return real != allowed and not real.startswith(allowed + os.sep)

def hook(event, args):
    if event == "open":
        path, mode, flags = args
        writes = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (flags or 0) & WRITE_FLAGS
        if writes and outside(path) and not os.fsdecode(path).startswith("/dev/"):
            attempts.append([event, os.fsdecode(path)])
    elif event in CHANGES and args and outside(args[0]):
        attempts.append([event, os.fsdecode(args[0])])

sys.addaudithook(hook)
atexit.register(lambda: print("WRITES " + json.dumps(attempts), file=sys.stderr, flush=True))
sys.argv[0] = "sla-agent"
from agent.cli import main
sys.exit(main(sys.argv[1:]))
"""


def image_env() -> dict[str, str]:
    """The ENV of docker/Dockerfile."""
    block = re.search(r"^ENV (.*?)(?<!\\)$", DOCKERFILE.read_text(encoding="utf-8"), re.M | re.S)
    assert block is not None
    return dict(pair.split("=", 1) for pair in block.group(1).replace("\\\n", " ").split())


def read_only_root(data: Path, argv: list[str]) -> list[str]:
    """``argv`` in a private mount namespace where only ``data`` is writable."""
    script = 'mount --bind "$0" "$0" && mount -o remount,bind,ro / && exec "$@"'
    return ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, str(data), *argv]


def can_unshare() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c",
                            "mount -o remount,bind,ro / && ! touch /ro-probe 2>/dev/null"], capture_output=True)
    return probe.returncode == 0


def test_run_writes_nothing_outside_the_data_directory(snmpd, tmp_path):
    if not can_unshare():
        pytest.skip("cannot make a read-only mount namespace here (needs root and util-linux unshare)")
    data, home, cwd = tmp_path / "data", tmp_path / "home", tmp_path / "cwd"
    for folder in (data, home, cwd):
        folder.mkdir()
    port = free_port()
    config = write_config(tmp_path / "agent.yaml", snmpd, data, port, interval="1s")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "TMPDIR": str(tmp_path / "tmp"), **image_env()}
    argv = read_only_root(data, [sys.executable, "-c", AUDITED, str(data), "run", "-c", str(config)])
    proc = start(argv, cwd, env)
    try:
        wait_polls(proc, f"http://127.0.0.1:{port}", 3, timeout=20)
    finally:
        stop(proc)
    stderr = proc.stderr.read() if proc.stderr else ""
    assert proc.returncode == 0, stderr
    assert "Traceback" not in stderr and "ledger write failed" not in stderr, stderr
    (report,) = [line for line in stderr.splitlines() if line.startswith("WRITES ")]
    assert json.loads(report.removeprefix("WRITES ")) == [], report
    assert not any(home.iterdir()) and not any(cwd.iterdir()) and not (tmp_path / "tmp").exists()
    segments = read_segments(data, 0, 2**40)
    assert all(known_seconds(segments[name], 0, 2**40) > 0 for name in SERIES), segments
