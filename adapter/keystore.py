"""The key store: the only place the portal's DUIS message-signing private keys live.

One interface, ``KeyStore``: ``private_key(eui64)`` (a cryptography key object signxml signs with),
``sign(eui64, data)`` (ECDSA-SHA256, DER), ``certificate(eui64)`` and ``create(eui64)``. Two kinds,
picked by settings.ADAPTER_KEYSTORE:

* ``pkcs11``: a PKCS#11 token (an HSM in production; SoftHSM2 in the tests) through python-pkcs11.
  The key pair is generated inside the token, private key sensitive and not extractable: it never
  leaves the token. ``private_key`` returns ``TokenPrivateKey``, a cryptography
  EllipticCurvePrivateKey whose ``sign`` hashes the data here (SHA-256) and asks the token for
  CKM_ECDSA over the digest, so signxml and cryptography's certificate builder use the token
  without knowing it. The certificate is kept in the token too (a CKO_CERTIFICATE with the key's id).
* ``local``: test keys in PEM files under settings.ADAPTER_KEYSTORE_DIR (``<EUI64>.key.pem``,
  mode 0600, and ``<EUI64>.cert.pem``), made by ``manage.py duis keys``. Demos and tests only.

Which identities the portal may sign for is not decided here (adapter.services.may_sign_for):
a key store holds keys, it does not grant their use.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import os
import threading
from pathlib import Path
from typing import Any, NoReturn

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, encode_dss_signature
from django.conf import settings

from adapter.pki import CertificateInfo, make_test_identity, private_key_pem, read_certificate
from portal.ids import normalise_eui64


class KeyStoreError(Exception):
    """No key for that identity, or the key store cannot be used (token missing, wrong PIN)."""


class KeyStore:
    """Private keys of the DUIS identities the portal signs for, and their certificates."""

    name = "base"

    def has(self, eui64: str) -> bool:
        raise NotImplementedError

    def private_key(self, eui64: str) -> ec.EllipticCurvePrivateKey:
        raise NotImplementedError

    def certificate(self, eui64: str) -> CertificateInfo:
        raise NotImplementedError

    def create(self, eui64: str, *, name: str = "DUIS identity", days: int = 730) -> CertificateInfo:
        """A new key pair for ``eui64`` (made inside the store) and a self-signed test certificate."""
        raise NotImplementedError

    def sign(self, eui64: str, data: bytes) -> bytes:
        """ECDSA-SHA256 of ``data`` with the identity's key, DER-encoded."""
        return self.private_key(eui64).sign(data, ec.ECDSA(hashes.SHA256()))


def _file_stem(eui64: str) -> str:
    return normalise_eui64(eui64, "eui64")


class LocalKeyStore(KeyStore):
    """Test keys in PEM files (never a production key store: the files are readable by the process)."""

    name = "local"

    def __init__(self, directory: str | os.PathLike[str] | None = None) -> None:
        self.directory = Path(directory or settings.ADAPTER_KEYSTORE_DIR)

    def _paths(self, eui64: str) -> tuple[Path, Path]:
        stem = _file_stem(eui64)
        return self.directory / f"{stem}.key.pem", self.directory / f"{stem}.cert.pem"

    def has(self, eui64: str) -> bool:
        key, cert = self._paths(eui64)
        return key.exists() and cert.exists()

    def private_key(self, eui64: str) -> ec.EllipticCurvePrivateKey:
        path = self._paths(eui64)[0]
        try:
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        except FileNotFoundError:
            raise KeyStoreError(f"no message-signing key for {eui64} in {self.directory}") from None
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise KeyStoreError(f"{path.name}: not an EC key")
        return key

    def certificate(self, eui64: str) -> CertificateInfo:
        path = self._paths(eui64)[1]
        try:
            return read_certificate(path.read_bytes(), field=path.name)
        except FileNotFoundError:
            raise KeyStoreError(f"no certificate for {eui64} in {self.directory}") from None

    def create(self, eui64: str, *, name: str = "DUIS identity", days: int = 730) -> CertificateInfo:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        key_path, cert_path = self._paths(eui64)
        key, info = make_test_identity(eui64, name=name, days=days)
        descriptor = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="ascii") as handle:
            handle.write(private_key_pem(key))
        cert_path.write_text(info.pem, encoding="ascii")
        return info


