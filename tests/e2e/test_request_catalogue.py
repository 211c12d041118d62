"""Journey at 1440 px: a service user opens its meter's page, presses "Send a service request",
finds 4.1.1 by typing in the catalogue, meets a device check answered next to the field (what was
typed kept, nothing stored), picks the meter from the autocomplete, sends, and watches the request
page reach its response without reloading (the page polls its live part; the dispatch runs here,
in the test, while the page is open, so the page sees the request in flight first)."""
import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import DEVICE, OUTPUT

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_send_from_the_device_page_pick_by_typing_and_watch_the_request_finish(
        page, login, supplier_a, orgs, meter, monkeypatch):
    from adapter import services, tasks
    from adapter.models import ServiceRequest

    held = []
    # Hold the dispatch (tasks run synchronously in tests) so that the page sees the request queued.
    monkeypatch.setattr(services, "_enqueue_dispatch", lambda ids: held.extend(ids))
    page.set_viewport_size({"width": 1440, "height": 900})
    login(page, supplier_a)
    page.goto(f"/inventory/devices/{DEVICE}/")
    page.get_by_role("link", name="Send a service request").click()
    expect(page).to_have_url(re.compile(r"/adapter/requests/new/\?device_id=" + DEVICE))

    search = page.locator("#srv-filter")
    expect(search).to_be_visible()
    expect(page.locator("#srv-select-form")).to_be_hidden()  # the select is the page without script
    search.fill("instantaneous import reg")
    shown = page.locator("#srv-search li:visible")
    expect(shown).to_have_count(1)
    expect(shown).to_contain_text("4.1.1")
    expect(page.locator("#srv-count")).to_contain_text("1 of")
    OUTPUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUTPUT / "request-catalogue-picker-typed.png"))
    shown.get_by_role("link").click()

    expect(page.locator("main h2").first).to_contain_text("4.1.1 Read Instantaneous Import Registers")
    device = page.locator("input[name=device_id]")
    expect(device).to_have_value(DEVICE)  # prefilled from the device page
    device.fill("00-DB-12-34-56-78-90-FF")
    page.get_by_role("button", name="Send").click()
    expect(page.locator(".errorlist")).to_contain_text("No device 00-DB-12-34-56-78-90-FF that your organisation")
    expect(device).to_have_value("00-DB-12-34-56-78-90-FF")
    page.screenshot(path=str(OUTPUT / "request-catalogue-device-error.png"))
    assert not ServiceRequest.objects.exists()

    device.fill("")
    device.press_sequentially("00db12")
    expect(page.locator(f'#device-options option[value="{DEVICE}"]')).to_have_count(1)
    device.fill(DEVICE)
    page.get_by_role("button", name="Send").click()
    expect(page).to_have_url(re.compile(r"/adapter/requests/\d+/$"))
    lede = page.locator("#request-live .lede")
    expect(lede).to_contain_text(re.compile("Queued", re.I))
    expect(page.locator("#request-live")).to_have_attribute("hx-trigger", "every 2s")
    page.evaluate("window.notReloaded = true")

    tasks.dispatch(ids=held)  # the network answers while the page is open
    expect(lede).to_contain_text(re.compile("Responded", re.I), timeout=15_000)
    expect(lede).to_contain_text("outcome I0")
    assert page.evaluate("window.notReloaded") is True  # reached without a reload
    live = page.locator("#request-live")
    expect(live).not_to_have_attribute("hx-trigger", re.compile("."))  # polling stopped
    expect(live.get_by_role("link", name=DEVICE)).to_have_attribute("href", f"/inventory/devices/{DEVICE}/")
    timeline = page.locator("#request-timeline")
    expect(timeline).to_contain_text(re.compile(r"\d{1,2} \w{3} \d{4} \d\d:\d\d:\d\d (GMT|BST)"))
    assert not re.search(r"\d\d:\d\d:\d\d\.\d", timeline.inner_text())
    assert page.console_errors == []


def test_batch_from_a_template_a_wrong_file_refused_at_once_and_the_page_live_until_done(
        page, login, supplier_a, orgs, meter, monkeypatch):
    from adapter import services, tasks
    from adapter.models import Batch

    held = []
    # Hold the check (tasks run synchronously in tests) so that the page sees the batch at work.
    monkeypatch.setattr(services, "_enqueue_batch_check", lambda pk: held.append(pk))
    page.set_viewport_size({"width": 1440, "height": 900})
    login(page, supplier_a)
    page.goto("/adapter/batches/")
    page.select_option("#batch-template-srv", "7.9")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download template (CSV)").click()
    assert download.value.suggested_filename == "batch-template-7.9.csv"
    header = open(download.value.path(), encoding="utf-8-sig").read().strip()
    assert header == "srv,device_id,switch,boost_minutes,execute_at"

    page.set_input_files("input[name=file]", files=[{"name": "wrong.csv", "mimeType": "text/csv",
                                                     "buffer": f"srv,meter,switch\n7.9,{DEVICE},1\n".encode()}])
    page.get_by_role("button", name="Upload").click()
    expect(page.locator(".errorlist")).to_contain_text("missing column device_id; unknown column meter")
    assert not Batch.objects.exists()

    rows = f"{header}\n7.9,{DEVICE},1,30,\n4.1.1,{DEVICE},,,\n7.9,00-DB-99-99-99-99-99-99,1,30,\n"
    page.set_input_files("input[name=file]", files=[{"name": "rows.csv", "mimeType": "text/csv",
                                                     "buffer": rows.encode()}])
    page.get_by_role("button", name="Upload").click()
    expect(page).to_have_url(re.compile(r"/adapter/batches/\d+/$"))
    live = page.locator("#batch-live")
    expect(live).to_have_attribute("hx-trigger", "every 2s")
    expect(live.get_by_role("button", name="Cancel batch")).to_be_visible()
    expect(live.locator("#batch-rows")).to_contain_text("No rows checked yet")
    page.evaluate("window.notReloaded = true")

    tasks.batch_check(held[0])  # checked and sent while the page is open
    expect(page.locator("#batch-progress")).to_contain_text("2 of 2 (100%)", timeout=15_000)
    expect(page.locator("#batch-progress")).to_contain_text("3 rows: 3 checked, 2 accepted, 1 rejected")
    expect(page.locator("#batch-progress")).to_contain_text(re.compile("completed", re.I))
    expect(live.locator("#batch-rows tbody tr")).to_have_count(3)
    expect(live.get_by_role("button", name="Cancel batch")).to_have_count(0)
    expect(live).not_to_have_attribute("hx-trigger", re.compile("."))
    assert page.evaluate("window.notReloaded") is True
    assert page.console_errors == []
