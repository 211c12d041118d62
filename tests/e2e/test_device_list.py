"""Journey: a DCC operator works the device register as a NetBox list at 1440 px: filters it,
sorts by device id, hides a column (still hidden after a reload), exports the view (the same
filter, sort and columns), ticks two rows and changes their status with a reason."""
import csv
import io
import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import OUTPUT

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def register(orgs):
    from inventory import services

    made = []
    for n, region in enumerate(["south", "south", "south", "north", "north"]):
        made.append(services.device_create(device_id=f"00-DB-AA-00-00-00-00-0{n}", device_type="ESME",
                                           supplier=orgs["SUPA"], region=region, status="commissioned"))
    return made


def test_operator_filters_sorts_hides_exports_and_changes_status(page, login, dcc_operator, register):
    from inventory.models import Device, DeviceStatusChange

    page.set_viewport_size({"width": 1440, "height": 900})
    page.on("dialog", lambda dialog: dialog.accept())
    login(page, dcc_operator)
    page.goto("/inventory/devices/")
    expect(page.locator("select[name=region] option").first).to_have_text("Any")
    page.select_option("form.filters select[name=region]", "south")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"region=south"))
    expect(page.locator(".list-count")).to_contain_text("3 results")

    page.locator("th[data-column=device_id] a").click()
    expect(page.locator("th[data-column=device_id]")).to_have_attribute("aria-sort", "ascending")
    ids = page.locator("tbody tr td:nth-child(2) code").all_inner_texts()
    assert ids == sorted(ids) and len(ids) == 3

    page.locator(".list-columns summary").click()
    page.locator(".list-columns input[value=mpxn]").uncheck()
    page.get_by_role("button", name="Save columns").click()
    expect(page.locator("th[data-column=mpxn]")).to_have_count(0)
    page.reload()
    expect(page.locator("th[data-column=mpxn]")).to_have_count(0)
    expect(page.locator("th[data-column=firmware_version]")).to_have_count(1)
    expect(page).to_have_url(re.compile(r"region=south.*sort=device_id|sort=device_id.*region=south"))

    with page.expect_download() as download:
        page.locator(".list-export a[data-export=csv]").click()
    rows = list(csv.reader(io.StringIO(open(download.value.path(), encoding="utf-8-sig").read())))
    assert "mpxn" not in rows[0] and rows[0][0] == "device_id"
    assert [row[0] for row in rows[1:]] == sorted(d.device_id for d in register if d.region == "south")

    first, second = register[0], register[1]
    page.locator(f"tbody input[name=pk][value='{first.pk}']").check()
    page.locator(f"tbody input[name=pk][value='{second.pk}']").check()
    expect(page.locator("[data-selected-count]")).to_have_text("2")
    page.select_option("#selected_status", "suspended")
    page.fill("#selected_reason", "Meters under investigation")
    page.get_by_role("button", name="Change status of selected").click()
    expect(page.locator(".messages")).to_contain_text("2 devices changed to Suspended")
    expect(page).to_have_url(re.compile(r"region=south"))
    page.screenshot(path=str(OUTPUT / "device_list_bulk_status_1440.png"), full_page=True)
    statuses = dict(Device.objects.filter(pk__in=[d.pk for d in register]).values_list("pk", "status"))
    assert [statuses[d.pk] for d in register] == ["suspended", "suspended", "commissioned", "commissioned",
                                                  "commissioned"]
    assert DeviceStatusChange.objects.filter(reason="Meters under investigation").count() == 2
    assert page.console_errors == []
