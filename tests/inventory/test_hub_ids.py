"""A supplier sees a hub's id only where it may see the hub itself (issue 18): a gas supplier's meter
joined to another supplier's communications hub shows no hub id in the list, the detail page, the
API, the hub filter, the export, the search or the RSMI_001 report; DCC sees every hub id."""
import pytest
from django.urls import reverse

from inventory.choices import DeviceType
from tests.inventory.factories import device

pytestmark = pytest.mark.django_db


@pytest.fixture
def premises(orgs):
    """Albion's hub with Brightwater's gas meter on it; Brightwater's own hub with its ESME."""
    theirs = device(orgs["SUPA"], DeviceType.CHF)
    gas = device(orgs["SUPB"], DeviceType.GSME, hub=theirs)
    own = device(orgs["SUPB"], DeviceType.CHF)
    esme = device(orgs["SUPB"], DeviceType.ESME, hub=own)
    return {"theirs": theirs, "gas": gas, "own": own, "esme": esme}


def test_pages_export_and_search_hide_another_suppliers_hub_id(premises, supplier_b, client_for):
    theirs, own = premises["theirs"].device_id, premises["own"].device_id
    client = client_for(supplier_b)
    page = client.get(reverse("inventory:device_list")).content.decode()
    assert theirs not in page
    assert own in page
    assert "another supplier" in page
    detail = client.get(premises["gas"].get_absolute_url()).content.decode()
    assert theirs not in detail and "a hub managed by another supplier" in detail
    # The hub filter matches only hubs the supplier may see: another's id finds nothing.
    filtered = client.get(reverse("inventory:device_list"), {"hub": theirs}).content.decode()
    assert premises["gas"].device_id not in filtered
    assert premises["esme"].device_id in client.get(reverse("inventory:device_list"), {"hub": own}).content.decode()
    for kind in ("csv", "xlsx"):
        response = client.get(reverse("inventory:device_list"), {"export": kind})
        body = b"".join(response.streaming_content) if response.streaming else response.content
        assert premises["gas"].device_id.encode() in body or kind == "xlsx"
        assert theirs.encode() not in body and theirs.replace("-", "").encode() not in body, kind
    from portal import search

    assert search.search(supplier_b, theirs) == [] or all(not g.results for g in search.search(supplier_b, theirs))
    assert any(g.results for g in search.search(supplier_b, own))
    assert client.get("/search/", {"q": theirs}).status_code == 200


def test_api_hides_another_suppliers_hub_id_everywhere(premises, supplier_b, dcc_operator, api_for):
    theirs, own = premises["theirs"].device_id, premises["own"].device_id
    api = api_for(supplier_b)
    listed = {d["device_id"]: d["hub"] for d in api.get("/api/devices/").json()["results"]}
    assert listed[premises["gas"].device_id] is None and listed[premises["esme"].device_id] == own
    assert api.get(f"/api/devices/{premises['gas'].device_id}/").json()["hub"] is None
    assert api.get("/api/devices/", {"hub": theirs}).json()["results"] == []
    assert [d["device_id"] for d in api.get("/api/devices/", {"hub": own}).json()["results"]] == [
        premises["esme"].device_id]
    assert [d["hub"] for d in api.get(f"/api/devices/{own}/neighbours/").json()] == [own]
    changed = api.post(f"/api/devices/{premises['gas'].device_id}/status/", {"status": "whitelisted",
                                                                               "reason": "x"}, format="json")
    assert changed.status_code == 200 and changed.json()["hub"] is None
    assert theirs not in api.get("/api/devices/").content.decode()
    # DCC sees every hub id.
    dcc = api_for(dcc_operator)
    assert dcc.get(f"/api/devices/{premises['gas'].device_id}/").json()["hub"] == theirs
    assert [d["device_id"] for d in dcc.get("/api/devices/", {"hub": theirs}).json()["results"]] == [
        premises["gas"].device_id]


def test_rsmi_001_names_only_the_organisations_own_hubs(premises, supplier_b):
    from servicedesk import reports

    report = reports.installation_status(reports.report_scope(supplier_b))
    rows = {row[1]: row for row in report.rows}
    hub_column = report.headers.index("hub_id")
    assert rows[premises["gas"].device_id][hub_column] == ""
    assert rows[premises["esme"].device_id][hub_column] == premises["own"].device_id
