"""A private net-snmp ``snmpd`` on 127.0.0.1 for integration tests.

Started as an ordinary process (never the system service) on a free high
UDP port, with its own config and persistent dir in a tmp dir: ``-C`` skips
the system config, SNMP_PERSISTENT_DIR keeps v3 user creation out of
/var/lib. The machine's real interfaces (lo, eth0, ...) provide IF-MIB data.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest
from pyasn1.codec.ber import encoder
from pysnmp.proto import api

from agent.lab.processes import spawn_tied, stop_process

SNMPD = Path("/usr/sbin/snmpd")
HOST = "127.0.0.1"
START_TIMEOUT = 10.0  # seconds for snmpd to answer its first request


@dataclass(frozen=True)
class Snmpd:
    """Where the test agent listens and the credentials it accepts."""

    host: str
    port: int
    community: str
    user: str
    auth_key: str  # SHA
    priv_key: str  # AES-128
    log: Path


def free_udp_port() -> int:
    """A UDP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _v2c_probe(community: str) -> bytes:
    """A BER-encoded SNMPv2c GET of sysUpTime.0, built without an engine."""
    proto = api.PROTOCOL_MODULES[api.SNMP_VERSION_2C]
    pdu = proto.GetRequestPDU()
    proto.apiPDU.set_defaults(pdu)
    proto.apiPDU.set_varbinds(pdu, [((1, 3, 6, 1, 2, 1, 1, 3, 0), proto.Null(""))])
    message = proto.Message()
    proto.apiMessage.set_defaults(message)
    proto.apiMessage.set_community(message, community)
    proto.apiMessage.set_pdu(message, pdu)
    return bytes(encoder.encode(message))


def _wait_ready(proc: subprocess.Popen[bytes], port: int, community: str, log: Path) -> None:
    probe = _v2c_probe(community)
    deadline = time.monotonic() + START_TIMEOUT
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(0.2)
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"snmpd exited with {proc.returncode}: {log.read_text(errors='replace')[-2000:]}")
            sock.sendto(probe, (HOST, port))
            try:
                sock.recvfrom(65535)
                return
            except OSError:  # timeout, or ICMP port unreachable before it binds
                continue
    raise RuntimeError(f"snmpd did not answer within {START_TIMEOUT}s: {log.read_text(errors='replace')[-2000:]}")


def new_snmpd(workdir: Path) -> Snmpd:
    """Where a private snmpd will listen, and the credentials it will accept."""
    return Snmpd(
        host=HOST,
        port=free_udp_port(),
        community="sla-test-ro",
        user="slatest",
        auth_key="sla-auth-key-1",
        priv_key="sla-priv-key-1",
        log=workdir / "snmpd.log",
    )


def start_snmpd(workdir: Path, agent: Snmpd, engine_id: str | None = None) -> subprocess.Popen[bytes]:
    """Start snmpd as ``agent`` describes (``engine_id``: its snmpEngineID text) and wait until it answers."""
    persist = workdir / "persist"
    persist.mkdir(exist_ok=True)
    conf = workdir / "snmpd.conf"
    conf.write_text(
        f"agentaddress udp:{HOST}:{agent.port}\n"
        f"rocommunity {agent.community} {HOST}\n"
        f'createUser {agent.user} SHA "{agent.auth_key}" AES "{agent.priv_key}"\n'
        f"rouser {agent.user} priv\n"
        "dontLogTCPWrappersConnects yes\n"
        + (f"engineID {engine_id}\n" if engine_id else ""),
        encoding="utf-8",
    )
    env = {
        **os.environ,
        "SNMPCONFPATH": str(workdir),
        "SNMP_PERSISTENT_DIR": str(persist),
    }
    command = [str(SNMPD), "-f", "-Lf", str(agent.log), "-C", "-c", str(conf), "-p", str(workdir / "snmpd.pid")]
    with open(workdir / "snmpd.out", "ab") as out:
        # Tied to pytest: a killed test run leaves no snmpd behind.
        proc = spawn_tied(command, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        _wait_ready(proc, agent.port, agent.community, agent.log)
    except BaseException:
        stop_process(proc)
        raise
    return proc


def require_snmpd() -> None:
    if not SNMPD.exists():
        pytest.skip(f"net-snmp snmpd not installed at {SNMPD} (CI installs it with .ci/install)")


@pytest.fixture(scope="module")
def snmpd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Snmpd]:
    """A running snmpd with a v2c community and an SHA/AES authPriv v3 user."""
    require_snmpd()
    workdir = tmp_path_factory.mktemp("snmpd")
    agent = new_snmpd(workdir)
    proc = start_snmpd(workdir, agent)
    try:
        yield agent
    finally:
        stop_process(proc)
