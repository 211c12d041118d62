"""Journey: an operator opens a device's page, sees where it sits (Operations › Devices › the
device, named in the tab's title too) and follows the breadcrumb back to the device list. At
1440 px and 390 px wide: the trail wraps, never widening the page."""
import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import DEVICE, OUTPUT

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.mark.parametrize("width", [1440, 390])
def test_operator_follows_a_device_pages_breadcrumb_back_to_the_list(page, login, dcc_operator, meter, width):
    page.set_viewport_size({"width": width, "height": 900})
    login(page, dcc_operator)
    page.goto(f"/inventory/devices/{DEVICE}/")
    expect(page).to_have_title(f"ESME {DEVICE} · DCC portal")
    trail = page.get_by_role("navigation", name="Breadcrumb")
    expect(trail.locator("li")).to_have_text(["Operations", "Devices", f"ESME {DEVICE}"])
    expect(trail.locator("[aria-current=page]")).to_have_text(f"ESME {DEVICE}")
    # Polled, as tests/e2e/test_screens.py does: the page's fragments (htmx) and charts settle after load.
    page.wait_for_function("() => document.documentElement.scrollWidth <= window.innerWidth", timeout=5_000)
    page.screenshot(path=str(OUTPUT / f"breadcrumbs_device_{width}.png"), full_page=True)

    trail.get_by_role("link", name="Devices").click()
    expect(page).to_have_url(re.compile(r"/inventory/devices/$"))
    expect(page).to_have_title("Devices · DCC portal")
    expect(page.get_by_role("navigation", name="Breadcrumb").locator("[aria-current=page]")).to_have_text("Devices")
    expect(page.locator("main")).to_contain_text(DEVICE)
    assert page.console_errors == []
