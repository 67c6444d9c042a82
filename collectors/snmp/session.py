"""pysnmp plumbing: shared engines, per-device sessions, chunked GET, column walker.

Everything pysnmp-specific lives here. Callers get plain Python values
(int, bytes, or a :class:`Missing` marker) and see exactly one error type,
:class:`~collectors.base.CollectorError`, whose one-line message never
contains a community or key.
"""

from __future__ import annotations

import asyncio
import enum
import hashlib
import logging
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Sequence, Union

from pyasn1.type.univ import Integer, OctetString
from pydantic import SecretStr
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
    CommunityData,
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

from agent.config import SnmpDevice
from collectors.base import CollectorError
from collectors.snmp.oids import Oid, dotted

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

GET_CHUNK = 40  # varbinds per GET PDU: well under a 1,500-byte MTU for counters
BULK_REPETITIONS = 25  # rows per GETBULK response (x columns varbinds)
MAX_WALK_REQUESTS = 64  # a walk that needs more is a misbehaving agent
_VARBIND_CACHE_SIZE = 8192


class Missing(enum.Enum):
    """An SNMPv2 exception value in place of a variable's value."""

    NO_SUCH_OBJECT = "noSuchObject"
    NO_SUCH_INSTANCE = "noSuchInstance"
    END_OF_MIB_VIEW = "endOfMibView"


Value = Union[int, bytes, Missing]


def _plain(value: Any) -> Value:
    """A pysnmp/pyasn1 value as int, bytes or Missing."""
    if isinstance(value, NoSuchInstance):
        return Missing.NO_SUCH_INSTANCE
    if isinstance(value, NoSuchObject):
        return Missing.NO_SUCH_OBJECT
    if isinstance(value, EndOfMibView):
        return Missing.END_OF_MIB_VIEW
    if isinstance(value, Integer):  # Integer32, Counter32/64, Gauge32, TimeTicks, Unsigned32
        return int(value)
    if isinstance(value, OctetString):  # also IpAddress, Opaque
        return value.asOctets()
    return str(value).encode()  # OBJECT IDENTIFIER etc.: not used by this collector


def _secret(value: SecretStr | None) -> str | None:
    return None if value is None else value.get_secret_value()


def auth_data(device: SnmpDevice) -> CommunityData | UsmUserData:
    """pysnmp credentials for a device whose defaults are already applied."""
    if device.version == "v2c":
        community = _secret(device.community)
        if community is None:
            raise CollectorError("SNMPv2c device has no community configured")
        return CommunityData(community, mpModel=1)
    if not device.user:
        raise CollectorError("SNMPv3 device has no user configured")
    auth_key, priv_key = _secret(device.auth_key), _secret(device.priv_key)
    auth_protocol = AUTH_PROTOCOLS[device.auth_protocol or "sha"] if auth_key else USM_AUTH_NONE
    priv_protocol = PRIV_PROTOCOLS[device.priv_protocol or "aes"] if priv_key else USM_PRIV_NONE
    return UsmUserData(
        device.user,
        authKey=auth_key,
        privKey=priv_key,
        authProtocol=auth_protocol,
        privProtocol=priv_protocol,
    )


def _credential_fingerprint(device: SnmpDevice) -> tuple[str, bytes] | None:
    """(v3 user, digest of its key material), or None for v2c.

    pysnmp keeps one USM user row per user name per engine: two devices with
    the same user name but different keys cannot share an engine, or the
    engine would re-key the row on every alternate request.
    """
    if device.version != "v3" or not device.user:
        return None
    material = "\x00".join(
        str(part)
        for part in (device.auth_protocol, _secret(device.auth_key), device.priv_protocol, _secret(device.priv_key))
    )
    return device.user, hashlib.sha256(material.encode()).digest()


