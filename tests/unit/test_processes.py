"""agent.lab.processes: children started with spawn_tied end with the process that started them."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from typing import Any

import pytest

from agent.lab.processes import STOP_GRACE, spawn_tied, stop_process
from tests.processes import children, cmdline, running, wait_for

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")

# A parent that starts `sleep 60` from a thread which then ends, prints the
# sleep's pid and lives on until its stdin closes or it is killed.
PARENT = textwrap.dedent("""
    import sys, threading
    from agent.lab.processes import spawn_tied
    started = []
    worker = threading.Thread(target=lambda: started.append(spawn_tied(["sleep", "60"])))
    worker.start()
    worker.join()
    print(started[0].pid, flush=True)
    sys.stdin.read()
""")


def read_line(proc: subprocess.Popen[Any], timeout: float = 10) -> Any:
    """One line of ``proc``'s stdout (str or bytes), waiting at most ``timeout`` s for it to start."""
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    assert ready, f"no output within {timeout} s"
    return proc.stdout.readline()


def kill_if_sleeping(pid: int) -> None:
    """Clean up after a failed test: kill ``pid`` if it is still our `sleep`."""
    if running(pid) and cmdline(pid)[:1] == ["sleep"]:
        os.kill(pid, signal.SIGKILL)


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen[bytes]]:
    proc = spawn_tied(["sleep", "60"])
    yield proc
    stop_process(proc)


def test_the_child_is_the_program_itself_in_its_own_session(sleeper):
    # The launcher execs in place: signals, pid and return code are the program's.
    assert wait_for(lambda: cmdline(sleeper.pid) == ["sleep", "60"], 10), cmdline(sleeper.pid)
    assert os.getsid(sleeper.pid) == sleeper.pid  # a terminal's Ctrl-C is not sent to it
    stop_process(sleeper)
    assert sleeper.returncode == -signal.SIGTERM


def test_the_watchdog_ends_with_the_program(sleeper):
    assert wait_for(lambda: len(children(sleeper.pid)) == 1, 10)
    (watchdog,) = children(sleeper.pid)
    stop_process(sleeper)
    assert wait_for(lambda: not running(watchdog), 10)


def test_exit_code_passes_through():
    proc = spawn_tied(["sh", "-c", "exit 3"], stdout=subprocess.DEVNULL)
    assert proc.wait(10) == 3


def test_a_missing_program_fails_in_the_caller():
    with pytest.raises(FileNotFoundError):
        spawn_tied(["/nonexistent/snmpd", "-f"])


def test_dropping_the_lifeline_stops_the_child(sleeper):
    sleeper.release()  # what the kernel does when this process dies
    assert sleeper.wait(10) == -signal.SIGTERM


def test_a_child_ignoring_sigterm_is_killed_after_the_grace():
    code = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print(flush=True); time.sleep(60)"
    proc = spawn_tied([sys.executable, "-c", code], stdout=subprocess.PIPE)
    try:
        assert read_line(proc) == b"\n"  # the handler is in place
        proc.release()
        assert proc.wait(STOP_GRACE + 10) == -signal.SIGKILL
    finally:
        stop_process(proc)
        proc.stdout.close()


def test_the_child_outlives_the_spawning_thread_and_dies_with_the_parent():
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    child = 0
    try:
        child = int(read_line(parent))
        # The thread that started it has ended; the child must not have ended with it.
        assert not wait_for(lambda: not running(child), 1.5), "the child died with the spawning thread"
        parent.kill()
        parent.wait(10)
        assert wait_for(lambda: not running(child), 10), f"pid {child} outlived its killed parent"
    finally:
        stop_process(parent)
        if child:
            kill_if_sleeping(child)
        for stream in (parent.stdin, parent.stdout):
            stream.close()
