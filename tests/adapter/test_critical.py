"""Critical commands: the user signs with its own key, the portal only verifies. Which signatures
verify (the organisation's approved, valid certificate only), what a refused one leaves behind,
the timeout of an unsigned request, the API and page paths, the command-line signer, and the
registration of certificates (never a private key, never another organisation's EUI-64)."""
import base64
import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from adapter import services, signing, tasks
from adapter.choices import CertificateState, RequestState
from adapter.models import Certificate, ServiceRequest
from adapter.pki import make_test_identity, private_key_pem
from tests.adapter.conftest import sign_precommand

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def critical(user, devices, capture, **params):
    with capture(execute=True):
        request = services.request_submit(user=user, srv="7.5", device_id=devices["a_esme"].device_id,
                                          params={"switch": 1, "duration": 10, **params})
    assert request.state == RequestState.AWAITING_SIGNATURE
    return request


def refused(request, signature, user, match):
    with pytest.raises(ValidationError) as caught:
        services.request_sign(request=request, signature=signature, actor=user)
    assert match in "; ".join(caught.value.message_dict["signature"])
    request.refresh_from_db()
    assert request.state == RequestState.AWAITING_SIGNATURE and not request.signed_at and not request.signature
    return request


@pytest.mark.parametrize("raw", [False, True], ids=["der", "raw-r-s"])
def test_the_organisations_own_key_verifies_and_the_request_is_sent(
        raw, srvs, devices, supplier_a, supa_key, django_capture_on_commit_callbacks):
    request = critical(supplier_a, devices, django_capture_on_commit_callbacks)
    assert not request.send_attempts.exists()  # held: nothing went out before the signature
    with django_capture_on_commit_callbacks(execute=True):
        services.request_sign(request=request, signature=sign_precommand(supa_key, request.precommand, raw=raw),
                              actor=supplier_a)
    request.refresh_from_db()
    assert request.state == RequestState.RESPONDED and request.signed_at <= request.dsp_sent_at
    assert request.signature_failures == 0


def test_refused_signatures_leave_the_request_waiting_counted_and_audited(
        srvs, devices, orgs, supplier_a, supa_key, command_key, django_capture_on_commit_callbacks):
    request = critical(supplier_a, devices, django_capture_on_commit_callbacks)
    good = base64.b64decode(sign_precommand(supa_key, request.precommand))
    flipped = bytearray(good)
    flipped[-1] ^= 0x01
    b_key = command_key(orgs["SUPB"])
    attempts = [
        (sign_precommand(b_key, request.precommand), "does not verify"),  # another organisation's key
        (base64.b64encode(bytes(flipped)).decode(), "does not verify"),  # one flipped byte
        (sign_precommand(supa_key, request.precommand + " "), "does not verify"),  # other bytes
        (sign_precommand(supa_key, request.precommand.replace('index="1"', 'index="2"')), "does not verify"),
        ("not base64 !", "not base64"),
        (base64.b64encode(b"\x01" * 20).decode(), "20 bytes"),
        ("", "give the base64"),
    ]
    for signature, match in attempts:
        refused(request, signature, supplier_a, match)
    request.refresh_from_db()
    assert request.signature_failures == len(attempts)
    trail = LogEntry.objects.get_for_object(request).filter(action=LogEntry.Action.UPDATE,
                                                            changes__icontains="signature_failures")
    assert trail.count() == len(attempts) and {e.actor for e in trail} == {supplier_a}
    # the right signature still works afterwards
    with django_capture_on_commit_callbacks(execute=True):
        services.request_sign(request=request, signature=sign_precommand(supa_key, request.precommand),
                              actor=supplier_a)
    request.refresh_from_db()
    assert request.state == RequestState.RESPONDED