class Engines:
    """The SNMP engines of one event loop, shared by every device polled on it.

    One engine (one UDP socket, one dispatcher) in practice; a further engine
    only for a v3 user name reused with different keys (see
    :func:`_credential_fingerprint`). Also caches resolved request varbinds:
    pysnmp resolves every request ObjectType against its MIB view even with
    ``lookupMib=False``, which costs about as much CPU as the rest of the
    request; a resolved ObjectType is reused as-is.
    """

    def __init__(self) -> None:
        self.loop = asyncio.get_running_loop()
        self._engines: list[tuple[SnmpEngine, dict[str, bytes]]] = []
        self._varbinds: OrderedDict[Oid, ObjectType] = OrderedDict()

    def engine_for(self, device: SnmpDevice) -> SnmpEngine:
        """An engine that can hold ``device``'s credentials next to the others'."""
        fingerprint = _credential_fingerprint(device)
        for engine, users in self._engines:
            if fingerprint is None:
                return engine
            user, digest = fingerprint
            if users.setdefault(user, digest) == digest:
                return engine
        engine = SnmpEngine()
        self._engines.append((engine, dict([fingerprint]) if fingerprint else {}))
        if len(self._engines) > 1:
            log.info(
                "SNMP engine %d opened: SNMPv3 user %r is used with different keys", len(self._engines), device.user
            )
        return engine

    def __len__(self) -> int:
        """How many engines are open."""
        return len(self._engines)

    def object_type(self, oid: Oid) -> ObjectType:
        """A request varbind for ``oid``, resolved once and then reused (LRU)."""
        cached = self._varbinds.get(oid)
        if cached is not None:
            self._varbinds.move_to_end(oid)
            return cached
        cached = ObjectType(ObjectIdentity(ObjectName(oid)))
        self._varbinds[oid] = cached
        if len(self._varbinds) > _VARBIND_CACHE_SIZE:
            self._varbinds.popitem(last=False)
        return cached

    def close(self) -> None:
        """Close every engine's dispatcher and socket."""
        for engine, _ in self._engines:
            try:
                engine.close_dispatcher()
            except Exception:  # noqa: BLE001 - closing must not fail the caller
                log.debug("closing an SNMP engine failed", exc_info=True)
        self._engines.clear()
        self._varbinds.clear()


@dataclass(frozen=True, slots=True)
class _Request:
    """What an error message may name: where, and the per-request bound."""

    where: str
    timeout: float
    retries: int


