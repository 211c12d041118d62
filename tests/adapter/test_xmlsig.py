"""DUIS message signatures: the profile, checked by a second, independent verifier (xmlsec1 from
Debian) as well as by adapter.xmlsig; one changed character breaks both; the duis backend refuses
head-end responses that its registered head-end certificate does not verify and never signs for a
service user that has not delegated message signing; a PKCS#11 token (SoftHSM2) signs without its
private key ever leaving it."""
import datetime as dt
import shutil
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.management import CommandError, call_command
from lxml import etree

from adapter import backends, duis, xmlsig
from adapter.choices import AttemptState, CertificateState, RequestState
from adapter.keystore import KeyStoreError
from adapter.management.commands import headend_sim
from adapter.models import Certificate, ServiceRequest
from adapter.pki import make_test_identity

DS = {"ds": xmlsig.DS_NS}
REQUEST_ID = "90-B3-D5-1F-30-01-00-01:00-DB-12-34-56-78-90-A0:5"


def _xmlsec1():
    path = shutil.which("xmlsec1")
    if path is None:
        pytest.skip("xmlsec1 is not installed and could not be (scripts/test.sh installs the Debian package)")
    return path


def xmlsec1_verify(tmp_path, document: bytes, pem: str) -> subprocess.CompletedProcess:
    (tmp_path / "doc.xml").write_bytes(document)
    (tmp_path / "cert.pem").write_text(pem)
    return subprocess.run([_xmlsec1(), "--verify", "--pubkey-cert-pem", str(tmp_path / "cert.pem"),
                           "--enabled-reference-uris", "empty",
                           str(tmp_path / "doc.xml")], capture_output=True, text=True, timeout=30)


def test_signature_has_the_duis_profile_and_xmlsec1_verifies_it(tmp_path):
    key, info = make_test_identity("90-B3-D5-1F-30-01-00-01")
    signed = xmlsig.sign_document(duis.render_request(request_id=REQUEST_ID, srv_code="7.4"), key, info)
    assert signed.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<sr:Request')
    root = etree.fromstring(signed)
    signature = root[-1]
    assert signature.tag == f"{{{xmlsig.DS_NS}}}Signature" and len(root.findall(".//ds:Signature", DS)) == 1
    info_el = signature.find("ds:SignedInfo", DS)
    assert info_el.find("ds:CanonicalizationMethod", DS).get("Algorithm") == "http://www.w3.org/2001/10/xml-exc-c14n#"
    assert info_el.find("ds:SignatureMethod", DS).get("Algorithm") == \
        "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"
    reference = info_el.find("ds:Reference", DS)
    assert reference.get("URI") == ""
    assert [t.get("Algorithm") for t in reference.findall("ds:Transforms/ds:Transform", DS)] == [
        "http://www.w3.org/2000/09/xmldsig#enveloped-signature", "http://www.w3.org/2001/10/xml-exc-c14n#"]
    assert reference.find("ds:DigestMethod", DS).get("Algorithm") == "http://www.w3.org/2001/04/xmlenc#sha256"
    key_info = signature.find("ds:KeyInfo", DS)
    assert [el.tag.split("}")[1] for el in key_info.iter()] == [
        "KeyInfo", "X509Data", "X509IssuerSerial", "X509IssuerName", "X509SerialNumber"]
    assert key_info.findtext(".//ds:X509SerialNumber", namespaces=DS) == info.serial
    assert key_info.findtext(".//ds:X509IssuerName", namespaces=DS) == info.issuer
    result = xmlsec1_verify(tmp_path, signed, info.pem)
    assert result.returncode == 0 and "OK" in result.stdout + result.stderr, result.stderr
    assert duis.parse(xmlsig.verify_with_certificate(signed, info.pem))["header"]["serviceReferenceVariant"] == "7.4"


