"""Journey: a supplier raises an incident in the browser; DCC asks for information (the clock
pauses), the supplier answers (it runs again), DCC resolves it and the supplier sees it resolved."""
import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_supplier_raises_dcc_asks_supplier_answers_dcc_resolves(page, login, supplier_a, dcc_operator):
    login(page, supplier_a)
    page.goto("/servicedesk/incidents/")
    page.get_by_role("link", name="Raise an incident").click()
    page.fill("[name=summary]", "Reads to our north meters time out")
    page.fill("[name=description]", "Since 09:00 every on-demand read answers E21; our adapter is fine.")
    page.select_option("[name=proposed_category]", "3")
    page.fill("[name=devices]", "00db1234567890a0")
    page.get_by_role("button", name="Raise").click()
    expect(page).to_have_url(re.compile(r"/servicedesk/incidents/INC\d{6}/$"))
    reference = re.search(r"(INC\d{6})", page.url).group(1)
    expect(page.locator("ul.messages")).to_contain_text(f"{reference} raised")
    expect(page.locator("dl.facts")).to_contain_text("00-DB-12-34-56-78-90-A0")
    assert page.console_errors == []

    page.context.clear_cookies()
    login(page, dcc_operator)
    page.goto(f"/servicedesk/incidents/{reference}/")
    page.locator("summary", has_text="Ask the user for information").click()
    page.fill("#rfi-text", "Which firmware do the meters run?")
    page.get_by_role("button", name="Ask (pauses the clock)").click()
    expect(page.locator("ul.messages")).to_contain_text("Information requested")
    expect(page.locator("section.clock")).to_contain_text("Paused")

    page.context.clear_cookies()
    login(page, supplier_a)
    page.goto(f"/servicedesk/incidents/{reference}/")
    expect(page.locator("section.card", has=page.locator("#timeline-h"))).to_contain_text(
        "Which firmware do the meters run?")
    page.fill("#answer-text", "2.1.0 on all of them")
    page.get_by_role("button", name="Send the answer").click()
    expect(page.locator("ul.messages")).to_contain_text("Answer sent")
    expect(page.locator("section.clock")).not_to_contain_text("Paused:")

    page.context.clear_cookies()
    login(page, dcc_operator)
    page.goto(f"/servicedesk/incidents/{reference}/")
    page.locator("summary", has_text="Resolve").click()
    page.fill("#resolution", "The DSP queue for the north was drained.")
    page.get_by_role("button", name="Resolve").click()
    expect(page.locator("ul.messages")).to_contain_text("Resolved.")

    page.context.clear_cookies()
    login(page, supplier_a)
    page.goto("/servicedesk/incidents/")
    row = page.locator("tr", has=page.locator("code", has_text=reference))
    expect(row).to_contain_text("Resolved")
    assert page.console_errors == []
