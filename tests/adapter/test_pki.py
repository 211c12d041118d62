"""adapter.pki: reading certificates of DUIS identities, refusing what is not one."""
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from django.core.exceptions import ValidationError

from adapter.pki import make_test_identity, private_key_pem, read_certificate


def test_test_identity_round_trips_with_its_eui64():
    key, info = make_test_identity("90b3d51f30010000", name="Supplier A")
    again = read_certificate(info.pem)
    assert again.subject_eui64 == "90-B3-D5-1F-30-01-00-00"
    assert again.serial == info.serial and again.issuer == info.issuer
    assert again.not_before < again.not_after
    assert again.public_key().public_numbers() == key.public_key().public_numbers()
    assert private_key_pem(key).startswith("-----BEGIN PRIVATE KEY-----")


def _certificate(key, name):
    builder = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
               .serial_number(7).not_valid_before(make_test_identity("0000000000000001")[1].not_before)
               .not_valid_after(make_test_identity("0000000000000001")[1].not_after))
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


@pytest.mark.parametrize("pem, message", [
    (b"", "not a PEM certificate"),
    (b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "not a PEM certificate"),
    (b"x" * 20000, "larger than"),
])
def test_garbage_is_refused_naming_the_field(pem, message):
    with pytest.raises(ValidationError, match=f"pem: .*{message}"):
        read_certificate(pem, field="pem")


def test_rsa_and_other_curves_are_refused():
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "00DB1234567890A0")])
    with pytest.raises(ValidationError, match="P-256"):
        read_certificate(_certificate(rsa.generate_private_key(public_exponent=65537, key_size=2048), name))
    with pytest.raises(ValidationError, match="P-256"):
        read_certificate(_certificate(ec.generate_private_key(ec.SECP384R1()), name))


def test_common_name_eui64_is_accepted_and_no_eui64_is_refused():
    key = ec.generate_private_key(ec.SECP256R1())
    cn = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "00DB1234567890A0")])
    named = read_certificate(_certificate(key, cn))
    assert named.subject_eui64 == "00-DB-12-34-56-78-90-A0"
    with pytest.raises(ValidationError, match="certificate: its subject names no EUI-64"):
        read_certificate(_certificate(key, x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Nobody")])))


def test_two_certificates_in_one_upload_are_refused():
    one = make_test_identity("0000000000000001")[1].pem
    with pytest.raises(ValidationError, match="exactly one certificate, not 2"):
        read_certificate(one + one)
