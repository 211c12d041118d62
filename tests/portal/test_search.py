"""Global search: each kind found by each of its keys, grouped, and only what the user may see;
every registered provider asked for every role (a provider that breaks fails here, it never
quietly answers nothing)."""
import datetime

import pytest
from django.core.exceptions import FieldError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse

from portal.registry import SEARCH_PROVIDERS, SearchProvider
from portal.search import Result, search

pytestmark = pytest.mark.django_db


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


def test_service_requests_by_request_id(orgs, supplier_a, supplier_b):
    owned_objects = pytest.importorskip("tests.adapter.isolation").owned_objects
    made = [obj for obj, _ in owned_objects(orgs["SUPB"], supplier_b) if obj._meta.label == "adapter.ServiceRequest"]
    if not made:
        pytest.skip("the adapter's isolation objects carry no service request yet")
    request = made[0]
    assert kinds(supplier_b, request.request_id)["request"] == [request.request_id]
    assert kinds(supplier_a, request.request_id) == {}


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
    from portal.search import full_text
    from workshops.models import Action, Consultation, Document, Meeting, RaidItem

    cases = [(Action, ["reference", "title", "text"], "workshops_action_fts"),
             (RaidItem, ["title", "description"], "workshops_raiditem_fts"),
             (Document, ["name", "reference", "content"], "workshops_document_fts"),
             (Consultation, ["title", "summary"], "workshops_consultation_fts"),
             (Meeting, ["title", "venue", "minutes"], "workshops_meeting_fts")]
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    for model, fields, index in cases:
        plan = full_text(model.objects.all(), "firmware upgrade", fields).explain()
        assert index in plan, plan


# --- every registered provider ---------------------------------------------------------------------

def test_providers_are_registered_in_the_page_order():
    assert [(p.kind, p.label) for p in SEARCH_PROVIDERS if p.key] == [
        ("device", "Devices"), ("request", "Service requests"), ("alert", "Alerts"),
        ("incident_reference", "Incidents and problems")]
    assert [(p.kind, p.label) for p in SEARCH_PROVIDERS if not p.key] == [
        ("action", "Actions"), ("raid", "RAID items"), ("document", "Documents"), ("consultation", "Consultations"),
        ("meeting", "Meetings"), ("incident", "Incidents"), ("problem", "Problems"), ("ci", "Configuration items"),
        ("device_model", "Device models"),
        ("organisation", "Organisations")]


# One query of each shape a provider reacts to: EUI-64, MPAN, request id, alert id, action, RAID
# and meeting references, a CI key, free text.
QUERIES = ["00-DB-AD-AD-AD-AD-AD-01", "1200012345678", "90-B3-D5-1F-30-01-00-02:00-DB-AD-AD-AD-AD-AD-01:424242",
           "ISO-ALERT-5", "SDAG_5.04", "RAID-1", "SDAG 5", "csp-north", "firmware", "marker", "SUPB"]


@pytest.mark.parametrize("role", ["dcc_operator", "dcc_admin", "supplier_a", "supplier_b", "sdag_member"])
def test_every_registered_provider_answers_every_role(role, orgs, supplier_b, request):
    from tests.portal.test_isolation import foreign_objects

    foreign_objects(orgs["SUPB"], supplier_b)
    user = request.getfixturevalue(role)
    for provider in SEARCH_PROVIDERS:
        for query in QUERIES:
            # Raises (and fails the test) if the provider is broken.
            results = provider.find(user, query)
            assert isinstance(results, list) and all(isinstance(r, Result) for r in results), (provider.kind, query)
    found = {group.kind for group in search(user, "00-DB-AD-AD-AD-AD-AD-01")}
    assert found == ({"device"} if role in ("dcc_operator", "dcc_admin", "supplier_b") else set()), role


def test_a_provider_that_breaks_fails_the_search_instead_of_answering_nothing(orgs, dcc_operator, client_for):
    def broken(user, query):
        raise FieldError("Cannot resolve keyword 'renamed' into field")

    for key in (True, False):
        with SEARCH_PROVIDERS.registered(SearchProvider("broken", "Broken", broken, key=key)):
            with pytest.raises(FieldError):
                search(dcc_operator, "anything at all")
            with pytest.raises(FieldError):
                client_for(dcc_operator).get("/search/", {"q": "anything at all"})
    assert "broken" not in SEARCH_PROVIDERS
