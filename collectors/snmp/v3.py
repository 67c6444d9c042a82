"""SNMPv3 through pysnmp: credentials, a socket per device, and engine re-discovery.

v3 stays on pysnmp's engine (USM authentication and privacy are its job);
this module keeps two guarantees the shared engine does not give by itself:

- A device's requests go out on a UDP transport of its own (a transport
  domain per device), whose protocol drops any datagram that does not come
  from the device's address before pysnmp sees it.
- When a device comes back with a new snmpEngineID (a replaced router, an HA
  failover, an agent that does not persist its engineID), pysnmp keeps
  addressing the old one and the device's reports are discarded: every request
  times out. A request that times out on a device whose engine was known is
  therefore retried once on a fresh transport domain, for which pysnmp holds
  no engine: it discovers the engine again (RFC 3414 4), and the change of
  engineID is logged.

Imported only when a v3 device is opened (collectors/snmp/session.py): pysnmp's
engine stack is about 21 MB of RSS a v2c fleet does not need.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import logging
import os
from typing import Any, Sequence

import pysnmp.smi.mibs

from pyasn1.type.univ import Integer, OctetString
from pysnmp.carrier.asyncio.dgram import udp
from pysnmp.entity import config as pysnmp_config
from pysnmp.error import PySnmpError
from pysnmp.hlapi.v3arch.asyncio import (
    USM_AUTH_HMAC96_MD5,
    USM_AUTH_HMAC96_SHA,
    USM_AUTH_HMAC128_SHA224,
    USM_AUTH_HMAC192_SHA256,
    USM_AUTH_HMAC256_SHA384,
    USM_AUTH_HMAC384_SHA512,
    USM_AUTH_NONE,
    USM_PRIV_CBC56_DES,
    USM_PRIV_CBC168_3DES,
    USM_PRIV_CFB128_AES,
    USM_PRIV_CFB192_AES,
    USM_PRIV_CFB192_AES_BLUMENTHAL,
    USM_PRIV_CFB256_AES,
    USM_PRIV_CFB256_AES_BLUMENTHAL,
    USM_PRIV_NONE,
    ContextData,
    EndOfMibView,
    NoSuchInstance,
    NoSuchObject,
    ObjectIdentity,
    ObjectType,
    SnmpEngine,
    UdpTransportTarget,
    UsmUserData,
    bulk_cmd,
    get_cmd,
)
from pysnmp.proto import errind
from pysnmp.proto.rfc1902 import ObjectName

from collectors.snmp.config import SnmpDevice
from collectors.base import CollectorError
from collectors.snmp import replies
from collectors.snmp.ber import Missing, Value
from collectors.snmp.oids import Oid
from collectors.snmp.session import DeviceSession, Engines, Raw, one_line, secret
from collectors.snmp.v2c import UNEXPECTED_OIDS, WRONG_ADDRESS, Rejections

log = logging.getLogger("collectors.snmp")

AUTH_PROTOCOLS: dict[str, tuple[int, ...]] = {
    "md5": USM_AUTH_HMAC96_MD5,
    "sha": USM_AUTH_HMAC96_SHA,
    "sha224": USM_AUTH_HMAC128_SHA224,
    "sha256": USM_AUTH_HMAC192_SHA256,
    "sha384": USM_AUTH_HMAC256_SHA384,
    "sha512": USM_AUTH_HMAC384_SHA512,
}
# aes192/aes256 follow net-snmp's naming (-x AES192/AES256): key extension per
# draft-blumenthal. pysnmp's USM_PRIV_CFB192_AES/USM_PRIV_CFB256_AES are the
# other, "Cisco" (Reeder) extension, net-snmp's AES192C/AES256C. The two differ
# only when the auth hash is shorter than the AES key (e.g. SHA-1 + AES-192).
PRIV_PROTOCOLS: dict[str, tuple[int, ...]] = {
    "des": USM_PRIV_CBC56_DES,
    "3des": USM_PRIV_CBC168_3DES,
    "aes": USM_PRIV_CFB128_AES,
    "aes128": USM_PRIV_CFB128_AES,
    "aes192": USM_PRIV_CFB192_AES_BLUMENTHAL,
    "aes256": USM_PRIV_CFB256_AES_BLUMENTHAL,
    "aes192c": USM_PRIV_CFB192_AES,
    "aes256c": USM_PRIV_CFB256_AES,
}

_BUNDLED_MIBS = os.path.dirname(pysnmp.smi.mibs.__file__)
_LCD = "CommandGeneratorLcdConfigurator"  # the user context where pysnmp's hlapi caches transports
_domains = itertools.count(1)


def usm_user(device: SnmpDevice) -> UsmUserData:
    """pysnmp credentials for a v3 device whose defaults are already applied."""
    if not device.user:
        raise CollectorError("SNMPv3 device has no user configured")
    auth_key, priv_key = secret(device.auth_key), secret(device.priv_key)
    auth_protocol = AUTH_PROTOCOLS[device.auth_protocol or "sha"] if auth_key else USM_AUTH_NONE
    priv_protocol = PRIV_PROTOCOLS[device.priv_protocol or "aes"] if priv_key else USM_PRIV_NONE
    return UsmUserData(device.user, authKey=auth_key, privKey=priv_key, authProtocol=auth_protocol,
                       privProtocol=priv_protocol)


def credential_fingerprint(device: SnmpDevice) -> tuple[str, bytes] | None:
    """(v3 user, digest of its key material), or None for v2c.

    pysnmp keeps one USM user row per user name per engine: two devices with
    the same user name but different keys cannot share an engine, or the
    engine would re-key the row on every alternate request.
    """
    if device.version != "v3" or not device.user:
        return None
    material = "\x00".join(
        str(part)
        for part in (device.auth_protocol, secret(device.auth_key), device.priv_protocol, secret(device.priv_key))
    )
    return device.user, hashlib.sha256(material.encode()).digest()


class _PeerOnly(udp.UdpAsyncioTransport):
    """pysnmp's UDP transport, dropping every datagram that is not from the device polled."""

    def __init__(self, peer: tuple[str, int], rejections: Rejections) -> None:
        super().__init__()
        self._peer = peer
        self._rejections = rejections

    def datagram_received(self, datagram: bytes, transportAddress: Any) -> None:
        if tuple(transportAddress[:2]) != self._peer:
            self._rejections.add(WRONG_ADDRESS)
            return
        super().datagram_received(datagram, transportAddress)