@pytest.mark.parametrize("case", ["pending", "revoked", "expired", "not_yet_valid", "wrong_subject"])
def test_a_certificate_that_is_not_approved_and_valid_now_does_not_verify(
        case, srvs, devices, orgs, supplier_a, command_key, django_capture_on_commit_callbacks):
    long_ago = timezone.now() - dt.timedelta(days=30)
    options = {
        "pending": {"state": CertificateState.PENDING},
        "revoked": {"state": CertificateState.REVOKED},
        "expired": {"not_before": long_ago, "days": 2},
        "not_yet_valid": {"not_before": timezone.now() + dt.timedelta(days=1)},
        # approved, of the organisation, but naming another EUI-64 (the organisation's user id changed)
        "wrong_subject": {"eui64": "90-B3-D5-1F-30-01-00-09"},
    }[case]
    key = command_key(orgs["SUPA"], **options)
    request = critical(supplier_a, devices, django_capture_on_commit_callbacks)
    refused(request, sign_precommand(key, request.precommand), supplier_a, "no approved command-signing certificate")


def test_rotation_both_certificates_verify_until_the_old_one_is_revoked(
        srvs, devices, orgs, supplier_a, command_key, django_capture_on_commit_callbacks):
    old, new = command_key(orgs["SUPA"]), command_key(orgs["SUPA"])
    first = critical(supplier_a, devices, django_capture_on_commit_callbacks)
    second = critical(supplier_a, devices, django_capture_on_commit_callbacks)
    services.request_sign(request=first, signature=sign_precommand(old, first.precommand), actor=supplier_a)
    old_certificate = Certificate.objects.filter(organisation=orgs["SUPA"]).order_by("pk").first()
    Certificate.objects.filter(pk=old_certificate.pk).update(state=CertificateState.REVOKED)
    refused(second, sign_precommand(old, second.precommand), supplier_a, "does not verify")
    services.request_sign(request=second, signature=sign_precommand(new, second.precommand), actor=supplier_a)


def test_dispatch_refuses_a_request_whose_certificate_was_revoked_after_signing(
        srvs, devices, supplier_a, supa_key, django_capture_on_commit_callbacks):
    request = critical(supplier_a, devices, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=False):  # signed, queued, not yet sent
        services.request_sign(request=request, signature=sign_precommand(supa_key, request.precommand),
                              actor=supplier_a)
    Certificate.objects.update(state=CertificateState.REVOKED)
    tasks.dispatch(ids=[request.pk])
    tasks.dispatch(ids=[request.pk])
    tasks.dispatch(ids=[request.pk])
    request.refresh_from_db()
    assert request.state == RequestState.FAILED and "without a valid signature" in request.message
    assert request.dsp_sent_at is None


def test_nobody_else_signs_and_only_waiting_requests_are_signed(
        srvs, devices, supplier_a, supplier_b, dcc_operator, supa_key, django_capture_on_commit_callbacks):
    request = critical(supplier_a, devices, django_capture_on_commit_callbacks)
    signature = sign_precommand(supa_key, request.precommand)
    for outsider in (supplier_b, dcc_operator):
        with pytest.raises(PermissionDenied):
            services.request_sign(request=request, signature=signature, actor=outsider)
    services.request_sign(request=request, signature=signature, actor=supplier_a)
    with pytest.raises(ValidationError, match="only a request awaiting its signature"):
        services.request_sign(request=request, signature=signature, actor=supplier_a)


def test_an_unsigned_request_times_out_and_is_never_sent(
        srvs, devices, supplier_a, supa_key, settings, django_capture_on_commit_callbacks):
    settings.ADAPTER_SIGNATURE_TIMEOUT_MINUTES = 30
    request = critical(supplier_a, devices, django_capture_on_commit_callbacks)
    later = request.precommand_at + dt.timedelta(minutes=31)
    # too late to sign, even with the right key
    with pytest.raises(ValidationError, match="time to sign this pre-command ended"):
        services.request_sign(request=request, signature=sign_precommand(supa_key, request.precommand),
                              actor=supplier_a, now=later)
    assert services.signatures_expire(now=request.precommand_at + dt.timedelta(minutes=29)) == 0
    assert services.signatures_expire(now=later) == 1
    request.refresh_from_db()
    assert request.state == RequestState.TIMED_OUT and request.outcome == "S"
    assert "not signed within 30 minutes" in request.message and request.dsp_sent_at is None
    assert not request.send_attempts.exists()


