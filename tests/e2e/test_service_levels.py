"""Journeys through what a supplier sees: devices, statements and the monthly report, and the refusals.

Supplier A and supplier B each own devices, requests and statements (made by each app's
tests/<app>/isolation.py); A sees its own only, B's device and statement by direct URL answer 404.
The DCC operator opens the monthly report and the plotly charts are drawn (data-chart-ready="true").
"""
import re

import pytest
from playwright.sync_api import expect

from tests.gates.schema_routes import objects_of_both

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def of_kind(objects, label, organisation):
    """Objects of one model owned (as supplier or organisation) by ``organisation``."""
    found = []
    for obj, _marker in objects:
        owner = getattr(obj, "supplier", None) or getattr(obj, "organisation", None)
        if obj._meta.label == label and owner == organisation and obj not in found:
            found.append(obj)
    return found


@pytest.fixture
def world(orgs, supplier_a, supplier_b):
    return objects_of_both(orgs, supplier_a, supplier_b)


def test_supplier_sees_only_its_own_devices_and_statements(page, login, orgs, supplier_a, world):
    mine = of_kind(world, "inventory.Device", orgs["SUPA"])
    theirs = of_kind(world, "inventory.Device", orgs["SUPB"])
    assert mine and theirs, "the inventory isolation objects are missing"
    login(page, supplier_a)
    page.goto("/inventory/devices/")
    table = page.locator("main")
    for device in mine:
        expect(table).to_contain_text(device.device_id)
    for device in theirs:
        expect(table).not_to_contain_text(device.device_id)

    response = page.goto(f"/inventory/devices/{theirs[0].device_id}/")
    assert response.status == 404
    expect(page.locator("h1")).to_contain_text(re.compile("not found|no such", re.I))

    their_statements = of_kind(world, "slas.Statement", orgs["SUPB"])
    my_statements = of_kind(world, "slas.Statement", orgs["SUPA"])
    page.goto("/slas/statements/")
    expect(page.locator("main")).not_to_contain_text("restated-for-SUPB-marker")
    if my_statements:
        page.goto(f"/slas/statements/{my_statements[0].pk}/")
        expect(page.locator("main")).to_contain_text(re.compile(r"4,?242\.17"))
    response = page.goto(f"/slas/statements/{their_statements[0].pk}/")
    assert response.status == 404
    assert page.console_errors == []


def test_supplier_downloads_its_credit_statement_pdf(page, login, orgs, supplier_a, world):
    statement = of_kind(world, "slas.Statement", orgs["SUPA"])
    if not statement:
        pytest.skip("slas isolation objects make a statement for one organisation only")
    login(page, supplier_a)
    page.goto(f"/slas/statements/{statement[0].pk}/")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="PDF").click()
    download = download_info.value
    path = download.path()
    data = open(path, "rb").read()
    assert data.startswith(b"%PDF"), "the statement download is not a PDF"
    assert download.suggested_filename.endswith(".pdf")
    assert len(data) > 1000


def test_dcc_operator_sees_the_monthly_report_charts_drawn(page, login, dcc_operator, world):
    login(page, dcc_operator)
    page.goto("/slas/?month=2020-01")
    charts = page.locator(".chart[data-figure]")
    count = charts.count()
    assert count >= 1, "the report has no chart"
    for index in range(count):
        expect(charts.nth(index)).to_have_attribute("data-chart-ready", "true", timeout=20_000)
        expect(charts.nth(index).locator("svg.main-svg").first).to_be_visible()
    assert page.console_errors == []


def test_measure_tables_read_at_a_glance(page, login, orgs, supplier_a, dcc_operator, world):
    """Issue 17: the statement explains its traffic, states are words with colours, measures
    without traffic are folded behind "Show N not measured" (a <details>: no script needed)."""
    statements = of_kind(world, "slas.Statement", orgs["SUPA"])
    if not statements:
        pytest.skip("slas isolation objects make a statement for one organisation only")
    login(page, supplier_a)
    page.goto(f"/slas/statements/{statements[0].pk}/")
    note = page.locator("#traffic-note")
    expect(note).to_be_visible()
    expect(note).to_contain_text("national figures")
    expect(note).to_contain_text(re.compile(r"Your credit is a share of the pool by your charges \(£[\d,]+\.\d\d of "))
    expect(page.locator("main")).not_to_contain_text("on_demand")
    folded = page.locator("details.not-measured").first
    if folded.count():
        expect(folded.locator("summary")).to_have_text(re.compile(r"Show \d+ not measured"))
        expect(folded.locator("tbody tr").first).to_be_hidden()
        folded.locator("summary").click()
        expect(folded.locator("tbody tr").first).to_be_visible()
        expect(folded.locator(".badge").first).to_have_text("Not measured")
    page.context.clear_cookies()
    # The rules slas 0012 ships (a test of this worker that flushed the tables may have taken
    # them; tests/slas/test_burnrate.py holds the migration to them).
    from slas.burnrate import ensure_default_rules

    ensure_default_rules()
    login(page, dcc_operator)
    page.goto("/")
    burn = page.locator("#tile-burnrate")
    expect(burn).to_be_visible()
    # The shipped rules watch every measure: the tile either lists episodes or says nothing burns.
    expect(burn).not_to_contain_text("No burn-rate rule")
    assert page.console_errors == []
