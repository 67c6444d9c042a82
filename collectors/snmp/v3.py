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
"""

from __future__ import annotations

import hashlib
import itertools
import logging
from typing import Any

from pydantic import SecretStr
from pysnmp.carrier.asyncio.dgram import udp
from pysnmp.entity import config as pysnmp_config
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
    SnmpEngine,
    UdpTransportTarget,
    UsmUserData,
)

from agent.config import SnmpDevice
from collectors.base import CollectorError
from collectors.snmp.v2c import WRONG_ADDRESS, Rejections

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

_LCD = "CommandGeneratorLcdConfigurator"  # the user context where pysnmp's hlapi caches transports
_domains = itertools.count(1)


def secret(value: SecretStr | None) -> str | None:
    return None if value is None else value.get_secret_value()


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