class DeviceSession:
    """One device's engine, credentials and transport target, created once and reused."""

    def __init__(self, engines: Engines, device: SnmpDevice, target: UdpTransportTarget) -> None:
        self._engines = engines
        self._engine = engines.engine_for(device)
        self._auth = auth_data(device)
        self._target = target
        self._context = ContextData(contextName=device.context.encode()) if device.version == "v3" else ContextData()
        timeout, retries = float(device.timeout or 0), int(device.retries or 0)
        self._request = _Request(f"{device.address}:{device.port}", timeout, retries)
        # pysnmp retries on its own; this outer bound only catches a request
        # that pysnmp never completes (it should not happen, but a hung
        # request must never hang the poll).
        self._bound = timeout * (retries + 1) + 1.0

    @classmethod
    async def create(cls, engines: Engines, device: SnmpDevice) -> "DeviceSession":
        """Resolve the address (once) and build the session; CollectorError if it cannot."""
        try:
            target = await UdpTransportTarget.create(
                (device.address, device.port), timeout=device.timeout, retries=device.retries
            )
        except (PySnmpError, OSError) as exc:
            raise CollectorError(f"{device.address}:{device.port}: cannot resolve address: {_one_line(exc)}") from None
        return cls(engines, device, target)

    @property
    def where(self) -> str:
        return self._request.where

    async def get(self, oids: Sequence[Oid]) -> dict[Oid, Value]:
        """GET ``oids``, in PDUs of at most GET_CHUNK varbinds sent concurrently."""
        chunks = [oids[i : i + GET_CHUNK] for i in range(0, len(oids), GET_CHUNK)]
        results = await asyncio.gather(*(self._get_pdu(chunk) for chunk in chunks))
        merged: dict[Oid, Value] = {}
        for result in results:
            merged.update(result)
        return merged

    async def _get_pdu(self, oids: Sequence[Oid]) -> dict[Oid, Value]:
        varbinds = [self._engines.object_type(oid) for oid in oids]
        status, index, response = await self._call(get_cmd, *varbinds)
        if status == "tooBig" and len(oids) > 1:
            # The agent's message size is smaller than we assumed: split.
            half = len(oids) // 2
            first, second = await asyncio.gather(self._get_pdu(oids[:half]), self._get_pdu(oids[half:]))
            return {**first, **second}
        self._check_status(status, index, oids)
        if len(response) != len(oids):
            raise CollectorError(f"{self.where}: agent answered {len(response)} of {len(oids)} variables")
        return {oid: _plain(value) for oid, (_, value) in zip(oids, response)}

    async def walk_columns(self, columns: Sequence[Oid]) -> dict[Oid, dict[Oid, Value]]:
        """Walk several table columns at once with GETBULK: ``{column: {index suffix: value}}``.

        Each request carries the columns that have not ended, each from its
        last OID; a column ends at the first OID outside it or endOfMibView.
        """
        result: dict[Oid, dict[Oid, Value]] = {column: {} for column in columns}
        cursor: dict[Oid, Oid] = {column: column for column in columns}
        active = list(columns)
        repetitions = BULK_REPETITIONS
        for _ in range(MAX_WALK_REQUESTS):
            if not active:
                return result
            varbinds = [self._engines.object_type(cursor[column]) for column in active]
            status, index, response = await self._call(bulk_cmd, 0, repetitions, *varbinds)
            if status == "tooBig" and repetitions > 1:
                repetitions = max(1, repetitions // 2)
                continue
            self._check_status(status, index, [cursor[c] for c in active])
            if not response:
                raise CollectorError(f"{self.where}: empty GETBULK response")
            ended: set[Oid] = set()
            # The response is rows of len(active) varbinds, in request order.
            for position, (name, value) in enumerate(response):
                column = active[position % len(active)]
                if column in ended:
                    continue
                oid = tuple(name)
                if isinstance(value, EndOfMibView) or oid[: len(column)] != column or len(oid) == len(column):
                    ended.add(column)
                    continue
                if oid <= cursor[column]:
                    raise CollectorError(f"{self.where}: agent returned non-increasing OID {dotted(oid)}")
                result[column][oid[len(column) :]] = _plain(value)
                cursor[column] = oid
            active = [column for column in active if column not in ended]
        raise CollectorError(f"{self.where}: table walk did not end after {MAX_WALK_REQUESTS} requests")

    async def _call(self, command: Any, *args: Any) -> tuple[str, int, Sequence[Any]]:
        """Run one pysnmp request; map every failure to CollectorError."""
        try:
            async with asyncio.timeout(self._bound):
                error_indication, error_status, error_index, response = await command(
                    self._engine, self._auth, self._target, self._context, *args, lookupMib=False
                )
        except TimeoutError:
            raise CollectorError(f"{self.where}: request did not complete within {self._bound:.1f}s") from None
        except (PySnmpError, OSError) as exc:
            raise CollectorError(f"{self.where}: SNMP request failed: {_one_line(exc)}") from None
        if error_indication:
            raise CollectorError(self._indication_message(error_indication))
        status = error_status.prettyPrint() if hasattr(error_status, "prettyPrint") else str(error_status)
        return ("noError" if status in ("0", "noError") else status), int(error_index or 0), response

    def _check_status(self, status: str, index: int, oids: Sequence[Oid]) -> None:
        if status == "noError":
            return
        at = f" at {dotted(oids[index - 1])}" if 0 < index <= len(oids) else ""
        raise CollectorError(f"{self.where}: agent returned error-status {status}{at}")

    def _indication_message(self, indication: Any) -> str:
        request = self._request
        if isinstance(indication, errind.RequestTimedOut):
            tries = request.retries + 1
            return (
                f"{request.where}: no response within {request.timeout:g}s x {tries} "
                f"{'try' if tries == 1 else 'tries'} (agent down, unreachable, or wrong community/v3 keys)"
            )
        if isinstance(indication, errind.WrongDigest):
            return f"{request.where}: SNMPv3 authentication failed (wrong auth_key or auth_protocol)"
        if isinstance(indication, errind.UnknownUserName):
            return f"{request.where}: SNMPv3 user unknown to the agent"
        if isinstance(indication, errind.DecryptionError):
            return f"{request.where}: SNMPv3 decryption failed (wrong priv_key or priv_protocol)"
        return f"{request.where}: SNMP error: {_one_line(indication)}"


def _one_line(exc: object) -> str:
    text = " ".join(str(exc).split())
    return text[:200] if text else type(exc).__name__
