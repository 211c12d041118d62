"""Verification of critical pre-command signatures. The portal verifies; it never signs.

GBCS has the user sign a critical command's pre-command with its own ECDSA P-256 key (DOMAIN.md
section 9: DCC answers a critical request with the pre-command, the user signs it and sends it
back as a signed pre-command). Here the pre-command is the DUIS document the portal stores in
``ServiceRequest.precommand`` and serves unchanged (API ``GET .../precommand`` and the request
page). **The signed bytes are the UTF-8 encoding of that stored text, exactly as served**: no
canonicalisation, no trimming, no newline conversion. Those are the bytes the user's own tool
sees and signs, so the portal checks the same bytes and a single changed byte fails (``precommand_bytes``).

The signature is ECDSA with SHA-256 on P-256, given in base64 either as DER (what openssl and
Python's ``cryptography`` produce) or as raw ``r || s``, 64 bytes (what WebCrypto's
``crypto.subtle.sign`` produces). It verifies only against a certificate of the requesting
organisation for critical command signing that DCC approved, is not revoked, is within its
validity dates now and names the organisation's DUIS user id as its subject; every such
certificate is tried, so a rotation (new one approved, old one not yet revoked) works.

The portal holds no key that could make such a signature: the certificates hold public keys only,
and the certificate upload refuses any file with a private key in it.
"""
from __future__ import annotations

import base64
import binascii
import datetime as dt
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from django.core.exceptions import ValidationError

from adapter.choices import CertificateState, CertificateUsage
from portal.ids import normalise_eui64

if TYPE_CHECKING:
    from adapter.models import Certificate
    from portal.models import Organisation

ALGORITHM = "ECDSA-P256-SHA256"
ENCODING = "base64 of DER or of raw r||s (64 bytes)"
MAX_SIGNATURE_TEXT = 128  # base64 of a 72-byte DER signature is 96 characters


def precommand_bytes(precommand: str) -> bytes:
    """The bytes a user signs: the stored pre-command text, UTF-8, unchanged (see the module note)."""
    return precommand.encode("utf-8")


def decode_signature(text: str, field: str = "signature") -> bytes:
    """A base64 ECDSA signature as DER, or ValidationError naming ``field``."""
    text = (text or "").strip()
    if not text:
        raise ValidationError({field: "give the base64 ECDSA P-256 signature of the pre-command"})
    if len(text) > MAX_SIGNATURE_TEXT:
        raise ValidationError({field: f"longer than {MAX_SIGNATURE_TEXT} characters: not an ECDSA P-256 signature"})
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError({field: "not base64"}) from None
    if len(raw) == 64:
        # WebCrypto's form: r and s, 32 bytes each, big-endian
        return encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    if 8 <= len(raw) <= 72 and raw[0] == 0x30:
        return raw
    raise ValidationError({field: f"{len(raw)} bytes: an ECDSA P-256 signature is DER (up to 72 bytes, starting "
                                  "0x30) or raw r||s (64 bytes)"})


def verify(public_key: ec.EllipticCurvePublicKey, payload: bytes, der: bytes) -> bool:
    try:
        public_key.verify(der, payload, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError):
        return False
    return True


def signing_certificates(organisation: Organisation, when: dt.datetime) -> list[Certificate]:
    """The organisation's certificates a pre-command signature may verify against at ``when``."""
    from adapter.models import Certificate

    if not organisation.user_id:
        return []
    subject = normalise_eui64(organisation.user_id)
    return list(Certificate.objects.filter(
        organisation=organisation, usage=CertificateUsage.COMMAND_SIGNING, state=CertificateState.APPROVED,
        subject_eui64=subject, not_before__lte=when, not_after__gte=when).order_by("-not_before", "pk"))


def verifying_certificate(*, organisation: Organisation, precommand: str, signature: str,
                          when: dt.datetime) -> Certificate | None:
    """The certificate the signature verifies against, or None. Raises ValidationError (field
    ``signature``) only for a signature that is not even well formed."""
    from adapter.pki import read_certificate

    der = decode_signature(signature)
    payload = precommand_bytes(precommand)
    for certificate in signing_certificates(organisation, when):
        if verify(read_certificate(certificate.pem).public_key(), payload, der):
            return certificate
    return None