# --- PKCS#11 ------------------------------------------------------------------------------------

class TokenPrivateKey(ec.EllipticCurvePrivateKey):
    """A P-256 private key that stays in a PKCS#11 token: ``sign`` is done by the token (CKM_ECDSA
    over the SHA-256 digest computed here); every way of getting the key's bytes out refuses."""

    def __init__(self, store: Pkcs11KeyStore, label: str, public: ec.EllipticCurvePublicKey) -> None:
        self._store = store
        self._label = label
        self._public = public

    def sign(self, data: Any, signature_algorithm: Any) -> bytes:
        if not isinstance(signature_algorithm, ec.ECDSA):
            raise ValueError("only ECDSA")
        algorithm = signature_algorithm.algorithm
        if isinstance(algorithm, Prehashed):
            digest = bytes(data)
        elif isinstance(algorithm, hashes.SHA256):
            digest = hashlib.sha256(bytes(data)).digest()
        else:
            raise ValueError("DUIS signs with ECDSA-SHA256 only")
        raw = self._store.token_sign(self._label, digest)  # r || s, 32 bytes each
        return encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))

    def public_key(self) -> ec.EllipticCurvePublicKey:
        return self._public

    @property
    def curve(self) -> ec.EllipticCurve:
        return self._public.curve

    @property
    def key_size(self) -> int:
        return self._public.key_size

    def exchange(self, algorithm: Any, peer_public_key: Any) -> NoReturn:
        raise NotImplementedError("a message-signing key only signs")

    def private_numbers(self) -> NoReturn:
        raise TypeError("the private key is inside the PKCS#11 token and cannot be read")

    def private_bytes(self, encoding: Any, format: Any, encryption_algorithm: Any) -> NoReturn:  # noqa: A002
        raise TypeError("the private key is inside the PKCS#11 token and cannot be exported")

    def __copy__(self) -> TokenPrivateKey:
        return self

    def __deepcopy__(self, memo: Any) -> TokenPrivateKey:
        return self