def test_one_changed_character_breaks_both_verifiers(tmp_path):
    key, info = make_test_identity("90-B3-D5-1F-30-01-00-01")
    signed = xmlsig.sign_document(duis.render_request(request_id=REQUEST_ID, srv_code="7.12",
                                                      params={"seconds": 900}), key, info)
    tampered = signed.replace(b"<sr:RandomisedOffsetLimit>900<", b"<sr:RandomisedOffsetLimit>901<")
    assert tampered != signed and len(tampered) == len(signed)
    assert xmlsec1_verify(tmp_path, signed, info.pem).returncode == 0
    result = xmlsec1_verify(tmp_path, tampered, info.pem)
    assert result.returncode != 0
    with pytest.raises(xmlsig.SignatureError, match="tampered"):
        xmlsig.verify_with_certificate(tampered, info.pem)
    # someone else's key, naming this certificate in its KeyInfo
    other_key, _ = make_test_identity("90-B3-D5-1F-30-01-00-01")
    forged = xmlsig.sign_document(duis.render_request(request_id=REQUEST_ID, srv_code="7.4"), other_key, info)
    with pytest.raises(xmlsig.SignatureError, match="tampered"):
        xmlsig.verify_with_certificate(forged, info.pem)
    assert xmlsec1_verify(tmp_path, forged, info.pem).returncode != 0


def test_hostile_documents_are_refused():
    key, info = make_test_identity("90-B3-D5-1F-30-01-00-01")
    bomb = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><r>&b;</r>'
    with pytest.raises(xmlsig.SignatureError, match="DTD|entities"):
        xmlsig.sign_document(bomb, key, info)
    with pytest.raises(duis.DuisError, match="DTD|entities"):
        duis.parse(bomb)
    with pytest.raises(xmlsig.SignatureError, match="unsigned"):
        xmlsig.issuer_serial(duis.render_request(request_id=REQUEST_ID, srv_code="7.4"))
    signed = xmlsig.sign_document(duis.render_request(request_id=REQUEST_ID, srv_code="7.4"), key, info)
    twice = signed.replace(b"</sr:Request>", signed[signed.index(b"<ds:Signature>"):signed.index(b"</sr:Request>")]
                           + b"</sr:Request>")
    with pytest.raises(xmlsig.SignatureError, match="one enveloped"):
        xmlsig.verify_with_certificate(twice, info.pem)


# --- the backend and head-end responses ---------------------------------------------------------

class _Answer(BaseHTTPRequestHandler):
    body = b""

    def do_POST(self):  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, format, *args):
        pass


