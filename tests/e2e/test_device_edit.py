"""Journey: a supplier changes its meter's status and a switch from the device page's Edit action:
the forms start on no choice, each change is confirmed on the next page (Cancel goes back with
nothing changed), and the device page shows the result. At 1440 px and 390 px wide."""
import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import DEVICE, OUTPUT

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.mark.parametrize("width", [1440, 390])
def test_supplier_changes_status_and_switch_through_edit_and_confirmation(page, login, supplier_a, meter, width):
    page.set_viewport_size({"width": width, "height": 900})
    login(page, supplier_a)
    page.goto(f"/inventory/devices/{DEVICE}/")
    expect(page.locator("main select")).to_have_count(0)  # no change form on the device page
    page.get_by_role("link", name="Edit status, hub and switches").click()
    expect(page).to_have_url(re.compile(rf"/inventory/devices/{DEVICE}/change/$"))
    status = page.locator("select[name=status-status]")
    expect(status).to_have_value("")  # nothing preselected
    expect(page.locator("select[name=switch-state]")).to_have_value("")

    status.select_option("suspended")
    page.fill("[name=status-reason]", "Meter under investigation")
    page.get_by_role("button", name="Review the status change").click()
    expect(page.locator("main")).to_contain_text("From Commissioned to Suspended.")
    page.get_by_role("link", name="Cancel").click()  # changed my mind: nothing happens
    expect(page).to_have_url(re.compile(r"/change/$"))
    meter.refresh_from_db()
    assert meter.status == "commissioned"

    page.select_option("select[name=status-status]", "suspended")
    page.fill("[name=status-reason]", "Meter under investigation")
    page.get_by_role("button", name="Review the status change").click()
    page.screenshot(path=str(OUTPUT / f"device_edit_confirm_{width}.png"), full_page=True)
    page.get_by_role("button", name="Confirm").click()
    expect(page).to_have_url(re.compile(rf"/inventory/devices/{DEVICE}/$"))
    expect(page.locator(".messages")).to_contain_text("Status changed to suspended")
    expect(page.locator("main")).to_contain_text("Meter under investigation")

    page.get_by_role("link", name="Edit status, hub and switches").click()
    page.fill("[name=switch-number]", "1")
    page.select_option("select[name=switch-state]", "closed")
    page.get_by_role("button", name="Review the switch change").click()
    expect(page.locator("main")).to_contain_text("Switch 1 (Storage heater): from open to closed.")
    page.get_by_role("button", name="Confirm").click()
    expect(page.locator(".messages")).to_contain_text("Switch 1 saved")
    switch = meter.switches.get(number=1)
    assert (switch.state, switch.description) == ("closed", "Storage heater")
    assert page.console_errors == []
