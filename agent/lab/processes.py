"""Starting and stopping the helper processes the lab, the tests and the benchmarks run.

Every such process (snmpsim, a private snmpd) must end with the process that
started it, however that one ends: a clean stop, an exception, Ctrl-C,
SIGTERM, or a SIGKILL that runs no cleanup at all. :func:`spawn_tied` starts
it so; :func:`stop_process` stops it.

How a child learns that its owner is gone (the *lifeline*): the owner keeps
the write end of a pipe that only the child's watchdog reads. The kernel
closes that end when the owner process dies, by any cause, and the read then
returns EOF. Unlike ``prctl(PR_SET_PDEATHSIG)`` on the child itself, this does
not fire when the *thread* that started the child ends (the lab starts from
``asyncio.to_thread`` workers), and it has no start-up race: an owner that
died before the child looked finds EOF at once. The write end is
close-on-exec and Popen closes every fd it is not told to pass, so no other
program we start holds it open (a bare ``os.fork()`` without exec would).

Layout: ``python processes.py FD -- PROGRAM ARGS`` (the launcher) forks a
watchdog and then execs PROGRAM in place, so the caller's Popen pid,
signals and return code are PROGRAM's own. The watchdog waits on the
lifeline; on EOF it sends PROGRAM SIGTERM, then SIGKILL after a grace. The
watchdog in turn dies with PROGRAM: on Linux by PR_SET_PDEATHSIG (its parent
is the single-threaded launcher, so the thread caveat does not apply), and
everywhere by noticing its parent pid change.
"""

from __future__ import annotations

import ctypes
import os
import select
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from typing import IO, Any

_LAUNCHER = os.path.abspath(__file__)
_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
STOP_GRACE = 5.0  # seconds between SIGTERM and SIGKILL, for stop_process and the watchdog


class TiedProcess(subprocess.Popen[bytes]):
    """A child process that ends when this process ends; see the module docstring.

    Takes Popen's keyword arguments except ``close_fds``/``pass_fds`` (the
    lifeline needs the default closing) and always starts a new session, so
    a terminal's Ctrl-C reaches only us and we stop the child ourselves.
    """

    def __init__(self, args: Sequence[str], **kwargs: Any) -> None:
        if "close_fds" in kwargs or "pass_fds" in kwargs:
            raise TypeError("TiedProcess manages close_fds/pass_fds itself")
        # The launcher's exec failing would only show as exit code 127: fail here, as Popen does.
        if shutil.which(args[0]) is None:
            raise FileNotFoundError(f"no such program: {args[0]!r}")
        read_fd, write_fd = os.pipe()  # both non-inheritable (PEP 446)
        self._lifeline: IO[bytes] | None = os.fdopen(write_fd, "wb", buffering=0)
        kwargs["start_new_session"] = True
        try:
            # -I: the launcher needs only the standard library; PROGRAM still gets the full environment.
            super().__init__(
                [sys.executable, "-I", _LAUNCHER, str(read_fd), "--", *args], pass_fds=(read_fd,), **kwargs
            )
        except BaseException:
            self.release()
            raise
        finally:
            os.close(read_fd)

    def release(self) -> None:
        """Drop our end of the lifeline (idempotent); a child still running is then stopped by its watchdog."""
        if self._lifeline is not None:
            self._lifeline.close()
            self._lifeline = None


def spawn_tied(args: Sequence[str], **kwargs: Any) -> TiedProcess:
    """Start ``args`` as a :class:`TiedProcess` (Popen keyword arguments apply)."""
    return TiedProcess(args, **kwargs)


def stop_process(proc: subprocess.Popen[Any], sig: int = signal.SIGTERM, grace: float = STOP_GRACE) -> None:
    """Send ``sig`` to ``proc`` if it still runs; kill it if it has not ended within ``grace`` s; reap it."""
    try:
        if proc.poll() is not None:
            return
        proc.send_signal(sig)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=grace)
    finally:
        if isinstance(proc, TiedProcess):
            proc.release()


# -- the launcher side (runs as ``python -I processes.py FD -- PROGRAM ...``) -----


def _die_with_parent() -> None:
    """Linux: have the kernel SIGKILL us when our parent (thread) ends; elsewhere a no-op."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def _watch(lifeline: int, program: int) -> None:
    """The watchdog: stop ``program`` (our parent) once the lifeline reads EOF; end when it ends."""
    _die_with_parent()
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):  # hold none of the program's output pipes or logs open
        os.dup2(devnull, fd)
    if devnull > 2:
        os.close(devnull)
    while os.getppid() == program:  # the check also closes prctl's race with a parent already gone
        readable, _, _ = select.select([lifeline], [], [], 1.0)
        if readable and not os.read(lifeline, 1):
            break
    else:
        return  # the program ended by itself
    for sig, wait in ((signal.SIGTERM, STOP_GRACE), (signal.SIGKILL, 0.0)):
        if os.getppid() != program:
            return
        os.kill(program, sig)
        deadline = time.monotonic() + wait
        while os.getppid() == program and time.monotonic() < deadline:
            time.sleep(0.1)


def _launch(argv: list[str]) -> None:
    lifeline, program = int(argv[0]), argv[2:]
    me = os.getpid()  # taken before the fork: the watchdog's getppid() may already be init's
    if os.fork() == 0:
        try:
            _watch(lifeline, me)
        finally:
            os._exit(0)
    os.close(lifeline)
    # Python ignores these at start-up and an ignored signal stays ignored across exec;
    # Popen restores them for its children, so do the same for PROGRAM.
    for name in ("SIGPIPE", "SIGXFSZ"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_DFL)
    try:
        os.execvp(program[0], program)
    except OSError as exc:
        print(f"{program[0]}: {exc}", file=sys.stderr)
        os._exit(127)


if __name__ == "__main__":
    _launch(sys.argv[1:])
