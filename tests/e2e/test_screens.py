"""Every main screen, as a DCC operator and as a supplier, at 1440 px and 390 px wide (issue 17).

Each page: the document is no wider than the window (wide tables scroll inside their own wrapper),
every element id is unique, and axe-core (vendored: tests/e2e/vendor/VENDOR.md) finds no serious or
critical accessibility violation. A screenshot of each page at each width is kept under
test-output/e2e/screens-<role>-<page>-<width>.png. At 390 px the navigation folds behind the Menu
button, which says whether it is open (aria-expanded).
"""
import re
from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from tests.e2e.conftest import OUTPUT
from tests.gates.schema_routes import objects_of_both

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

AXE = Path(__file__).with_name("vendor") / "axe-core-4.14.1" / "axe.min.js"
WIDTHS = (1440, 390)
MONTH = "2020-01"  # the month of the slas isolation objects' statements and rollups

AXE_RUN = """async () => {
  const result = await window.axe.run(document, {resultTypes: ["violations"]});
  return {rules: result.passes.length + result.violations.length + result.incomplete.length,
          violations: result.violations.filter(v => v.impact === "serious" || v.impact === "critical").map(v => ({
            id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 5).map(n => n.target.join(" "))}))};
}"""
DUPLICATE_IDS = """() => {
  const seen = new Set(), twice = new Set();
  document.querySelectorAll("[id]").forEach(el => { if (seen.has(el.id)) { twice.add(el.id); } seen.add(el.id); });
  return [...twice];
}"""
# Every chart drawn to its box's width and inside it (plotly redraws a responsive chart shortly after
# a resize; a figure taller than its box would be drawn over what follows).
CHARTS_FIT = """() => [...document.querySelectorAll(".chart[data-figure]")].every(el => {
  const svg = el.querySelector("svg.main-svg");
  const drawn = svg && svg.getBoundingClientRect(), box = el.getBoundingClientRect();
  return drawn && Math.abs(drawn.width - box.width) < 2 && drawn.bottom <= box.bottom + 1;
})"""
WIDTH = "() => [document.documentElement.scrollWidth, window.innerWidth]"
# The innermost elements that stick out of the window (not inside a scrolling box): what a failure names.
OVERFLOWING = """() => [...document.querySelectorAll("body *")].filter(el => {
  const r = el.getBoundingClientRect();
  if (r.right <= window.innerWidth + 0.5) { return false; }
  for (let up = el.parentElement; up; up = up.parentElement) {
    if (up.scrollWidth > up.clientWidth && getComputedStyle(up).overflowX !== "visible") { return false; }
  }
  return true;
}).slice(-6).map(el => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
  (el.className && typeof el.className === "string" ? "." + el.className.trim().split(/\\s+/).join(".") : "") +
  " " + Math.round(el.getBoundingClientRect().right) + "px")"""


def owned(world, label, organisation):
    for obj, _marker in world:
        owner = (getattr(obj, "supplier", None) or getattr(obj, "organisation", None)
                 or getattr(obj, "originator", None))
        if obj._meta.label == label and owner == organisation:
            return obj
    raise AssertionError(f"no {label} of {organisation.code} among the isolation objects")


def impact_graph():
    """A configuration item whose change reaches seven others over three steps: the impact chart
    has columns to lay out and lines that could cross."""
    from inventory import services
    from inventory.choices import ItemKind, RelationshipKind

    def item(key, name):
        return services.item_upsert(key=key, name=name, kind=ItemKind.SYSTEM)

    dsp = item("dsp", "Data Service Provider")
    layers = [[item("gateway", "DCC User Gateway"), item("sm-wan", "SM WAN north")],
              [item("adapter", "Supplier adapter"), item("portal", "Self-service portal"), item("hubs", "Comms hubs")],
              [item("billing", "Billing feed"), item("alerts", "Alert routing")]]
    for upper, lower in ((None, layers[0]), (layers[0], layers[1]), (layers[1], layers[2])):
        for index, node in enumerate(lower):
            target = dsp if upper is None else upper[index % len(upper)]
            services.relationship_create(source=node, kind=RelationshipKind.DEPENDS_ON, target=target)
    return dsp


