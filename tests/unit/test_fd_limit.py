"""`sla-agent run` raises its open-files soft limit to the hard limit (idle connections need descriptors)."""

import resource
import subprocess
import sys


def test_raise_fd_limit_lifts_the_soft_limit_to_the_hard_one():
    code = "from agent.web import raise_fd_limit; import resource; print(raise_fd_limit(), resource.getrlimit(resource.RLIMIT_NOFILE))"
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    cap = 4096 if hard == resource.RLIM_INFINITY else min(hard, 4096)

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, cap))

    out = subprocess.run([sys.executable, "-c", code], preexec_fn=limit, capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == f"(256, {cap}) ({cap}, {cap})", out.stderr
