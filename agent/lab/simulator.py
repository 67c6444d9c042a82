"""Run simulated SNMP devices with snmpsim as a subprocess on 127.0.0.1.

One snmpsim process serves every device on one UDP port; a device is selected
by its v2c community or its SNMPv3 context name, both equal to the device name.

Unreachable devices: a :class:`LabDevice` with ``reachable=False`` is simply
not served, so every request for it times out (snmpsim drops unknown
communities and contexts without answering). Any community that no device
uses behaves the same way. To change reachability at run time, ``reboot()``
with updated specs. A *slow* device is deliberately not offered: snmpsim's
``delay`` module sleeps in its only thread and would stall every device.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import weakref
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

from pyasn1.codec.ber import encoder
from pysnmp.proto import rfc1905
from pysnmp.proto.mpmod.rfc3412 import SNMPv3Message
from pysnmp.proto.secmod.rfc3414.service import UsmSecurityParameters

from .devices import DEMO_DEVICES, LabDevice
from .processes import spawn_tied, stop_process
from .snmprec import IF_ADMIN_STATUS, IF_OPER_STATUS, render_snmprec

HOST = "127.0.0.1"
LOG_NAME = "snmpsim.log"
_VARIATION_MODULES = ("numeric.py", "writecache.py")
_SNMPSIM_MODULE = "snmpsim.commands.responder"


class LabError(RuntimeError):
    """The simulator could not be started, or a lab operation failed."""


def free_udp_port() -> int:
    """Return a UDP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _probe_packet() -> bytes:
    """An SNMPv3 engine-discovery GET (no user, no context), BER-encoded.

    Every SNMP engine answers it with a Report, whatever devices it serves,
    so it tells "snmpsim is listening" apart from "a device is unreachable".
    (snmpsim's own "index" community would be the v2c equivalent, but in
    1.2.2 its GET handler raises and never answers.)
    """
    usm = UsmSecurityParameters()
    for key, value in (
        ("msgAuthoritativeEngineId", b""), ("msgAuthoritativeEngineBoots", 0),
        ("msgAuthoritativeEngineTime", 0), ("msgUserName", b""),
        ("msgAuthenticationParameters", b""), ("msgPrivacyParameters", b""),
    ):
        usm[key] = value
    pdu = rfc1905.GetRequestPDU()
    pdu["request-id"] = 1
    pdu["error-status"] = 0
    pdu["error-index"] = 0
    pdu["variable-bindings"].clear()
    msg = SNMPv3Message()
    msg["msgVersion"] = 3
    header = msg["msgGlobalData"]
    header["msgID"] = 1
    header["msgMaxSize"] = 65507
    header["msgFlags"] = b"\x04"  # reportable, noAuthNoPriv
    header["msgSecurityModel"] = 3  # USM
    msg["msgSecurityParameters"] = encoder.encode(usm)
    scoped = msg["msgData"]["plaintext"]
    scoped["contextEngineId"] = b""
    scoped["contextName"] = b""
    scoped["data"]["get-request"] = pdu
    return bytes(encoder.encode(msg))


def _terminate(proc: subprocess.Popen[bytes], log: IO[bytes]) -> None:
    """Stop snmpsim and reap it; runs at most once per process (finalizer)."""
    try:
        stop_process(proc)
    finally:
        log.close()


def _check_secret(what: str, value: str, min_len: int) -> None:
    # snmpsim splits its engine options on "=", and USM keys need 8+ chars.
    if len(value) < min_len or "=" in value or any(c.isspace() for c in value):
        raise ValueError(f"{what}: at least {min_len} chars, no '=' or whitespace")