def test_a_quarantined_critical_request_is_released_to_the_signature_step(
        srvs, devices, supplier_a, dcc_operator, supa_key, django_capture_on_commit_callbacks):
    from adapter.models import AnomalyThreshold

    AnomalyThreshold.objects.create(organisation=supplier_a.organisation, srv=srvs["7.5"], period="hour", limit=0)
    with django_capture_on_commit_callbacks(execute=True):
        request = services.request_submit(user=supplier_a, srv="7.5", device_id=devices["a_esme"].device_id,
                                          params={"switch": 1})
    assert request.state == RequestState.QUARANTINED
    with django_capture_on_commit_callbacks(execute=True):
        services.request_release(request=request, actor=dcc_operator)
    request.refresh_from_db()
    assert request.state == RequestState.AWAITING_SIGNATURE and request.precommand


# --- API and pages -------------------------------------------------------------------------------

def test_api_get_precommand_and_post_signature(srvs, devices, supplier_a, supplier_b, supa_key, api_for,
                                               django_capture_on_commit_callbacks):
    api = api_for(supplier_a)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/v1/adapter/requests/", {"srv": "7.5", "device_id": devices["a_esme"].device_id,
                                                          "params": {"switch": 3}}, format="json")
    assert response.status_code == 201 and response.json()["state"] == "awaiting_signature"
    pk = response.json()["id"]
    got = api.get(f"/api/v1/adapter/requests/{pk}/precommand/").json()
    payload = base64.b64decode(got["bytes_base64"])
    assert payload == got["precommand"].encode("utf-8") and got["algorithm"] == "ECDSA-P256-SHA256"
    assert got["sign_by"]
    assert api_for(supplier_b).get(f"/api/v1/adapter/requests/{pk}/precommand/").status_code == 404
    bad = api.post(f"/api/v1/adapter/requests/{pk}/signature/", {"signature": sign_precommand(supa_key, "other")},
                   format="json")
    assert bad.status_code == 400 and "does not verify" in str(bad.json()["errors"]["signature"])
    import hashlib

    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    der = supa_key.sign(payload, ec.ECDSA(hashes.SHA256()))  # signed over the served bytes only
    assert hashlib.sha256(payload).digest()  # (the bytes, nothing else)
    with django_capture_on_commit_callbacks(execute=True):
        ok = api.post(f"/api/v1/adapter/requests/{pk}/signature/", {"signature": base64.b64encode(der).decode()},
                      format="json")
    assert ok.status_code == 200 and ok.json()["state"] == "queued" and ok.json()["signature_failures"] == 1
    assert ServiceRequest.objects.get(pk=pk).state == RequestState.RESPONDED
    # a request that is not critical has no pre-command
    plain = api.post("/api/v1/adapter/requests/", {"srv": "4.1.1", "device_id": devices["a_esme"].device_id},
                     format="json").json()["id"]
    assert api.get(f"/api/v1/adapter/requests/{plain}/precommand/").status_code == 404


def test_request_page_offers_signing_and_takes_a_pasted_signature(
        srvs, devices, supplier_a, supa_key, client_for, django_capture_on_commit_callbacks):
    request = critical(supplier_a, devices, django_capture_on_commit_callbacks)
    client = client_for(supplier_a)
    page = client.get(request.get_absolute_url()).content.decode()
    assert "Sign with your key" in page and "js/sign-precommand.js" in page
    b64 = base64.b64encode(signing.precommand_bytes(request.precommand)).decode()
    assert f'data-precommand="{b64}"' in page
    assert 'id="sign-key"' in page and 'name="key' not in page  # the key's input has no name: never posted
    url = reverse("adapter:request_sign", args=[request.pk])
    response = client.post(url, {"signature": sign_precommand(supa_key, "forged")}, follow=True)
    assert "does not verify" in response.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"signature": sign_precommand(supa_key, request.precommand, raw=True)})
    request.refresh_from_db()
    assert request.state == RequestState.RESPONDED
    assert "Sign with your key" not in client.get(request.get_absolute_url()).content.decode()


