"""Throwaway certificates for the labs' HTTPS endpoints (EC P-256, written as PEM files).

:func:`lab_certificates` writes a server certificate for 127.0.0.1 /
``localhost`` into a directory, in one of three shapes a probe must tell
apart: signed by a lab CA (``valid``, ``days_left`` days to go), signed by
the lab CA but past its notAfter (``expired``), or signed by itself
(``self-signed``, trusted by nobody).
"""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CertificateKind = Literal["valid", "expired", "self-signed"]
CERTIFICATE_KINDS: tuple[CertificateKind, ...] = ("valid", "expired", "self-signed")
DAY = datetime.timedelta(days=1)


@dataclass(frozen=True, slots=True)
class LabCertificates:
    cert_file: Path  # the server's certificate (PEM)
    key_file: Path  # its private key (PEM, unencrypted)
    ca_file: Path | None  # the CA that signed it; None for a self-signed one
    not_after: datetime.datetime  # the server certificate's expiry (UTC)


def subject(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def key_usage(*, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(digital_signature=True, key_cert_sign=ca, crl_sign=ca, content_commitment=False,
                         key_encipherment=False, data_encipherment=False, key_agreement=False,
                         encipher_only=False, decipher_only=False)


def alt_names(hosts: tuple[str, ...]) -> x509.SubjectAlternativeName:
    """Each host as an IP address SAN if it is one, else a DNS name."""
    names: list[x509.GeneralName] = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    return x509.SubjectAlternativeName(names)


def pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def lab_certificates(
    directory: Path, kind: CertificateKind = "valid", *, days_left: float = 90.0,
    hosts: tuple[str, ...] = ("127.0.0.1", "localhost"), name: str = "sla-agent lab",
) -> LabCertificates:
    """Write ``server.crt`` / ``server.key`` (and ``ca.crt`` unless self-signed) into ``directory``.

    ``days_left`` sets the notAfter of a ``valid`` or ``self-signed``
    certificate; an ``expired`` one ended a day ago (and began 90 days ago).
    Extensions follow what strict verifiers require (SKI/AKI, critical
    basicConstraints), so OpenSSL's verdict is about trust and dates only.
    """
    if kind not in CERTIFICATE_KINDS:
        raise ValueError(f"unknown certificate kind {kind!r} (one of {', '.join(CERTIFICATE_KINDS)})")
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    if kind == "expired":
        not_before, not_after = now - 90 * DAY, now - DAY
    else:
        not_before, not_after = now - datetime.timedelta(minutes=5), now + datetime.timedelta(days=days_left)

    server_key = ec.generate_private_key(ec.SECP256R1())
    builder = (
        x509.CertificateBuilder().subject_name(subject(hosts[0])).public_key(server_key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(not_before).not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(key_usage(ca=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(alt_names(hosts), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(server_key.public_key()), critical=False)
    )
    ca_file: Path | None = None
    if kind == "self-signed":
        server = builder.issuer_name(subject(hosts[0])).sign(server_key, hashes.SHA256())
    else:
        ca_key = ec.generate_private_key(ec.SECP256R1())
        # The CA outlives any leaf it signs here, so only the leaf's dates decide.
        ca = (
            x509.CertificateBuilder().subject_name(subject(f"{name} CA")).issuer_name(subject(f"{name} CA"))
            .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - 100 * DAY).not_valid_after(now + datetime.timedelta(days=max(days_left, 0) + 30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(key_usage(ca=True), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256())
        )
        server = (
            builder.issuer_name(ca.subject)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256())
        )
        ca_file = directory / "ca.crt"
        ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_file, key_file = directory / "server.crt", directory / "server.key"
    cert_file.write_bytes(server.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(pem_key(server_key))
    key_file.chmod(0o600)
    return LabCertificates(cert_file, key_file, ca_file, not_after)


__all__ = ["CERTIFICATE_KINDS", "CertificateKind", "LabCertificates", "alt_names", "key_usage", "lab_certificates",
           "pem_key", "subject"]
