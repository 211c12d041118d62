"""Global search: each kind found by each of its keys, grouped, and only what the user may see.
Kinds whose app is not built yet are skipped with the reason."""
import datetime

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse

from portal.search import search

pytestmark = pytest.mark.django_db


def has(label):
    try:
        apps.get_model(label)
        return True
    except LookupError:
        return False


needs = {label: pytest.mark.skipif(not has(label), reason=f"{label} is not built yet")
         for label in ["inventory.Device", "adapter.ServiceRequest", "adapter.Alert", "workshops.Action",
                       "workshops.RaidItem", "workshops.Document", "workshops.Meeting", "workshops.Consultation",
                       "inventory.ConfigurationItem"]}


def kinds(user, query):
    return {group.kind: [r.title for r in group.results] for group in search(user, query)}


def test_search_page_groups_results_and_is_login_only(orgs, supplier_a, client_for, client):
    page = client_for(supplier_a).get("/search/", {"q": "SUPA"}).content.decode()
    assert "Organisations" in page and "Albion Energy" in page
    assert client.get("/search/", {"q": "SUPA"}).status_code == 302


def test_organisations_by_code_and_name_within_scope(orgs, supplier_a, dcc_operator):
    assert kinds(dcc_operator, "supb") == {"organisation": ["Brightwater Power"]}
    assert kinds(dcc_operator, "Brightwater")["organisation"] == ["Brightwater Power"]
    assert kinds(supplier_a, "SUPB") == {}
    assert search(supplier_a, "  ") == []


@needs["inventory.Device"]
def test_devices_by_every_eui64_form_and_by_mpan_and_mprn(orgs, supplier_a, supplier_b, dcc_operator):
    from inventory.models import Device

    Device.objects.create(device_id="00-DB-12-34-56-78-90-A0", device_type="ESME", supplier=orgs["SUPA"],
                          region="north", mpxn="1200012345678")
    Device.objects.create(device_id="00-DB-12-34-56-78-90-B0", device_type="GSME", supplier=orgs["SUPB"],
                          region="south", mpxn="7512345")
    for form in ["00-DB-12-34-56-78-90-A0", "00db1234567890a0", "00:DB:12:34:56:78:90:A0",
                 "00 DB 12 34 56 78 90 A0"]:
        assert kinds(supplier_a, form) == {"device": ["00-DB-12-34-56-78-90-A0"]}, form
    assert kinds(supplier_a, "1200012345678") == {"device": ["00-DB-12-34-56-78-90-A0"]}
    assert kinds(dcc_operator, "7512345") == {"device": ["00-DB-12-34-56-78-90-B0"]}
    # Supplier A cannot find B's device by any key.
    assert kinds(supplier_a, "00-DB-12-34-56-78-90-B0") == {}
    assert kinds(supplier_a, "7512345") == {}
    found = search(supplier_a, "00db1234567890a0")[0].results[0]
    try:
        expected = reverse("inventory:device_detail", args=["00-DB-12-34-56-78-90-A0"])
    except NoReverseMatch:  # the inventory pages are not built yet: no link rather than a broken one
        expected = ""
    assert found.url == expected


@needs["inventory.Device"]
def test_device_lookup_is_a_handful_of_queries_whatever_the_register_size(orgs, dcc_operator):
    from inventory.models import Device

    Device.objects.create(device_id="00-DB-00-00-00-00-07-CF", device_type="ESME", supplier=orgs["SUPA"],
                          region="north")
    with CaptureQueriesContext(connection) as small:
        assert kinds(dcc_operator, "00-DB-00-00-00-00-07-CF") == {"device": ["00-DB-00-00-00-00-07-CF"]}
    Device.objects.bulk_create([
        Device(device_id="00-DB-00-00-00-00-%02X-%02X" % divmod(n, 256), device_type="ESME", supplier=orgs["SUPA"],
               region="north", mpxn=f"12000{n:08d}") for n in range(2000) if n != 0x7CF])
    with CaptureQueriesContext(connection) as queries:
        assert kinds(dcc_operator, "00-DB-00-00-00-00-07-CF") == {"device": ["00-DB-00-00-00-00-07-CF"]}
    assert len(queries) == len(small) <= 3
    # No full-table text scan of the device register: every device query is an equality lookup.
    assert all("LIKE" not in q["sql"].upper() for q in queries.captured_queries if "inventory_device" in q["sql"])