def test_command_line_signer(tmp_path, srvs, devices, supplier_a, supa_key, django_capture_on_commit_callbacks):
    request = critical(supplier_a, devices, django_capture_on_commit_callbacks)
    key_file = tmp_path / "SUPA-command-signing.key.pem"
    key_file.write_text(private_key_pem(supa_key))
    (tmp_path / "pre.xml").write_bytes(signing.precommand_bytes(request.precommand))
    script = [sys.executable, str(ROOT / "scripts" / "sign_precommand.py"), "--key", str(key_file)]
    from_file = subprocess.run([*script, str(tmp_path / "pre.xml")], capture_output=True, text=True, check=True)
    from_stdin = subprocess.run([*script, "-", "--strip-newline"], input=request.precommand + "\n",
                                capture_output=True, text=True, check=True)
    for output in (from_stdin, from_file):
        der = base64.b64decode(output.stdout.strip())
        assert signing.verify(supa_key.public_key(), signing.precommand_bytes(request.precommand), der)
    services.request_sign(request=request, signature=from_file.stdout.strip(), actor=supplier_a)
    wrong = tmp_path / "rsa.pem"
    wrong.write_text("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
    failed = subprocess.run([*script[:-1], str(wrong), str(tmp_path / "pre.xml")], capture_output=True, text=True)
    assert failed.returncode == 2 and "sign_precommand:" in failed.stderr


# --- Certificates --------------------------------------------------------------------------------

def test_upload_approve_revoke_with_audit(orgs, supplier_a, supplier_b, dcc_operator, dcc_admin):
    key, info = make_test_identity(orgs["SUPA"].user_id)
    certificate = services.certificate_upload(organisation=orgs["SUPA"], pem=info.pem, actor=supplier_a)
    assert certificate.state == CertificateState.PENDING and certificate.uploaded_by == supplier_a
    for not_admin in (supplier_a, dcc_operator):
        with pytest.raises(PermissionDenied):
            services.certificate_approve(certificate=certificate, actor=not_admin)
    with pytest.raises(PermissionDenied):
        services.certificate_revoke(certificate=certificate, actor=supplier_b)
    services.certificate_approve(certificate=certificate, actor=dcc_admin)
    certificate.refresh_from_db()
    assert certificate.state == CertificateState.APPROVED and certificate.approved_by == dcc_admin
    assert signing.signing_certificates(orgs["SUPA"], timezone.now()) == [certificate]
    with pytest.raises(ValidationError, match="already registered"):
        services.certificate_upload(organisation=orgs["SUPA"], pem=info.pem, actor=supplier_a)
    services.certificate_revoke(certificate=certificate, actor=supplier_a)
    certificate.refresh_from_db()
    assert certificate.state == CertificateState.REVOKED and certificate.revoked_at
    actors = {entry.actor for entry in LogEntry.objects.get_for_object(certificate)}
    assert actors == {supplier_a, dcc_admin}


@pytest.mark.parametrize("case", ["pkcs8", "sec1", "encrypted", "with_certificate", "der_key"])
def test_upload_refuses_anything_holding_a_private_key(case, orgs, supplier_a):
    from cryptography.hazmat.primitives import serialization

    key, info = make_test_identity(orgs["SUPA"].user_id)
    encodings = {
        "pkcs8": private_key_pem(key).encode(),
        "sec1": key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                  serialization.NoEncryption()),
        "encrypted": key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.BestAvailableEncryption(b"secret")),
        "with_certificate": (info.pem + private_key_pem(key)).encode(),
        "der_key": key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption()),
    }
    with pytest.raises(ValidationError) as caught:
        services.certificate_upload(organisation=orgs["SUPA"], pem=encodings[case], actor=supplier_a)
    assert "PRIVATE KEY" in caught.value.message_dict["certificate"][0]
    assert not Certificate.objects.exists()


def test_upload_refuses_another_eui64_and_what_is_not_a_certificate(orgs, supplier_a):
    _key, other = make_test_identity(orgs["SUPB"].user_id)
    with pytest.raises(ValidationError) as caught:
        services.certificate_upload(organisation=orgs["SUPA"], pem=other.pem, actor=supplier_a)
    message = caught.value.message_dict["certificate"][0]
    assert "subject EUI-64 90-B3-D5-1F-30-01-00-02" in message and "90-B3-D5-1F-30-01-00-01" in message
    with pytest.raises(ValidationError, match="not a PEM certificate"):
        services.certificate_upload(organisation=orgs["SUPA"], pem="hello", actor=supplier_a)
    with pytest.raises(PermissionDenied):
        services.certificate_upload(organisation=orgs["SUPB"], pem=other.pem, actor=supplier_a)