class Pkcs11KeyStore(KeyStore):
    """Keys in a PKCS#11 token (settings ADAPTER_PKCS11_LIB, ADAPTER_PKCS11_TOKEN, ADAPTER_PKCS11_PIN).
    Objects are labelled with the EUI-64; one session is kept per store, used under a lock."""

    name = "pkcs11"

    def __init__(self, lib: str | None = None, token: str | None = None, pin: str | None = None) -> None:
        import pkcs11

        self._lib_path = lib or settings.ADAPTER_PKCS11_LIB
        try:
            self._token = pkcs11.lib(self._lib_path).get_token(token_label=token or settings.ADAPTER_PKCS11_TOKEN)
            self._session = self._token.open(rw=True, user_pin=pin if pin is not None else settings.ADAPTER_PKCS11_PIN)
        except (pkcs11.PKCS11Error, RuntimeError, OSError) as exc:
            raise KeyStoreError(f"PKCS#11 token {token or settings.ADAPTER_PKCS11_TOKEN!r} in {self._lib_path}: "
                                f"{exc.__class__.__name__} {exc}") from None
        self._lock = threading.Lock()

    def close(self) -> None:
        self._session.close()

    def _object(self, label: str, object_class: Any) -> Any:
        from pkcs11 import Attribute

        found = list(self._session.get_objects({Attribute.LABEL: label, Attribute.CLASS: object_class}))
        return found[0] if found else None

    def has(self, eui64: str) -> bool:
        from pkcs11 import ObjectClass

        with self._lock:
            return self._object(_file_stem(eui64), ObjectClass.PRIVATE_KEY) is not None

    def token_private_key(self, eui64: str) -> Any:
        """The token's own object (for inspecting its attributes, e.g. CKA_EXTRACTABLE)."""
        from pkcs11 import ObjectClass

        with self._lock:
            return self._object(_file_stem(eui64), ObjectClass.PRIVATE_KEY)

    def token_sign(self, label: str, digest: bytes) -> bytes:
        from pkcs11 import Mechanism, ObjectClass

        with self._lock:
            key = self._object(label, ObjectClass.PRIVATE_KEY)
            if key is None:
                raise KeyStoreError(f"no message-signing key for {label} in the token")
            return bytes(key.sign(digest, mechanism=Mechanism.ECDSA))

    def _public_key(self, label: str) -> ec.EllipticCurvePublicKey:
        from pkcs11 import ObjectClass
        from pkcs11.util.ec import encode_ec_public_key

        with self._lock:
            public = self._object(label, ObjectClass.PUBLIC_KEY)
            if public is None:
                raise KeyStoreError(f"no message-signing key for {label} in the token")
            der = encode_ec_public_key(public)
        key = serialization.load_der_public_key(der)
        assert isinstance(key, ec.EllipticCurvePublicKey)
        return key

    def private_key(self, eui64: str) -> ec.EllipticCurvePrivateKey:
        label = _file_stem(eui64)
        return TokenPrivateKey(self, label, self._public_key(label))

    def certificate(self, eui64: str) -> CertificateInfo:
        from pkcs11 import Attribute, ObjectClass

        with self._lock:
            found = self._object(_file_stem(eui64), ObjectClass.CERTIFICATE)
            if found is None:
                raise KeyStoreError(f"no certificate for {eui64} in the token")
            der = bytes(found[Attribute.VALUE])
        from cryptography import x509

        return read_certificate(x509.load_der_x509_certificate(der).public_bytes(serialization.Encoding.PEM))

    def create(self, eui64: str, *, name: str = "DUIS identity", days: int = 730) -> CertificateInfo:
        from pkcs11 import Attribute, CertificateType, KeyType, ObjectClass
        from pkcs11.util.ec import encode_named_curve_parameters

        label = _file_stem(eui64)
        key_id = hashlib.sha256(label.encode()).digest()[:16]
        with self._lock:
            params = self._session.create_domain_parameters(
                KeyType.EC, {Attribute.EC_PARAMS: encode_named_curve_parameters("secp256r1")}, local=True)
            # generated in the token: sensitive, never extractable, a signing key only
            params.generate_keypair(store=True, label=label, id=key_id, private_template={
                Attribute.SENSITIVE: True, Attribute.EXTRACTABLE: False, Attribute.SIGN: True,
                Attribute.DECRYPT: False, Attribute.DERIVE: False, Attribute.PRIVATE: True,
            })
        key = self.private_key(eui64)
        start = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
        _key, info = make_test_identity(eui64, name=name, key=key, days=days, not_before=start)
        der = info.certificate.public_bytes(serialization.Encoding.DER)
        with self._lock:
            self._session.create_object({
                Attribute.CLASS: ObjectClass.CERTIFICATE, Attribute.CERTIFICATE_TYPE: CertificateType.X_509,
                Attribute.TOKEN: True, Attribute.LABEL: label, Attribute.ID: key_id, Attribute.VALUE: der,
                Attribute.SUBJECT: info.certificate.subject.public_bytes(),
            })
        return info


_STORES: dict[tuple[str, str], KeyStore] = {}
_STORES_LOCK = threading.Lock()


def get_keystore() -> KeyStore:
    """The key store named by settings.ADAPTER_KEYSTORE (one PKCS#11 session per process)."""
    kind = settings.ADAPTER_KEYSTORE
    if kind == "local":
        return LocalKeyStore()
    if kind != "pkcs11":
        raise KeyStoreError(f"ADAPTER_KEYSTORE {kind!r}: expected local or pkcs11")
    marker = (settings.ADAPTER_PKCS11_LIB, settings.ADAPTER_PKCS11_TOKEN)
    with _STORES_LOCK:
        if marker not in _STORES:
            _STORES[marker] = Pkcs11KeyStore()
        return _STORES[marker]