class SnmpLab:
    """Simulated SNMP devices served by one snmpsim process on 127.0.0.1.

    Use ``async with SnmpLab(devices) as lab:`` (or ``with``, or
    ``start()``/``stop()``). v2c: community ``lab.community(name)``. v3:
    user ``v3_user`` with authPriv HMAC-SHA-96 + AES-128 and context name
    ``lab.v3_context(name)``; the engine ID stays the same across reboots,
    as on a real device.
    """

    def __init__(
        self,
        devices: Iterable[LabDevice] = DEMO_DEVICES,
        *,
        data_dir: str | os.PathLike[str] | None = None,
        port: int | None = None,
        v3_user: str = "sla-lab",
        v3_auth_key: str = "lab-auth-key",
        v3_priv_key: str = "lab-priv-key",
        startup_timeout: float = 20.0,
        log_level: str = "error",
    ) -> None:
        self._devices = self._validated(devices)
        _check_secret("v3_user", v3_user, 1)
        _check_secret("v3_auth_key", v3_auth_key, 8)
        _check_secret("v3_priv_key", v3_priv_key, 8)
        self.v3_user, self.v3_auth_key, self.v3_priv_key = v3_user, v3_auth_key, v3_priv_key
        self._owns_dir = data_dir is None
        self._dir = Path(data_dir) if data_dir else Path(tempfile.mkdtemp(prefix="sla-lab-"))
        self._port = port
        self._startup_timeout = startup_timeout
        self._log_level = log_level
        # RFC 3411 format 5 (octets) under pysnmp's enterprise number.
        self.engine_id = "80004fb805" + os.urandom(8).hex()
        self._proc: subprocess.Popen[bytes] | None = None
        self._finalizer: weakref.finalize | None = None
        self._dir_finalizer: weakref.finalize | None = None
        self._track_dir()

    # -- properties -------------------------------------------------------

    @property
    def host(self) -> str:
        return HOST

    @property
    def port(self) -> int:
        if self._port is None:
            raise LabError("the lab has not been started")
        return self._port

    @property
    def devices(self) -> tuple[LabDevice, ...]:
        return self._devices

    @property
    def data_dir(self) -> Path:
        return self._dir

    @property
    def log_path(self) -> Path:
        return self._dir / LOG_NAME

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def device(self, name: str) -> LabDevice:
        """The current spec of device ``name`` (KeyError if unknown)."""
        for dev in self._devices:
            if dev.name == name:
                return dev
        raise KeyError(f"no lab device named {name!r}")

    def community(self, device_name: str) -> str:
        """v2c community selecting the device (its data file name)."""
        return self.device(device_name).name

    def v3_context(self, device_name: str) -> str:
        """SNMPv3 context name selecting the device."""
        return self.device(device_name).name

    # -- life cycle -------------------------------------------------------

    def start(self) -> None:
        """Write the data files, start snmpsim and wait until it answers."""
        if self._proc is not None:
            raise LabError("the lab is already running")
        if self._port is None:
            self._port = free_udp_port()
        self._dir.mkdir(parents=True, exist_ok=True)
        self._track_dir()  # again, in case stop() removed it
        self._write_records()
        self._link_variation_modules()
        self._spawn()
        try:
            self._wait_ready()
        except BaseException:
            self._kill()
            raise

    def stop(self) -> None:
        """Terminate snmpsim (idempotent) and remove a temporary data dir."""
        self._kill()
        if self._dir_finalizer is not None:
            self._dir_finalizer()

    async def reboot(self, devices: Iterable[LabDevice] | None = None) -> None:
        """Restart snmpsim on the same port, optionally with new device specs.

        Uptime, counters and SET state start over from the specs, like a
        device reboot (all devices reboot together).
        """
        new = self._validated(devices) if devices is not None else self._devices
        await asyncio.to_thread(self._restart, new)

    def _restart(self, devices: tuple[LabDevice, ...]) -> None:
        self._kill()
        self._devices = devices
        self.start()

    def __enter__(self) -> SnmpLab:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def __aenter__(self) -> SnmpLab:
        await asyncio.to_thread(self.start)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.to_thread(self.stop)

    # -- run-time changes over SNMP ----------------------------------------

    async def set_oper_status(
        self, device_name: str, if_index: int, up: bool, *, engine: Any = None
    ) -> None:
        """SET ifOperStatus (up(1)/down(2)) as seen by later polls.

        Pass the caller's pysnmp ``SnmpEngine`` as ``engine`` to save ~0.5 s:
        a fresh engine builds pysmi's MIB parser on its first request.
        """
        await self._set_status(device_name, if_index, IF_OPER_STATUS, up, engine)

    async def set_admin_status(
        self, device_name: str, if_index: int, up: bool, *, engine: Any = None
    ) -> None:
        """SET ifAdminStatus (up(1)/down(2)) as seen by later polls."""
        await self._set_status(device_name, if_index, IF_ADMIN_STATUS, up, engine)

    async def _set_status(
        self, device_name: str, if_index: int, column: str, up: bool, engine: Any
    ) -> None:
        # Imported here so that rendering/devices never need the hlapi.
        from pysnmp.hlapi.v3arch.asyncio import (
            CommunityData,
            ContextData,
            Integer32,
            ObjectIdentity,
            ObjectType,
            UdpTransportTarget,
            set_cmd,
        )

        from collectors.snmp.v3 import new_engine

        dev = self.device(device_name)
        dev.interface(if_index)  # fail early on a wrong index
        if not dev.reachable:
            raise LabError(f"device {device_name!r} is not reachable")
        # Without the caller's engine, a throwaway one: the lab may outlive
        # any event loop, and an engine is bound to one.
        snmp = engine if engine is not None else new_engine()
        try:
            target = await UdpTransportTarget.create((HOST, self.port), timeout=1, retries=2)
            err_ind, err_status, _, _ = await set_cmd(
                snmp,
                CommunityData(self.community(device_name), mpModel=1),
                target,
                ContextData(),
                ObjectType(ObjectIdentity(f"{column}.{if_index}"), Integer32(1 if up else 2)),
                lookupMib=False,
            )
        finally:
            if engine is None:
                snmp.close_dispatcher()
        if err_ind or err_status:
            raise LabError(f"SET {column}.{if_index} on {device_name}: {err_ind or err_status}")

    def usm_user_data(self) -> Any:
        """pysnmp ``UsmUserData`` for the lab's v3 user (authPriv SHA/AES-128)."""
        from pysnmp.hlapi.v3arch.asyncio import (
            USM_AUTH_HMAC96_SHA,
            USM_PRIV_CFB128_AES,
            UsmUserData,
        )

        return UsmUserData(
            self.v3_user, self.v3_auth_key, self.v3_priv_key,
            authProtocol=USM_AUTH_HMAC96_SHA, privProtocol=USM_PRIV_CFB128_AES,
        )

    # -- internals --------------------------------------------------------

    @staticmethod
    def _validated(devices: Iterable[LabDevice]) -> tuple[LabDevice, ...]:
        devs = tuple(devices)
        names = [d.name for d in devs]
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate device names in {names}")
        return devs

    def _track_dir(self) -> None:
        # A temp dir we created goes away with the lab, even without stop().
        if self._owns_dir and not (self._dir_finalizer and self._dir_finalizer.alive):
            self._dir_finalizer = weakref.finalize(self, shutil.rmtree, self._dir, True)

    def _served(self) -> list[LabDevice]:
        return [d for d in self._devices if d.reachable]

    def _write_records(self) -> None:
        records = self._dir / "records"
        # Start from an empty dir so devices dropped by a reboot disappear.
        shutil.rmtree(records, ignore_errors=True)
        records.mkdir(parents=True)
        for i, dev in enumerate(self._served()):
            text = render_snmprec(dev, writecache=f"wc{i}")
            (records / f"{dev.name}.snmprec").write_text(text, encoding="ascii")

    def _link_variation_modules(self) -> None:
        """Offer snmpsim only the variation modules the records use.

        By default snmpsim loads every module it finds, including user
        overrides in ~/.snmpsim and the sql/redis modules, which log load
        errors on every start.
        """
        spec = importlib.util.find_spec("snmpsim")
        if spec is None or not spec.submodule_search_locations:
            raise LabError("snmpsim is not installed (pip install snmpsim pysmi)")
        source = Path(spec.submodule_search_locations[0]) / "variation"
        target = self._dir / "variation"
        target.mkdir(exist_ok=True)
        for name in _VARIATION_MODULES:
            link = target / name
            if not link.exists():
                link.symlink_to(source / name)

    def _command(self) -> list[str]:
        cmd = [
            sys.executable, "-m", _SNMPSIM_MODULE,
            f"--log-level={self._log_level}",
            f"--cache-dir={self._dir / 'cache'}",
            "--force-index-rebuild",  # files are rewritten within the same second
            f"--variation-modules-dir={self._dir / 'variation'}",
        ]
        # One writecache instance per device, see render_snmprec().
        cmd += [f"--variation-module-options=writecache=wc{i}:" for i in range(len(self._served()))]
        # Engine options: passed as separate words because snmpsim splits
        # "--opt=value" on every "=".
        cmd += [
            "--v3-engine-id", self.engine_id,
            "--data-dir", str(self._dir / "records"),
            "--agent-udpv4-endpoint", f"{HOST}:{self.port}",
            "--v3-user", self.v3_user,
            "--v3-auth-proto", "SHA", "--v3-auth-key", self.v3_auth_key,
            "--v3-priv-proto", "AES", "--v3-priv-key", self.v3_priv_key,
        ]
        return cmd

    def _spawn(self) -> None:
        env = dict(os.environ)
        env["SNMPSIM_ALLOW_ROOT"] = "true"  # snmpsim refuses to run as root otherwise
        env.setdefault("HOME", str(self._dir))  # snmpsim's confdir reads $HOME
        log = open(self.log_path, "ab")
        log.write(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} starting snmpsim\n".encode())
        log.flush()
        try:
            # Tied to this process: a demo killed even by SIGKILL leaves no snmpsim holding the port.
            self._proc = spawn_tied(
                self._command(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self._dir,
                env=env,
            )
        except BaseException:
            log.close()
            raise
        # Reap the child even if the owner forgets stop().
        self._finalizer = weakref.finalize(self, _terminate, self._proc, log)

    def _kill(self) -> None:
        if self._finalizer is not None:
            self._finalizer()  # runs _terminate once, then detaches
        self._finalizer = None
        self._proc = None

    def _wait_ready(self) -> None:
        """Poll with a GET until snmpsim answers; bounded in time and count."""
        assert self._proc is not None
        packet = _probe_packet()
        deadline = time.monotonic() + self._startup_timeout
        max_attempts = int(self._startup_timeout / 0.2) + 1
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.bind((HOST, 0))
            sock.settimeout(0.2)
            for _ in range(max_attempts):
                if self._proc.poll() is not None:
                    raise LabError(
                        f"snmpsim exited with code {self._proc.returncode}; "
                        f"log {self.log_path}:\n{self._log_tail()}"
                    )
                sock.sendto(packet, (HOST, self.port))
                try:
                    sock.recvfrom(65535)
                    return
                except OSError:  # timeout, or ICMP port unreachable
                    time.sleep(0.05)
                if time.monotonic() > deadline:
                    break
        raise LabError(
            f"snmpsim did not answer on {HOST}:{self.port} within "
            f"{self._startup_timeout:.0f} s (port taken by another process? snmpsim "
            f"does not exit when its bind fails); log {self.log_path}:\n{self._log_tail()}"
        )

    def _log_tail(self, max_bytes: int = 3000) -> str:
        try:
            data = self.log_path.read_bytes()[-max_bytes:]
        except OSError:
            return "(no log)"
        return data.decode("utf-8", errors="replace")