class DeviceTarget(UdpTransportTarget):
    """A transport target on a UDP transport of its own (its own transport domain)."""

    peer: tuple[str, int]
    rejections: Rejections

    def open_client_mode(self) -> Any:
        self.transport = _PeerOnly(self.peer, self.rejections).open_client_mode(self.iface)
        return self.transport

    @classmethod
    async def for_device(cls, device: SnmpDevice, rejections: Rejections) -> "DeviceTarget":
        target = await cls.create((device.address, device.port), timeout=device.timeout, retries=device.retries)
        target.peer = tuple(target.transport_address[:2])  # type: ignore[assignment]
        target.rejections = rejections
        target.TRANSPORT_DOMAIN = udp.DOMAIN_NAME + (next(_domains),)  # type: ignore[misc]
        return target

    def renewed(self) -> "DeviceTarget":
        """The same device on a fresh domain: pysnmp knows no engine there and discovers it again."""
        fresh = type(self).__new__(type(self))
        fresh.__dict__.update(self.__dict__)
        fresh.transport = None
        fresh.TRANSPORT_DOMAIN = udp.DOMAIN_NAME + (next(_domains),)  # type: ignore[misc]
        return fresh


def peer_engine_id(engine: SnmpEngine, target: DeviceTarget) -> bytes | None:
    """The snmpEngineID pysnmp has discovered for ``target``, if any."""
    mp = engine.message_processing_subsystems.get(3)  # type: ignore[call-overload]
    if mp is None:
        return None
    security_engine_id, _, _ = mp.get_peer_engine_info(target.TRANSPORT_DOMAIN, target.transport_address)
    return None if security_engine_id is None else bytes(security_engine_id)


def release(engine: SnmpEngine, target: DeviceTarget) -> None:
    """Close ``target``'s transport and drop what pysnmp's hlapi cached for its domain."""
    domain = target.TRANSPORT_DOMAIN
    cache = engine.get_user_context(_LCD) or {}
    for key, (name, _) in list(cache.get("addr", {}).items()):
        if key[1] == domain:
            del cache["addr"][key]
            try:
                pysnmp_config.delete_target_address(engine, name)
            except Exception:  # noqa: BLE001 - already gone is fine
                pass
    entry = cache.get("tran", {}).pop(domain, None)
    try:
        pysnmp_config.delete_transport(engine, domain)
    except Exception:  # noqa: BLE001 - never added, or already gone
        pass
    transport = entry[0] if entry else target.transport
    if transport is not None:
        transport.close_transport()


