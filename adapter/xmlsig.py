"""DUIS message signatures: the enveloped XML signature every DUIS request and response carries.

The shape is the one DCC's own signing tool makes (DOMAIN.md section 9; checked against the signed
examples of Smart DCC's public DUIS templates, facts only): one ``ds:Signature``, the last child of
the root, with

* Reference URI="" (the whole document) and the transforms enveloped-signature then Exclusive
  XML Canonicalization (http://www.w3.org/2001/10/xml-exc-c14n#),
* CanonicalizationMethod Exclusive XML Canonicalization, DigestMethod SHA-256,
* SignatureMethod ECDSA-SHA256 (http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256) on P-256,
* KeyInfo holding only X509Data/X509IssuerSerial of the signer's certificate: DUIS never embeds the
  certificate; the receiver looks it up by issuer and serial among the certificates it trusts.

signxml (on lxml) does the canonicalisation and the cryptography; this module only fixes the
profile, builds the KeyInfo and decides which certificate a document may be signed by.
``sign_document`` returns bytes and those bytes are what is sent: a signed document is never
parsed and serialised again (whitespace or prefix changes would break the signature).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

import defusedxml.ElementTree as SafeET
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from defusedxml import DefusedXmlException
from lxml import etree
from signxml import (
    CanonicalizationMethod,
    DigestAlgorithm,
    SignatureConfiguration,
    SignatureMethod,
    XMLSigner,
    XMLVerifier,
    methods,
)
from signxml.exceptions import InvalidInput, InvalidSignature, SignXMLException

from adapter.pki import CertificateInfo

if TYPE_CHECKING:
    from adapter.models import Certificate

DS_NS = "http://www.w3.org/2000/09/xmldsig#"
EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
ECDSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"
SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
# A DUIS document is a few kB; anything much larger is refused before parsing.
MAX_DOCUMENT_BYTES = 1024 * 1024
NSMAP = {"ds": DS_NS}


class SignatureError(ValueError):
    """The document's signature does not hold; the message says why (unsigned, tampered, unknown,
    expired or revoked certificate, wrong profile)."""


def _ds(tag: str) -> str:
    return f"{{{DS_NS}}}{tag}"


def key_info(certificate: CertificateInfo) -> etree._Element:
    """KeyInfo/X509Data/X509IssuerSerial of ``certificate`` and nothing else (no embedded certificate)."""
    info = etree.Element(_ds("KeyInfo"), nsmap=NSMAP)
    data = etree.SubElement(info, _ds("X509Data"))
    issuer_serial = etree.SubElement(data, _ds("X509IssuerSerial"))
    etree.SubElement(issuer_serial, _ds("X509IssuerName")).text = certificate.issuer
    etree.SubElement(issuer_serial, _ds("X509SerialNumber")).text = certificate.serial
    return info


def _parser() -> etree.XMLParser:
    # No DTDs, entities or network: the document may come from anyone.
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                           remove_blank_text=False)


def _check_safe(data: bytes) -> None:
    if len(data) > MAX_DOCUMENT_BYTES:
        raise SignatureError(f"document larger than {MAX_DOCUMENT_BYTES // 1024} kB")
    try:
        SafeET.fromstring(data, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise SignatureError(f"document refused: {exc.__class__.__name__} (no DTDs or entities in DUIS)") from None
    except SafeET.ParseError as exc:
        raise SignatureError(f"not well-formed XML: {exc}") from None


def sign_document(document: str | bytes, key: ec.EllipticCurvePrivateKey, certificate: CertificateInfo) -> bytes:
    """The DUIS document signed with ``key`` (whose certificate is ``certificate``), as the bytes to send."""
    data = document.encode("utf-8") if isinstance(document, str) else document
    _check_safe(data)
    if not isinstance(key.curve, ec.SECP256R1):
        raise SignatureError("DUIS message signing keys are ECDSA P-256")
    root = etree.fromstring(data, parser=_parser())
    if root.find(_ds("Signature")) is not None:
        raise SignatureError("the document is signed already")
    signer = XMLSigner(method=methods.enveloped, signature_algorithm=SignatureMethod.ECDSA_SHA256,
                       digest_algorithm=DigestAlgorithm.SHA256,
                       c14n_algorithm=CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0)
    signer.namespaces = {"ds": DS_NS}
    signed = signer.sign(root, key=key, key_info=key_info(certificate))  # Reference URI="" by default
    # serialised once, with the declaration DUIS documents carry (lxml's own uses single quotes)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + etree.tostring(signed, encoding="UTF-8")


@dataclass(frozen=True)
class IssuerSerial:
    issuer: str
    serial: str


def issuer_serial(document: str | bytes) -> IssuerSerial:
    """The X509IssuerSerial a signed document names, or SignatureError (unsigned, other KeyInfo)."""
    data = document.encode("utf-8") if isinstance(document, str) else document
    _check_safe(data)
    root = etree.fromstring(data, parser=_parser())
    signatures = root.findall(f".//{_ds('Signature')}")
    if not signatures:
        raise SignatureError("unsigned: the document has no ds:Signature")
    if len(signatures) > 1 or signatures[0].getparent() is not root:
        raise SignatureError("one enveloped ds:Signature, a child of the root element, is expected")
    signature = signatures[0]
    method = signature.find(f"{_ds('SignedInfo')}/{_ds('CanonicalizationMethod')}")
    if method is None or method.get("Algorithm") != EXC_C14N:
        raise SignatureError(f"CanonicalizationMethod must be Exclusive XML Canonicalization ({EXC_C14N})")
    references = signature.findall(f"{_ds('SignedInfo')}/{_ds('Reference')}")
    if len(references) != 1 or references[0].get("URI") != "":
        raise SignatureError('one Reference with URI="" (the whole document) is expected')
    info = signature.find(_ds("KeyInfo"))
    name = info.find(f"{_ds('X509Data')}/{_ds('X509IssuerSerial')}/{_ds('X509IssuerName')}") if info is not None \
        else None
    number = info.find(f"{_ds('X509Data')}/{_ds('X509IssuerSerial')}/{_ds('X509SerialNumber')}") if info is not None \
        else None
    if name is None or number is None or not (name.text or "").strip() or not (number.text or "").strip():
        raise SignatureError("KeyInfo must hold X509Data/X509IssuerSerial (X509IssuerName, X509SerialNumber)")
    serial = number.text.strip()
    if not serial.isdigit():
        raise SignatureError(f"X509SerialNumber {serial[:40]!r} is not a decimal number")
    return IssuerSerial(issuer=name.text.strip(), serial=str(int(serial)))


def same_issuer(left: str, right: str) -> bool:
    """Two RFC 4514 names denote the same issuer (spacing and escaping aside)."""
    if left == right:
        return True
    try:
        return x509.Name.from_rfc4514_string(left) == x509.Name.from_rfc4514_string(right)
    except ValueError:
        return False


def verify_with_certificate(document: str | bytes, pem: str, *, when: dt.datetime | None = None) -> bytes:
    """Check the signature against one certificate (no database) and return the signed bytes (what
    the signature covers: the document without its ds:Signature). Raises SignatureError."""
    data = document.encode("utf-8") if isinstance(document, str) else document
    issuer_serial(data)  # the profile: one enveloped signature, URI="", exc-c14n, X509IssuerSerial
    certificate = x509.load_pem_x509_certificate(pem.encode("ascii"))
    config = SignatureConfiguration(
        require_x509=True, expect_references=1,
        signature_methods=frozenset({SignatureMethod.ECDSA_SHA256}),
        digest_algorithms=frozenset({DigestAlgorithm.SHA256}),
        verification_time=when,
    )
    try:
        result = XMLVerifier().verify(etree.fromstring(data, parser=_parser()), x509_cert=certificate,
                                      expect_config=config)
    except InvalidSignature as exc:
        raise SignatureError(f"tampered: the signature does not match the document ({exc})") from None
    except (InvalidInput, SignXMLException) as exc:
        raise SignatureError(f"signature refused: {exc}") from None
    signed = result.signed_xml if not isinstance(result, list) else result[0].signed_xml
    return etree.tostring(signed)


@dataclass(frozen=True)
class Verified:
    certificate: Certificate
    signed: bytes  # what the signature covers; read this, not the document as received


def verify_document(document: str | bytes, *, usage: str, subject: str | None = None,
                    when: dt.datetime | None = None) -> Verified:
    """Check a signed DUIS document against the registered certificate its KeyInfo names (by issuer
    and serial), which must be of ``usage`` and, when given, name ``subject``; refuse an unsigned
    or tampered document and an unknown, not approved, expired or revoked certificate."""
    from django.utils import timezone

    from adapter.choices import CertificateState
    from adapter.models import Certificate

    when = when or timezone.now()
    named = issuer_serial(document)
    candidates = [c for c in Certificate.objects.filter(serial=named.serial, usage=usage)
                  if same_issuer(c.issuer, named.issuer)]
    if not candidates:
        raise SignatureError(f"unknown certificate: no registered {usage} certificate with issuer "
                             f"{named.issuer[:120]!r} and serial {named.serial}")
    certificate = candidates[0]
    if certificate.state == CertificateState.REVOKED:
        at = f" at {certificate.revoked_at.isoformat()}" if certificate.revoked_at else ""
        raise SignatureError(f"revoked certificate: serial {certificate.serial} of {certificate.subject_eui64} "
                             f"was revoked{at}")
    if certificate.state != CertificateState.APPROVED:
        raise SignatureError(f"certificate serial {certificate.serial} of {certificate.subject_eui64} is not "
                             f"approved (state {certificate.state})")
    if when < certificate.not_before:
        raise SignatureError(f"certificate serial {certificate.serial} is not valid before "
                             f"{certificate.not_before.isoformat()}")
    if when > certificate.not_after:
        raise SignatureError(f"expired certificate: serial {certificate.serial} of {certificate.subject_eui64} "
                             f"expired at {certificate.not_after.isoformat()}")
    if subject is not None and certificate.subject_eui64 != subject:
        raise SignatureError(f"signed by {certificate.subject_eui64}, not by {subject}")
    signed = verify_with_certificate(document, certificate.pem, when=when)
    return Verified(certificate=certificate, signed=signed)
