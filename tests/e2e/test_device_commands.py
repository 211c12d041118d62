"""Journey: a service user views its meter, sends the critical 7.5 Activate Auxiliary Load, signs its
pre-command in the browser with its own key file (WebCrypto: the key never leaves the browser) and
watches the request's timeline reach the response (the simulator backend answers; tasks run
synchronously in tests). A key of another organisation is refused first, and nothing is sent."""
import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import DEVICE

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def _key_file(organisation, folder, state="approved"):
    """The organisation's own key file (on the user's machine), its certificate registered."""
    from adapter.choices import CertificateUsage
    from adapter.models import Certificate
    from adapter.pki import make_test_identity, private_key_pem

    key, info = make_test_identity(organisation.user_id)
    Certificate.objects.create(organisation=organisation, usage=CertificateUsage.COMMAND_SIGNING,
                               subject_eui64=info.subject_eui64, issuer=info.issuer, serial=info.serial, pem=info.pem,
                               not_before=info.not_before, not_after=info.not_after, state=state)
    path = folder / f"{organisation.code}-command-signing.key.pem"
    path.write_text(private_key_pem(key))
    return path


def test_service_user_sends_7_5_signs_it_in_the_browser_and_the_timeline_reaches_the_response(
        page, login, supplier_a, orgs, meter, tmp_path):
    from adapter.models import ServiceRequest

    own_key, other_key = _key_file(orgs["SUPA"], tmp_path), _key_file(orgs["SUPB"], tmp_path)
    login(page, supplier_a)
    page.goto(f"/inventory/devices/{DEVICE}/")
    expect(page.locator("main")).to_contain_text(DEVICE)
    expect(page.locator("main")).to_contain_text("Storage heater")

    page.goto("/adapter/requests/new/?srv=7.5")
    expect(page.locator("main")).to_contain_text("Activate Auxiliary Load")
    page.fill("input[name=device_id]", DEVICE)
    page.fill("input[name=param_switch]", "1")
    page.get_by_role("button", name="Send").click()
    expect(page).to_have_url(re.compile(r"/adapter/requests/\d+/$"))
    expect(page.locator("h1")).to_contain_text("Service request")
    lede = page.locator(".lede").first
    expect(lede).to_contain_text(re.compile("Awaiting signature", re.I))
    request = ServiceRequest.objects.get()
    assert request.state == "awaiting_signature" and not request.send_attempts.exists()

    # another organisation's key: the page signs, the portal refuses, nothing is sent
    page.set_input_files("#sign-key", str(other_key))
    page.get_by_role("button", name="Sign with your key").click()
    expect(page.locator("main")).to_contain_text("does not verify")
    expect(lede).to_contain_text(re.compile("Awaiting signature", re.I))

    page.set_input_files("#sign-key", str(own_key))
    page.get_by_role("button", name="Sign with your key").click()
    expect(page.locator("main")).to_contain_text("signature verified")
    for _ in range(20):  # the backend answers in the background; the page shows the state it has reached
        if re.search(r"Responded", lede.inner_text(), re.I):
            break
        page.wait_for_timeout(500)
        page.reload()
    expect(lede).to_contain_text(re.compile("Responded", re.I))
    expect(lede).to_contain_text(re.compile(r"outcome I0"))
    timeline = page.locator("section.card", has_text="Timeline")
    expect(timeline).to_contain_text(re.compile(r"\d{1,2} \w{3} \d{4} \d\d:\d\d:\d\d (GMT|BST)"))
    request.refresh_from_db()
    assert request.signed_at and request.signature_failures == 1
    assert len(request.signature) == 88  # WebCrypto's raw r||s, 64 bytes, base64
    assert page.console_errors == []