class _NoMibCompiler:
    """Stands in for pysmi's MIB compiler on an engine's MIB builder: it compiles nothing.

    Requests name their OIDs numerically and need only the MIBs pysnmp bundles. But
    unless a compiler is set, an engine's first request builds pysmi's parser: 0.7 s
    of CPU on the event loop, so every poll in flight then (every device's first
    poll, at start-up) takes that much longer, and with a short timeout fails. The
    real compiler would also try to fetch a missing MIB from the internet. With this
    one a missing MIB is an error, as it is where pysmi is not installed.
    """

    def compile(self, *names: str, **options: Any) -> dict[str, str]:
        return dict.fromkeys(names, "missing")


def new_engine() -> SnmpEngine:
    """A pysnmp engine that resolves numeric OIDs without building a MIB compiler."""
    engine = SnmpEngine()
    engine.get_mib_builder().set_mib_compiler(_NoMibCompiler(), _BUNDLED_MIBS)
    return engine


class V3Engines:
    """The pysnmp engines of one event loop's v3 devices, and their resolved request varbinds.

    One engine in practice; a further one only for a v3 user name reused with
    different keys (see credential_fingerprint). The varbinds are cached
    because pysnmp resolves every request ObjectType against its MIB view even
    with ``lookupMib=False``, which costs about as much CPU as the rest of the
    request.
    """

    _VARBIND_CACHE_SIZE = 8192

    def __init__(self) -> None:
        self._engines: list[tuple[SnmpEngine, dict[str, bytes]]] = []
        self._varbinds: dict[Oid, ObjectType] = {}
        self._building = asyncio.Lock()  # one engine built at a time: two devices opened at once share it

    async def engine_for(self, device: SnmpDevice) -> SnmpEngine:
        """A pysnmp engine that can hold ``device``'s v3 credentials next to the others'.

        A new engine is built on a thread: its MIB instrumentation is 0.12 s of CPU
        that would otherwise hold up the polls in flight.
        """
        fingerprint = credential_fingerprint(device)
        async with self._building:
            engine = self._fitting(fingerprint)
            if engine is None:
                engine = await asyncio.to_thread(new_engine)
                self._engines.append((engine, dict([fingerprint]) if fingerprint else {}))
                if len(self._engines) > 1:
                    log.info("SNMP engine %d opened: SNMPv3 user %r is used with different keys",
                             len(self._engines), device.user)
            return engine

    def _fitting(self, fingerprint: tuple[str, bytes] | None) -> SnmpEngine | None:
        for engine, users in self._engines:
            if fingerprint is None:
                return engine
            user, digest = fingerprint
            if users.setdefault(user, digest) == digest:
                return engine
        return None

    def __len__(self) -> int:
        return len(self._engines)

    def object_type(self, oid: Oid) -> ObjectType:
        """A request varbind for ``oid``, resolved once and then reused."""
        cached = self._varbinds.get(oid)
        if cached is None:
            if len(self._varbinds) >= self._VARBIND_CACHE_SIZE:
                self._varbinds.clear()
            cached = self._varbinds[oid] = ObjectType(ObjectIdentity(ObjectName(oid)))
        return cached

    def close(self) -> None:
        for engine, _ in self._engines:
            try:
                engine.close_dispatcher()
            except Exception:  # noqa: BLE001 - closing must not fail the caller
                log.debug("closing an SNMP engine failed", exc_info=True)
        self._engines.clear()
        self._varbinds.clear()


def _plain(value: Any) -> Value:
    """A pysnmp/pyasn1 value as int, bytes or Missing (as collectors/snmp/ber.py decodes it)."""
    if isinstance(value, NoSuchInstance):
        return Missing.NO_SUCH_INSTANCE
    if isinstance(value, NoSuchObject):
        return Missing.NO_SUCH_OBJECT
    if isinstance(value, EndOfMibView):
        return Missing.END_OF_MIB_VIEW
    if isinstance(value, Integer):  # Integer32, Counter32/64, Gauge32, TimeTicks, Unsigned32
        return int(value)
    if isinstance(value, OctetString):  # also IpAddress, Opaque, Null
        return value.asOctets()
    return str(value).encode()  # OBJECT IDENTIFIER etc.: not used by this collector


