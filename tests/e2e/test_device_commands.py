"""Journey: a service user views its meter, sends 7.5 Activate Auxiliary Load and watches the request's
timeline reach the response (the simulator backend answers; tasks run synchronously in tests)."""
import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import DEVICE

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_service_user_sends_7_5_and_the_timeline_reaches_the_response(page, login, supplier_a, meter):
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
    for _ in range(20):  # the backend answers in the background; the page shows the state it has reached
        if re.search(r"Responded", lede.inner_text(), re.I):
            break
        page.wait_for_timeout(500)
        page.reload()
    expect(lede).to_contain_text(re.compile("Responded", re.I))
    expect(lede).to_contain_text(re.compile(r"outcome I0"))
    timeline = page.locator("section.card", has_text="Timeline")
    expect(timeline).to_contain_text(re.compile(r"\d\d \w{3} \d{4} \d\d:\d\d"))
    assert page.console_errors == []
