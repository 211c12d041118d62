"""Journey: a service user uploads a batch file and watches its progress bar: the critical row waits
for its signature (50%), the user signs it on its request's page with the key file, and the batch
reaches 100% (tasks run synchronously in tests, so the htmx-polled progress is complete by the next
poll)."""
import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import DEVICE

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

CSV = f"""srv,device_id,params_json,execute_at
4.1.1,{DEVICE},,
7.5,{DEVICE},"{{""switch"": 1}}",
4.1.1,00-DB-99-99-99-99-99-99,,
"""


def test_service_user_uploads_a_batch_and_its_progress_reaches_100(page, login, supplier_a, orgs, meter, tmp_path):
    from adapter.models import ServiceRequest
    from tests.e2e.test_device_commands import _key_file

    key_file = _key_file(orgs["SUPA"], tmp_path)
    login(page, supplier_a)
    page.goto("/adapter/batches/")
    expect(page.locator("h1")).to_have_text("Batches of service requests")
    page.fill("input[name=name]", "Evening reads")
    page.set_input_files("input[name=file]", files=[{"name": "rows.csv", "mimeType": "text/csv",
                                                     "buffer": CSV.encode()}])
    page.get_by_role("button", name="Upload").click()
    expect(page).to_have_url(re.compile(r"/adapter/batches/\d+/$"))
    expect(page.locator("h1")).to_contain_text("Evening reads")

    progress = page.locator("#batch-progress")
    # The page polls its progress fragment every 2 s while the batch is live: the 7.5 row waits for its
    # signature, never sent unsigned.
    expect(progress).to_contain_text("1 of 2 (50%)", timeout=30_000)
    expect(progress).to_contain_text(re.compile("awaiting.signature", re.I))
    batch_url = page.url
    critical = ServiceRequest.objects.get(srv__code="7.5")
    page.goto(critical.get_absolute_url())
    page.set_input_files("#sign-key", str(key_file))
    page.get_by_role("button", name="Sign with your key").click()
    expect(page.locator("main")).to_contain_text("signature verified")
    page.goto(batch_url)
    expect(progress).to_contain_text("2 of 2 (100%)", timeout=30_000)
    expect(progress.locator("progress").last).to_have_attribute("value", "100")
    expect(progress).to_contain_text("3 rows: 3 checked, 2 accepted, 1 rejected")
    expect(progress).to_contain_text(re.compile("completed", re.I))
    expect(progress).to_contain_text(re.compile("responded", re.I))
    page.reload()  # the rows table is drawn with the page, not polled
    expect(page.locator("#batch-progress")).to_contain_text("2 of 2 (100%)")
    rows = page.locator("section.card").filter(has=page.get_by_role("heading", name="Rows")).locator("tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(2)).to_contain_text("00-DB-99-99-99-99-99-99")
    assert page.console_errors == []