@pytest.fixture
def answering_headend():
    """A real HTTP server on localhost answering every POST with the bytes the test sets."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Answer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _response(request_id):
    return duis.render_response(request_id=request_id, response_code="I0", srv_code="4.1.1",
                                body={"ImportRegister": {"@unit": "kWh", "#text": "1"}})


def _bad_answer(case, request_id, settings):
    from adapter import services

    text = _response(request_id)
    headend = settings.ADAPTER_HEADEND_ID
    if case == "unsigned":
        return text.encode(), "unsigned"
    if case == "tampered":
        return headend_sim.signed(text).replace(b"<sr:ResponseCode>I0<", b"<sr:ResponseCode>I9<"), "tampered"
    if case == "unknown":
        key, info = make_test_identity(headend)  # a key nobody registered
        return xmlsig.sign_document(text, key, info), "unknown certificate"
    start = dt.datetime.now(dt.UTC) - dt.timedelta(days=10)
    key, info = make_test_identity(headend, not_before=start, days=1 if case == "expired" else 365)
    certificate = services.keystore_certificate_register(info=info, organisation=None, usage="headend")
    if case == "revoked":
        Certificate.objects.filter(pk=certificate.pk).update(state=CertificateState.REVOKED)
    return xmlsig.sign_document(text, key, info), case


@pytest.mark.django_db
@pytest.mark.parametrize("case", ["unsigned", "tampered", "unknown", "expired", "revoked"])
def test_backend_refuses_a_response_not_signed_by_the_registered_headend(
        case, srvs, devices, supplier_a, duis_keys, settings, answering_headend, django_capture_on_commit_callbacks):
    from adapter import services

    settings.ADAPTER_BACKEND = "duis"
    settings.ADAPTER_DUIS_URL = f"http://127.0.0.1:{answering_headend.server_address[1]}/duis"
    backends.DuisBackend.breaker = backends.CircuitBreaker()
    request_id = f"90-B3-D5-1F-30-01-00-01:{devices['a_esme'].device_id}:77"
    body, reason = _bad_answer(case, request_id, settings)
    with pytest.raises(backends.SignatureRefused, match=reason):
        backends.DuisBackend()._outcome(200, {}, body)
    _Answer.body = body
    with django_capture_on_commit_callbacks(execute=True):
        request = services.request_submit(user=supplier_a, srv="4.1.1", device_id=devices["a_esme"].device_id,
                                          params={})
    request.refresh_from_db()
    assert request.state == RequestState.FAILED and request.responded_at is None and request.response in ({}, None)
    assert "head-end response refused" in request.message and reason in request.message
    attempt = request.send_attempts.get()  # final: not sent again
    assert attempt.state == AttemptState.LOST and attempt.outcome == "E20"
    # the same answer, signed by the registered head-end key, is taken
    _Answer.body = headend_sim.signed(_response(request.request_id))
    assert backends.DuisBackend()._outcome(200, {}, _Answer.body).code == "I0"


@pytest.mark.django_db
def test_portal_never_signs_for_a_service_user_that_has_not_delegated(
        srvs, devices, supplier_b, duis_keys, settings, django_capture_on_commit_callbacks, dcc_admin, orgs):
    from adapter import services

    settings.ADAPTER_BACKEND = "duis"
    settings.ADAPTER_DUIS_URL = "http://127.0.0.1:9/duis"  # never reached
    duis_keys.create(orgs["SUPB"].user_id)  # even with a key in the store
    with django_capture_on_commit_callbacks(execute=True):
        request = services.request_submit(user=supplier_b, srv="4.1.1", device_id=devices["b_esme"].device_id,
                                          params={})
    request.refresh_from_db()
    # held for supplier B's own signed document; nothing was sent or signed by the portal
    assert request.state == RequestState.AWAITING_DOCUMENT and not request.send_attempts.exists()
    # the backend refuses all the same, should anything hand it over unsigned
    backends.DuisBackend.breaker = backends.CircuitBreaker()
    with pytest.raises(backends.BackendError, match="has not delegated DUIS message signing"):
        backends.DuisBackend().render(request)
    with pytest.raises(CommandError, match="has not delegated"):
        call_command("duis", "render", request.request_id)
    # supplier A revokes its delegation: from then on nothing is signed for it either
    services.delegation_revoke(organisation=orgs["SUPA"], actor=dcc_admin)
    from adapter.selectors import may_sign_for

    assert not may_sign_for(orgs["SUPA"].user_id) and may_sign_for(orgs["DCC"].user_id)


@pytest.mark.django_db
def test_certificate_and_verify_commands(srvs, devices, supplier_a, duis_keys, tmp_path, capsys):
    from adapter import services

    request = services.request_submit(user=supplier_a, srv="7.4", device_id=devices["a_esme"].device_id, params={})
    call_command("duis", "render", request.request_id)
    rendered = capsys.readouterr().out.encode()
    assert rendered.startswith(b'<?xml version="1.0" encoding="UTF-8"?>') and rendered.count(b"<ds:Signature>") == 1
    call_command("duis", "certificate", supplier_a.organisation.user_id)
    pem = capsys.readouterr().out
    assert pem.startswith("-----BEGIN CERTIFICATE-----")
    assert xmlsec1_verify(tmp_path, rendered, pem).returncode == 0
    (tmp_path / "signed.xml").write_bytes(rendered)
    call_command("duis", "verify", str(tmp_path / "signed.xml"))
    assert "signature OK: request signed by 90-B3-D5-1F-30-01-00-01" in capsys.readouterr().out
    (tmp_path / "bad.xml").write_bytes(rendered.replace(b"<sr:ServiceReference>7.4<", b"<sr:ServiceReference>7.5<"))
    with pytest.raises(CommandError, match="signature does not hold: tampered"):
        call_command("duis", "verify", str(tmp_path / "bad.xml"))
    with pytest.raises(CommandError, match="EUI-64"):
        call_command("duis", "certificate", "not-an-id")
    with pytest.raises(KeyStoreError):
        duis_keys.certificate("00-11-22-33-44-55-66-77")


# --- PKCS#11: SoftHSM2 ----------------------------------------------------------------------------

SOFTHSM_LIB = "/usr/lib/softhsm/libsofthsm2.so"


@pytest.fixture(scope="module")
def softhsm_token(tmp_path_factory):
    """A fresh SoftHSM2 token in a temporary directory (its own SOFTHSM2_CONF)."""
    import os

    util = shutil.which("softhsm2-util")
    if util is None or not os.path.exists(SOFTHSM_LIB):
        pytest.skip("SoftHSM2 is not installed and could not be (scripts/test.sh installs the softhsm2 package)")
    directory = tmp_path_factory.mktemp("softhsm")
    (directory / "tokens").mkdir()
    conf = directory / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {directory / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n")
    saved = os.environ.get("SOFTHSM2_CONF")
    os.environ["SOFTHSM2_CONF"] = str(conf)  # read by the library when it is loaded, below
    subprocess.run([util, "--init-token", "--free", "--label", "portal-test", "--pin", "1234", "--so-pin", "5678"],
                   check=True, capture_output=True, timeout=30)
    yield {"lib": SOFTHSM_LIB, "token": "portal-test", "pin": "1234"}
    if saved is None:
        os.environ.pop("SOFTHSM2_CONF", None)
    else:
        os.environ["SOFTHSM2_CONF"] = saved


@pytest.mark.django_db
def test_pkcs11_key_store_signs_inside_the_token(softhsm_token, tmp_path, settings, srvs, devices, supplier_a,
                                                 dcc_admin, orgs):
    from pkcs11 import Attribute
    from pkcs11.exceptions import AttributeSensitive

    from adapter import keystore, services

    store = keystore.Pkcs11KeyStore(**softhsm_token)
    eui64 = orgs["SUPA"].user_id
    info = store.create(eui64, name="Albion Energy")
    assert store.has(eui64) and store.certificate(eui64).serial == info.serial
    token_key = store.token_private_key(eui64)
    assert token_key[Attribute.EXTRACTABLE] is False and token_key[Attribute.SENSITIVE] is True
    with pytest.raises(AttributeSensitive):
        token_key[Attribute.VALUE]  # the private value cannot be read out of the token
    key = store.private_key(eui64)
    with pytest.raises(TypeError, match="inside the PKCS#11 token"):
        key.private_bytes(None, None, None)
    # the certificate was signed by the token key too (self-signed) and names the EUI-64
    info.certificate.verify_directly_issued_by(info.certificate)
    # a DUIS request sent by the duis backend, signed through the PKCS#11 key store
    settings.ADAPTER_KEYSTORE, settings.ADAPTER_PKCS11_LIB = "pkcs11", softhsm_token["lib"]
    settings.ADAPTER_PKCS11_TOKEN, settings.ADAPTER_PKCS11_PIN = softhsm_token["token"], softhsm_token["pin"]
    keystore._STORES.clear()
    keystore._STORES[(softhsm_token["lib"], softhsm_token["token"])] = store
    services.delegation_grant(organisation=orgs["SUPA"], actor=dcc_admin)
    request = services.request_submit(user=supplier_a, srv="7.12", device_id=devices["a_esme"].device_id,
                                      params={"seconds": 600})
    signed = backends.DuisBackend().render(ServiceRequest.objects.select_related("srv").get(pk=request.pk))
    result = xmlsec1_verify(tmp_path, signed, info.pem)
    assert result.returncode == 0, result.stderr
    services.keystore_certificate_register(info=info, organisation=orgs["SUPA"], usage="message_signing")
    assert xmlsig.verify_document(signed, usage="message_signing", subject=eui64).certificate.serial == info.serial
    assert xmlsec1_verify(tmp_path, signed.replace(b">600<", b">601<"), info.pem).returncode != 0
    keystore._STORES.clear()


@pytest.mark.django_db
def test_every_demo_request_renders_signed(srvs, devices, dcc_admin, orgs):
    from adapter import demo

    demo.load(requests=40)
    requests = list(ServiceRequest.objects.select_related("srv"))
    assert len(requests) == 40
    backend = backends.DuisBackend()
    for request in requests:
        signed = backend.render(request)
        originator = request.request_id.split(":")[0]
        assert xmlsig.verify_document(signed, usage="message_signing", subject=originator).certificate


@pytest.mark.django_db
def test_a_service_user_posts_its_own_signed_document_and_the_portal_only_verifies_it(
        srvs, devices, supplier_b, orgs, api_for, settings):
    import datetime as dt_

    from django.utils import timezone

    from adapter import services

    key, info = make_test_identity(orgs["SUPB"].user_id)
    services.keystore_certificate_register(info=info, organisation=orgs["SUPB"], usage="message_signing")
    later = timezone.now() + dt_.timedelta(hours=2)  # held by the portal until then: not sent yet
    request = services.request_submit(user=supplier_b, srv="4.1.1", device_id=devices["b_esme"].device_id, params={},
                                      execute_at=later)
    request = ServiceRequest.objects.select_related("srv").get(pk=request.pk)
    document = duis.render_request(request_id=request.request_id, srv_code="4.1.1", execute_at=later)
    signed = xmlsig.sign_document(document, key, info)
    url = f"/api/adapter/requests/{request.pk}/signed-document/"
    api = api_for(supplier_b)
    tampered = signed.replace(b"<sr:ServiceReference>4.1<", b"<sr:ServiceReference>4.2<")
    answer = api.post(url, {"document": tampered.decode()}, format="json")
    assert answer.status_code == 400 and "tampered" in answer.json()["document"][0]
    other = xmlsig.sign_document(duis.render_request(request_id=request.request_id + "9", srv_code="4.1.1"), key, info)
    answer = api.post(url, {"document": other.decode()}, format="json")
    assert answer.status_code == 400 and "RequestID" in answer.json()["document"][0]
    assert api.post(url, {"document": signed.decode()}, format="json").status_code == 200
    # the backend sends exactly those bytes; the portal signed nothing for supplier B
    assert backends.DuisBackend().render(request) == signed


@pytest.mark.django_db
def test_an_on_demand_request_of_a_non_delegating_user_waits_for_its_own_signed_document(
        srvs, devices, supplier_b, orgs, api_for, settings):
    import datetime as dt_

    from adapter import services

    settings.ADAPTER_BACKEND = "duis"
    key, info = make_test_identity(orgs["SUPB"].user_id)
    services.keystore_certificate_register(info=info, organisation=orgs["SUPB"], usage="message_signing")
    request = services.request_submit(user=supplier_b, srv="4.1.1", device_id=devices["b_esme"].device_id, params={})
    assert request.state == RequestState.AWAITING_DOCUMENT and "signed DUIS document" in request.message
    signed = xmlsig.sign_document(duis.render_request(request_id=request.request_id, srv_code="4.1.1"), key, info)
    answer = api_for(supplier_b).post(f"/api/adapter/requests/{request.pk}/signed-document/",
                                      {"document": signed.decode()}, format="json")
    assert answer.status_code == 200, answer.content
    request.refresh_from_db()
    assert request.state == RequestState.QUEUED  # on its way, as the organisation signed it
    assert backends.DuisBackend().render(request) == signed
    # one that never gets its document ends unsent after the signature timeout
    stale = services.request_submit(user=supplier_b, srv="4.1.1", device_id=devices["b_esme"].device_id, params={})
    later = stale.received_at + dt_.timedelta(minutes=settings.ADAPTER_SIGNATURE_TIMEOUT_MINUTES + 1)
    assert services.signatures_expire(now=later) == 1
    stale.refresh_from_db()
    assert stale.state == RequestState.TIMED_OUT and "no signed DUIS document" in stale.message