@needs["adapter.ServiceRequest"]
def test_service_requests_by_request_id(orgs, supplier_a, supplier_b):
    owned_objects = pytest.importorskip("tests.adapter.isolation").owned_objects
    made = [obj for obj, _ in owned_objects(orgs["SUPB"], supplier_b) if obj._meta.label == "adapter.ServiceRequest"]
    if not made:
        pytest.skip("the adapter's isolation objects carry no service request yet")
    request = made[0]
    assert kinds(supplier_b, request.request_id)["request"] == [request.request_id]
    assert kinds(supplier_a, request.request_id) == {}


@needs["workshops.Action"]
def test_governance_kinds_by_reference_and_free_text(orgs, dcc_operator, sdag_member, supplier_a):
    from workshops.models import Action, Consultation, Document, Meeting, MeetingSeries, RaidItem, Topic

    series = MeetingSeries.objects.create(code="sdag", name="SDAG", action_prefix="SDAG")
    meeting = Meeting.objects.create(series=series, number=5, title="SDAG meeting 5 on firmware rollout",
                                     date=datetime.date(2026, 3, 4), start=datetime.time(10),
                                     end=datetime.time(12))
    Action.objects.create(reference="SDAG_5.04", meeting=meeting, title="Publish the firmware plan",
                          text="Circulate the gateway firmware plan to members")
    topic = Topic.objects.create(name="Firmware")
    raid = RaidItem.objects.create(kind="risk", topic=topic, title="Gateway firmware slips", originator=orgs["DCC"],
                                   description="Supplier testing late")
    Document.objects.create(name="Interface Testing Approach", reference="ITA-01", content="How testing runs")
    Consultation.objects.create(title="Consultation on alert thresholds", summary="Changing anomaly limits")
    for user in (dcc_operator, sdag_member):
        assert kinds(user, "SDAG_5.04")["action"] == ["SDAG_5.04"]
        assert kinds(user, "sdag 5.04")["action"] == ["SDAG_5.04"]
        assert kinds(user, f"RAID-{raid.pk}")["raid"] == ["Risk: Gateway firmware slips"]
        assert kinds(user, "Interface Testing Approach")["document"] == ["Interface Testing Approach"]
        assert kinds(user, "ITA-01")["document"] == ["Interface Testing Approach"]
        assert kinds(user, "SDAG 5")["meeting"] == ["SDAG meeting 5 on firmware rollout"]
        assert kinds(user, "alert thresholds")["consultation"] == ["Consultation on alert thresholds"]
        found = kinds(user, "firmware")
        assert found["action"] == ["SDAG_5.04"] and found["raid"] == ["Risk: Gateway firmware slips"]
        assert found["meeting"] == ["SDAG meeting 5 on firmware rollout"]
    # Suppliers see no governance data.
    assert kinds(supplier_a, "SDAG_5.04") == {} and kinds(supplier_a, "firmware") == {}


@needs["inventory.ConfigurationItem"]
def test_configuration_items_by_key_and_name(orgs, supplier_a):
    from inventory.models import ConfigurationItem

    ConfigurationItem.objects.create(key="csp-north", name="CSP North communications service", kind="service")
    assert kinds(supplier_a, "csp-north")["ci"] == ["CSP North communications service"]
    assert kinds(supplier_a, "communications")["ci"] == ["CSP North communications service"]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="full-text GIN indexes exist on PostgreSQL only")
def test_free_text_search_uses_the_gin_indexes_on_postgresql(db):
    """The search's ``vector @@ query`` matches the expression of workshops' GIN indexes, so the
    planner can answer from them (sequential scans are switched off to show it can, not whether
    it would on a handful of rows)."""
    from portal import search as search_module
    from workshops.models import Action, Consultation, Document, Meeting, RaidItem

    cases = [(Action, ["reference", "title", "text"], "workshops_action_fts"),
             (RaidItem, ["title", "description"], "workshops_raiditem_fts"),
             (Document, ["name", "reference", "content"], "workshops_document_fts"),
             (Consultation, ["title", "summary"], "workshops_consultation_fts"),
             (Meeting, ["title", "venue", "minutes"], "workshops_meeting_fts")]
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    for model, fields, index in cases:
        plan = search_module._text(model.objects.all(), "firmware upgrade", fields).explain()
        assert index in plan, plan