class V3Session(DeviceSession):
    """SNMPv3 through pysnmp, on a transport of the device's own (DeviceTarget)."""

    def __init__(self, engines: Engines, device: SnmpDevice, target: DeviceTarget, engine: SnmpEngine) -> None:
        super().__init__(engines, device, f"{device.address}:{device.port}")
        self._engine = engine
        self._auth = usm_user(device)
        self._target = target
        self._context = ContextData(contextName=device.context.encode())
        self._engine_id: bytes | None = None
        # pysnmp retries on its own; this outer bound only catches a request
        # that pysnmp never completes (it should not happen, but a hung
        # request must never hang the poll).
        self._bound = self._timeout * (self._retries + 1) + 1.0

    @classmethod
    async def open(cls, engines: Engines, device: SnmpDevice) -> "V3Session":
        try:
            target = await DeviceTarget.for_device(device, engines.rejections)
        except (PySnmpError, OSError) as exc:
            raise CollectorError(f"{device.address}:{device.port}: cannot resolve address: {one_line(exc)}") from None
        return cls(engines, device, target, await engines.v3.engine_for(device))

    async def _get(self, oids: Sequence[Oid]) -> tuple[str, int, list[Value]]:
        status, index, rows = await self._call(get_cmd, [self._engines.v3.object_type(oid) for oid in oids])
        if not replies.echoes(list(oids), [oid for oid, _ in rows], 0 if status == "noError" else 1):
            self._engines.rejections.add(UNEXPECTED_OIDS)
            raise CollectorError(f"{self.where}: reply does not carry the OIDs asked; discarded")
        return status, index, [value for _, value in rows]

    async def _bulk(self, cursors: Sequence[Oid], repetitions: int) -> Raw:
        status, index, rows = await self._call(
            bulk_cmd, [self._engines.v3.object_type(oid) for oid in cursors], 0, repetitions
        )
        if status == "noError" and not replies.follows(cursors, repetitions, rows):
            self._engines.rejections.add(UNEXPECTED_OIDS)
            raise CollectorError(f"{self.where}: GETBULK reply does not follow the OIDs asked; discarded")
        return status, index, rows

    async def _call(self, command: Any, varbinds: list[ObjectType], *bulk: int) -> Raw:
        known = self._engine_id is not None
        try:
            return await self._once(command, varbinds, *bulk)
        except _TimedOut:
            if not known:
                raise CollectorError(self._no_response()) from None
        # The engine answered before: it may have come back with a new engineID,
        # whose reports pysnmp discards. Discover it again on a fresh transport.
        old = self._engine_id
        release(self._engine, self._target)
        self._target = self._target.renewed()
        self._engine_id = None
        try:
            result = await self._once(command, varbinds, *bulk)
        except _TimedOut:
            raise CollectorError(self._no_response()) from None
        if self._engine_id != old:
            log.warning("%s: SNMPv3 engine re-discovered, snmpEngineID changed %s -> %s (device replaced, "
                        "failed over, or its engineID is not persistent)", self.where,
                        old.hex() if old else "?", self._engine_id.hex() if self._engine_id else "?")
        return result

    async def _once(self, command: Any, varbinds: list[ObjectType], *bulk: int) -> Raw:
        """Run one pysnmp request; map every failure to CollectorError (a timeout to _TimedOut)."""
        try:
            async with asyncio.timeout(self._bound):
                error_indication, error_status, error_index, response = await command(
                    self._engine, self._auth, self._target, self._context, *bulk, *varbinds, lookupMib=False
                )
        except TimeoutError:
            raise CollectorError(f"{self.where}: request did not complete within {self._bound:.1f}s") from None
        except (PySnmpError, OSError) as exc:
            raise CollectorError(f"{self.where}: SNMP request failed: {one_line(exc)}") from None
        if isinstance(error_indication, errind.RequestTimedOut):
            raise _TimedOut()
        if error_indication:
            raise CollectorError(self._indication_message(error_indication))
        if self._engine_id is None:
            self._engine_id = peer_engine_id(self._engine, self._target)
        status = error_status.prettyPrint() if hasattr(error_status, "prettyPrint") else str(error_status)
        rows = [(tuple(name), _plain(value)) for name, value in response]
        return ("noError" if status in ("0", "noError") else status), int(error_index or 0), rows

    def _indication_message(self, indication: Any) -> str:
        if isinstance(indication, errind.WrongDigest):
            return f"{self.where}: SNMPv3 authentication failed (wrong auth_key or auth_protocol)"
        if isinstance(indication, errind.UnknownUserName):
            return f"{self.where}: SNMPv3 user unknown to the agent"
        if isinstance(indication, errind.DecryptionError):
            return f"{self.where}: SNMPv3 decryption failed (wrong priv_key or priv_protocol)"
        return f"{self.where}: SNMP error: {one_line(indication)}"


class _TimedOut(Exception):
    """pysnmp gave up after its retries (RequestTimedOut)."""