def main_pages(world, organisation, *, dcc):
    """(name, url) of the main pages the person opens; every one must answer 200."""
    device = owned(world, "inventory.Device", organisation)
    request = owned(world, "adapter.ServiceRequest", organisation)
    batch = owned(world, "adapter.Batch", organisation)
    incident = owned(world, "servicedesk.Incident", organisation)
    pages = [
        ("dashboard", "/"),
        ("devices", reverse("inventory:device_list")),
        ("device", reverse("inventory:device_detail", args=[device.device_id])),
        ("requests", reverse("adapter:request_list")),
        ("request", reverse("adapter:request_detail", args=[request.pk])),
        ("batches", reverse("adapter:batch_list")),
        ("batch", reverse("adapter:batch_detail", args=[batch.pk])),
        ("incidents", reverse("servicedesk:incident_list")),
        ("incident", reverse("servicedesk:incident_detail", args=[incident.reference])),
        ("report", reverse("slas:report") + f"?month={MONTH}"),
        ("statements", reverse("slas:statement_list")),
    ]
    statement = next((obj for obj, _ in world if obj._meta.label == "slas.Statement"
                      and (dcc or obj.organisation == organisation)), None)
    if statement is not None:
        pages.append(("statement", reverse("slas:statement_detail", args=[statement.pk])))
    if dcc:
        raid = owned(world, "workshops.RaidItem", organisation)
        changed = impact_graph()
        pages += [
            ("raid", reverse("workshops:raid_list")),
            ("raid-item", reverse("workshops:raid_detail", args=[raid.pk])),
            ("raid-heatmap", reverse("workshops:raid_heatmap")),
            ("roadmap", reverse("workshops:document_roadmap")),
            ("actions", reverse("workshops:action_list")),
            ("ci-impact", reverse("inventory:ci_detail", args=[changed.key])),
        ]
    return pages


def settle(tab):
    """The page loaded and its htmx panels answered (htmx marks an element .htmx-request while its
    request is in flight; load-triggered ones start before the load event)."""
    tab.wait_for_load_state("load")
    tab.wait_for_function("() => !document.querySelector('.htmx-request')", timeout=10_000)


def fits(tab, role, name, url, width):
    """The document is no wider than the window (polled: plotly redraws charts after a resize)."""
    try:
        tab.wait_for_function("() => document.documentElement.scrollWidth <= window.innerWidth", timeout=3_000)
    except PlaywrightTimeout:
        document, window = tab.evaluate(WIDTH)
        raise AssertionError(f"{name} at {width} px is {document} px wide ({role}, {url}): "
                             f"{tab.evaluate(OVERFLOWING)}") from None


def check_screen(tab, role, name, url):
    """One page, loaded on a phone (390 px), then the window widened to 1440 px; axe runs once
    (the markup is the same at both widths)."""
    narrow, wide = WIDTHS[1], WIDTHS[0]
    tab.set_viewport_size({"width": narrow, "height": 900})
    response = tab.goto(url)
    assert response.status == 200, f"{name} ({url}) answered {response.status} to {role}"
    settle(tab)
    charts = tab.locator(".chart[data-figure]")
    for index in range(charts.count()):
        expect(charts.nth(index)).to_have_attribute("data-chart-ready", "true", timeout=20_000)
    assert tab.evaluate(DUPLICATE_IDS) == [], f"{name} repeats element ids ({role}, {url})"
    OUTPUT.mkdir(parents=True, exist_ok=True)
    for width in (narrow, wide):
        tab.set_viewport_size({"width": width, "height": 900})
        fits(tab, role, name, url, width)
        tab.wait_for_function(CHARTS_FIT, timeout=5_000)
        tab.screenshot(path=str(OUTPUT / f"screens-{role}-{name}-{width}.png"), full_page=True)
    tab.evaluate(AXE.read_text(encoding="utf-8"))
    found = tab.evaluate(AXE_RUN)
    assert found["rules"] > 20, f"axe checked only {found['rules']} rules on {name}"
    assert found["violations"] == [], f"axe on {name} ({role}, {url}): {found['violations']}"


