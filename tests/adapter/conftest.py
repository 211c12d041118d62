"""Fixtures of the adapter tests: the catalogue and a few devices of suppliers A and B."""
import pytest

from adapter import catalogue
from adapter.models import ServiceRequestVariant
from inventory import services as inventory_services


@pytest.fixture
def srvs(db):
    # transactional tests empty the tables the data migration filled, so load again (idempotent)
    catalogue.load(ServiceRequestVariant)
    return {srv.code: srv for srv in ServiceRequestVariant.objects.all()}


@pytest.fixture(autouse=True)
def _quiet_simulator(quiet_simulator):
    # no random failures unless a test asks for them
    return quiet_simulator


def make_device(device_id, supplier, device_type="ESME", status="commissioned", region="north"):
    return inventory_services.device_create(device_id=device_id, device_type=device_type, supplier=supplier,
                                            region=region, status=status)


@pytest.fixture
def devices(orgs):
    return {
        "a_esme": make_device("00-DB-12-34-56-78-90-A0", orgs["SUPA"]),
        "a_gsme": make_device("00-DB-12-34-56-78-90-A1", orgs["SUPA"], device_type="GSME", region="south"),
        "a_decom": make_device("00-DB-12-34-56-78-90-A2", orgs["SUPA"], status="pending"),
        "a_hcalcs": make_device("00-DB-12-34-56-78-90-A3", orgs["SUPA"], device_type="HCALCS", region="central"),
        "b_esme": make_device("00-DB-12-34-56-78-90-B0", orgs["SUPB"]),
    }


@pytest.fixture
def duis_keys(db, orgs, settings, tmp_path_factory, dcc_admin):
    """A local key store in a temporary directory with keys for DCC's DUIS user ids, the head-end
    and supplier A (which delegates message signing to the portal; supplier B does not), made by
    ``manage.py duis keys`` and recorded as approved Certificates. Returns the key store."""
    from django.core.management import call_command

    from adapter import services
    from adapter.keystore import LocalKeyStore

    settings.ADAPTER_KEYSTORE = "local"
    settings.ADAPTER_KEYSTORE_DIR = str(tmp_path_factory.mktemp("keys"))
    services.delegation_grant(organisation=orgs["SUPA"], actor=dcc_admin)
    call_command("duis", "keys", "--quiet")
    return LocalKeyStore()
def sign_precommand(key, precommand, *, raw=False):
    """What the user's own tool does: ECDSA P-256 over the pre-command's UTF-8 bytes, base64 (DER,
    or WebCrypto's raw r||s)."""
    import base64

    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

    der = key.sign(precommand.encode("utf-8"), ec.ECDSA(hashes.SHA256()))
    if raw:
        r, s = decode_dss_signature(der)
        return base64.b64encode(r.to_bytes(32, "big") + s.to_bytes(32, "big")).decode()
    return base64.b64encode(der).decode()


@pytest.fixture
def command_key(orgs):
    """command_key(org, state="approved", **identity) -> the private key of a command-signing
    certificate registered for ``org`` (approved unless told otherwise): the user's own key,
    which in real life never reaches the portal."""
    from adapter.choices import CertificateUsage
    from adapter.models import Certificate
    from adapter.pki import make_test_identity

    def make(org, *, state="approved", eui64=None, **identity):
        key, info = make_test_identity(eui64 or org.user_id, name=f"{org.code} command signing", **identity)
        Certificate.objects.create(
            organisation=org, usage=CertificateUsage.COMMAND_SIGNING, subject_eui64=info.subject_eui64,
            issuer=info.issuer, serial=info.serial, pem=info.pem, not_before=info.not_before,
            not_after=info.not_after, state=state)
        return key

    return make


@pytest.fixture
def supa_key(command_key, orgs):
    return command_key(orgs["SUPA"])
