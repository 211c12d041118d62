"""X.509 certificates of DUIS identities: reading one (what DUIS and the portal need to know about
it) and making test ones.

A certificate names its subject's DUIS identity (an EUI-64) in the subject's
``x500UniqueIdentifier`` attribute, as SMKI Organisation Certificates carry the entity identifier;
a common name that is an EUI-64 is accepted too, for certificates made by other tools. Every DUIS
key is ECDSA on P-256 (DOMAIN.md section 9): anything else is refused when read.

``make_test_identity`` makes a key and a self-signed certificate for demos and tests only: the
portal never makes, holds or publishes anyone's real keys.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.core.exceptions import ValidationError

from portal.ids import is_eui64, normalise_eui64

# A PEM upload larger than this is not a certificate (a chain of a few certificates is ~4 kB).
MAX_PEM_BYTES = 16 * 1024


@dataclass(frozen=True)
class CertificateInfo:
    """What the portal records of a certificate (adapter.models.Certificate has the same fields)."""

    subject_eui64: str
    issuer: str
    serial: str
    not_before: dt.datetime
    not_after: dt.datetime
    pem: str
    certificate: x509.Certificate

    def public_key(self) -> ec.EllipticCurvePublicKey:
        key = self.certificate.public_key()
        assert isinstance(key, ec.EllipticCurvePublicKey)  # read_certificate refused anything else
        return key


def subject_eui64_of(certificate: x509.Certificate) -> str:
    """The EUI-64 the certificate names (x500UniqueIdentifier first, then a common name)."""
    for oid in (NameOID.X500_UNIQUE_IDENTIFIER, NameOID.COMMON_NAME):
        for attribute in certificate.subject.get_attributes_for_oid(oid):
            value = attribute.value if isinstance(attribute.value, str) else attribute.value.decode("ascii", "replace")
            if is_eui64(value):
                return normalise_eui64(value)
    raise ValidationError("certificate: its subject names no EUI-64 (x500UniqueIdentifier or common name)",
                          code="no_eui64")


def read_certificate(pem: str | bytes, field: str = "certificate") -> CertificateInfo:
    """Read one PEM certificate, or raise ValidationError naming ``field``: not PEM, not exactly one
    certificate, not ECDSA P-256, or no EUI-64 in the subject."""
    data = pem.encode("ascii", "replace") if isinstance(pem, str) else pem
    if len(data) > MAX_PEM_BYTES:
        raise ValidationError(f"{field}: larger than {MAX_PEM_BYTES // 1024} kB, not a certificate", code="too_large")
    try:
        certificates = x509.load_pem_x509_certificates(data)
    except ValueError:
        raise ValidationError(f"{field}: not a PEM certificate (-----BEGIN CERTIFICATE-----)", code="not_pem") from None
    if len(certificates) != 1:
        raise ValidationError(f"{field}: give exactly one certificate, not {len(certificates)}", code="many")
    certificate = certificates[0]
    key = certificate.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise ValidationError(f"{field}: the key must be ECDSA on P-256 (secp256r1), as DUIS requires", code="key_type")
    try:
        eui64 = subject_eui64_of(certificate)
    except ValidationError as exc:
        raise ValidationError(exc.messages[0].replace("certificate", field, 1), code="no_eui64") from None
    return CertificateInfo(
        subject_eui64=eui64,
        issuer=certificate.issuer.rfc4514_string(),
        serial=str(certificate.serial_number),
        not_before=certificate.not_valid_before_utc,
        not_after=certificate.not_valid_after_utc,
        pem=certificate.public_bytes(serialization.Encoding.PEM).decode("ascii"),
        certificate=certificate,
    )


def private_key_pem(key: ec.EllipticCurvePrivateKey) -> str:
    """PKCS#8 PEM, unencrypted: the form WebCrypto's importKey("pkcs8") and openssl both read."""
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode("ascii")


def make_test_identity(eui64: str, *, name: str = "Test identity", key: ec.EllipticCurvePrivateKey | None = None,
                       days: int = 730, not_before: dt.datetime | None = None,
                       serial: int | None = None) -> tuple[ec.EllipticCurvePrivateKey, CertificateInfo]:
    """A P-256 key and a self-signed certificate naming ``eui64`` (demos and tests only)."""
    key = key or ec.generate_private_key(ec.SECP256R1())
    start = not_before or dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    subject = x509.Name([
        x509.NameAttribute(NameOID.COMMON_NAME, name),
        x509.NameAttribute(NameOID.X500_UNIQUE_IDENTIFIER, normalise_eui64(eui64, "eui64").replace("-", "")),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Portal test PKI (not SMKI)"),
    ])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(serial or x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=days))
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                     crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .sign(key, hashes.SHA256())
    )
    return key, read_certificate(certificate.public_bytes(serialization.Encoding.PEM))