@pytest.mark.parametrize("role", ["dcc_operator", "supplier_b"])
def test_main_screens_fit_and_pass_axe(page, login, orgs, supplier_a, supplier_b, request, role):
    world = objects_of_both(orgs, supplier_a, supplier_b)
    person = request.getfixturevalue(role)
    dcc = role.startswith("dcc")
    login(page, person)
    pages = main_pages(world, orgs["SUPB"], dcc=dcc)
    for name, url in pages:
        check_screen(page, role, name, url)
    # Then every other link of the person's navigation at 1440 px: no page scrolls sideways.
    links = page.locator("nav#sidebar a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert len(links) > (20 if dcc else 8), links
    seen = {url.split("?")[0] for _, url in pages}
    for url in dict.fromkeys(link for link in links if link not in seen):
        response = page.goto(url)
        assert response.status == 200, f"{url} answered {response.status} to {role}"
        settle(page)
        fits(page, role, url, url, WIDTHS[0])
    assert page.console_errors == []


def test_on_a_phone_the_navigation_folds_and_a_saved_message_is_in_view(page, login, orgs, supplier_a,
                                                                         dcc_operator):
    """Below 800 px the navigation folds behind the Menu button (aria-expanded says whether it is
    open); after a save the success message is on screen."""
    import datetime as dt

    from workshops import services

    series = services.series_save(code="screens", name="Screens series", action_prefix="SCR", actor=None)
    meeting = services.meeting_save(series=series, number=1, title="Screens meeting", date=dt.date(2026, 12, 1),
                                    start=dt.time(10), end=dt.time(12), venue="Online", actor=None)
    action = services.action_raise(meeting=meeting, title="Screens action", owners=[supplier_a],
                                   due=dt.date(2026, 12, 20), actor=None)
    login(page, dcc_operator)
    page.set_viewport_size({"width": 390, "height": 800})
    page.goto("/")
    button = page.get_by_role("button", name="Menu")
    navigation = page.locator("nav#sidebar")
    expect(button).to_have_attribute("aria-expanded", "false")
    expect(navigation).to_be_hidden()
    button.click()
    expect(button).to_have_attribute("aria-expanded", "true")
    expect(navigation).to_be_visible()
    page.keyboard.press("Escape")  # closes it again, the focus back on the button
    expect(button).to_have_attribute("aria-expanded", "false")
    expect(navigation).to_be_hidden()
    expect(button).to_be_focused()
    button.click()
    navigation.get_by_role("link", name=re.compile("^Devices")).first.click()
    page.wait_for_url(re.compile(r"/inventory/"))
    expect(page.get_by_role("button", name="Menu")).to_have_attribute("aria-expanded", "false")
    # Wide: no button, the navigation always shown.
    page.set_viewport_size({"width": 1440, "height": 900})
    expect(page.get_by_role("button", name="Menu")).to_be_hidden()
    expect(page.locator("nav#sidebar")).to_be_visible()

    page.set_viewport_size({"width": 390, "height": 700})
    page.goto(reverse("workshops:action_detail", args=[action.pk]))
    form = page.locator(f"form[action='{reverse('workshops:action_quick', args=[action.pk])}']")
    form.locator("[name=text]").fill("Chased the owner by phone")
    form.get_by_role("button", name="Save").click()
    message = page.locator(".messages .msg-success")
    expect(message).to_contain_text(f"{action.reference} updated.")
    expect(message).to_be_in_viewport()
    page.screenshot(path=str(OUTPUT / "screens-message-after-save-390.png"))
    assert page.console_errors == []