def test_certificate_pages_and_api(orgs, supplier_a, supplier_b, dcc_admin, client_for, api_for):
    from django.core.files.uploadedfile import SimpleUploadedFile

    key, info = make_test_identity(orgs["SUPA"].user_id)
    client = client_for(supplier_a)
    response = client.post(reverse("adapter:certificate_list"),
                           {"file": SimpleUploadedFile("key.pem", private_key_pem(key).encode())})
    assert response.status_code == 200 and "PRIVATE KEY" in response.content.decode()
    response = client.post(reverse("adapter:certificate_list"), {"certificate": info.pem})
    assert response.status_code == 302
    certificate = Certificate.objects.get()
    admin_page = client_for(dcc_admin).get(reverse("adapter:certificate_list")).content.decode()
    assert "<h2>Awaiting DCC approval</h2>" in admin_page and info.subject_eui64 in admin_page
    assert "<h2>Awaiting DCC approval</h2>" not in client.get(reverse("adapter:certificate_list")).content.decode()
    assert client.post(reverse("adapter:certificate_approve", args=[certificate.pk])).status_code in (403, 404)
    client_for(dcc_admin).post(reverse("adapter:certificate_approve", args=[certificate.pk]))
    certificate.refresh_from_db()
    assert certificate.state == CertificateState.APPROVED
    assert info.subject_eui64 not in client_for(supplier_b).get(reverse("adapter:certificate_list")).content.decode()
    # API: upload, refused private key, revoke
    api = api_for(supplier_a)
    _key2, info2 = make_test_identity(orgs["SUPA"].user_id)
    bad = api.post("/api/v1/adapter/certificates/", {"pem": private_key_pem(key)}, format="json")
    assert bad.status_code == 400 and "PRIVATE KEY" in str(bad.json()["errors"]["certificate"])
    new = api.post("/api/v1/adapter/certificates/", {"pem": info2.pem}, format="json")
    assert new.status_code == 201 and new.json()["state"] == "pending"
    assert api.post(f"/api/v1/adapter/certificates/{new.json()['id']}/approve/").status_code == 403
    approved = api_for(dcc_admin).post(f"/api/v1/adapter/certificates/{new.json()['id']}/approve/")
    assert approved.status_code == 200 and approved.json()["state"] == "approved"
    revoked = api.post(f"/api/v1/adapter/certificates/{certificate.pk}/revoke/")
    assert revoked.status_code == 200 and revoked.json()["state"] == "revoked"
    assert len(api.get("/api/v1/adapter/certificates/").json()["results"]) == 2
    assert api_for(supplier_b).get("/api/v1/adapter/certificates/").json()["results"] == []


def test_demo_suppliers_get_key_files_outside_the_database_and_approved_certificates(
        db, orgs, settings, tmp_path, srvs, devices, supplier_a, django_capture_on_commit_callbacks):
    import os
    import stat
    from io import StringIO

    from cryptography.hazmat.primitives import serialization
    from django.core.management import call_command

    from adapter import demo

    settings.VAR_DIR = tmp_path
    paths = demo.signing_keys()
    assert {p.name for p in paths} == {"SUPA-command-signing.key.pem", "SUPB-command-signing.key.pem"}
    for path in paths:
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(tmp_path / "demo-keys").st_mode) == 0o700
    assert demo.signing_keys() and Certificate.objects.count() == 2  # idempotent: same keys, no new rows
    assert not Certificate.objects.filter(pem__contains="PRIVATE").exists()
    key = serialization.load_pem_private_key((tmp_path / "demo-keys" / "SUPA-command-signing.key.pem").read_bytes(),
                                             password=None)
    request = critical(supplier_a, devices, django_capture_on_commit_callbacks)
    services.request_sign(request=request, signature=sign_precommand(key, request.precommand), actor=supplier_a)
    printed = StringIO()
    call_command("demo_logins", stdout=printed)
    assert "SUPA-command-signing.key.pem" in printed.getvalue()
