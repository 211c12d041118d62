"""Inventory REST API: lookups by any id form, scoping, transitions, imports of bad input,
keyset pages, device models, items, relationships and impact analysis."""
import pytest

from inventory import services
from inventory.choices import DeviceType
from inventory.models import Device, DeviceModel, ItemRelationship

from .factories import device, eui


def test_lookup_by_any_id_form(orgs, dcc_operator, api_for):
    meter = device(orgs["SUPA"])
    api = api_for(dcc_operator)
    for form in [meter.device_id, meter.device_id.replace("-", "").lower(), meter.device_id.replace("-", ":")]:
        response = api.get(f"/api/devices/{form}/")
        assert response.status_code == 200, form
        assert response.json()["device_id"] == meter.device_id
    assert api.get("/api/devices/not-an-id/").status_code == 404


def test_supplier_scope_on_api(orgs, supplier_a, api_for):
    mine, theirs = device(orgs["SUPA"]), device(orgs["SUPB"])
    api = api_for(supplier_a)
    listed = [d["device_id"] for d in api.get("/api/devices/").json()["results"]]
    assert listed == [mine.device_id]
    assert api.get(f"/api/devices/{theirs.device_id}/").status_code == 404
    assert api.post(f"/api/devices/{theirs.device_id}/status/", {"status": "whitelisted", "reason": "x"},
                    format="json").status_code == 404
    response = api.post("/api/devices/", {"device_id": eui(), "device_type": "ESME", "supplier": "SUPB",
                                          "region": "north"}, format="json")
    assert response.status_code == 403
    # Its own organisation's device too: one device at a time is DCC's (suppliers use the import).
    response = api.post("/api/devices/", {"device_id": "00db00000000abcd", "device_type": "ESME",
                                          "supplier": "SUPA", "region": "north"}, format="json")
    assert response.status_code == 403 and "device import" in response.json()["detail"]
    assert not Device.objects.filter(device_id="00-DB-00-00-00-00-AB-CD").exists()


def test_create_refuses_bad_input_clearly(orgs, dcc_operator, api_for):
    api = api_for(dcc_operator)
    hub = device(orgs["SUPA"], DeviceType.CHF)
    ihd = device(orgs["SUPA"], DeviceType.IHD, hub=hub)
    base = {"device_type": "ESME", "supplier": "SUPA", "region": "north"}
    cases = [
        ({"device_id": "00-DB-12"}, "not an EUI-64"),
        ({"device_id": eui(), "mpxn": "2200012345672"}, "wrong check digit"),
        ({"device_id": eui(), "hub_id": "00dbffffffffffff"}, "unknown hub"),
        ({"device_id": eui(), "hub_id": ihd.device_id}, "joins a communications hub"),
    ]
    for extra, message in cases:
        response = api.post("/api/devices/", {**base, **extra}, format="json")
        assert response.status_code == 400 and message in str(response.json()), (extra, response.json())
    assert Device.objects.count() == 2


def test_status_transition_over_api(orgs, dcc_operator, api_for):
    meter = device(orgs["SUPA"])
    api = api_for(dcc_operator)
    response = api.post(f"/api/devices/{meter.device_id}/status/", {"status": "commissioned", "reason": "x"},
                        format="json")
    assert response.status_code == 400
    assert "allowed: Whitelisted, Withdrawn" in str(response.json())
    response = api.post(f"/api/devices/{meter.device_id}/status/", {"status": "whitelisted", "reason": "log"},
                        format="json")
    assert response.status_code == 200 and response.json()["status"] == "whitelisted"
    history = api.get(f"/api/devices/{meter.device_id}/history/").json()
    assert [h["to_status"] for h in history] == ["whitelisted", "pending"]
    assert api.delete(f"/api/devices/{meter.device_id}/").status_code == 405


def test_hub_and_switch_actions(orgs, dcc_operator, api_for):
    hub = device(orgs["SUPA"], DeviceType.CHF)
    meter = device(orgs["SUPA"], DeviceType.ESME)
    api = api_for(dcc_operator)
    response = api.post(f"/api/devices/{meter.device_id}/hub/", {"hub_id": hub.device_id.lower()}, format="json")
    assert response.json()["hub"] == hub.device_id
    assert api.post(f"/api/devices/{meter.device_id}/hub/", {"hub_id": meter.device_id},
                    format="json").status_code == 400
    response = api.post(f"/api/devices/{meter.device_id}/switches/", {"number": 2, "state": "closed"},
                        format="json")
    assert response.status_code == 200 and meter.switches.get().state == "closed"
    assert [d["device_id"] for d in api.get(f"/api/devices/{hub.device_id}/neighbours/").json()] == [meter.device_id]


def test_device_list_is_keyset_paginated_and_filtered(orgs, dcc_operator, api_for):
    for _ in range(7):
        device(orgs["SUPA"])
    device(orgs["SUPB"], DeviceType.GSME, region="south")
    api = api_for(dcc_operator)
    page = api.get("/api/devices/", {"page_size": 3, "supplier": "SUPA"}).json()
    assert "count" not in page and len(page["results"]) == 3 and page["next"]
    seen = [d["device_id"] for d in page["results"]]
    while page["next"]:
        page = api.get(page["next"]).json()
        seen += [d["device_id"] for d in page["results"]]
    assert len(seen) == len(set(seen)) == 7
    assert [d["device_type"] for d in api.get("/api/devices/", {"region": "south"}).json()["results"]] == ["GSME"]


def test_device_models_and_withdrawal(orgs, dcc_operator, supplier_a, api_for):
    api = api_for(dcc_operator)
    response = api.post("/api/device-models/", {"manufacturer_id": "1234", "model_id": "E470",
                                                "device_type": "ESME", "firmware_versions": ["1.0"]},
                        format="json")
    assert response.status_code == 201, response.json()
    pk = response.json()["id"]
    model = DeviceModel.objects.get(pk=pk)
    mine, theirs = device(orgs["SUPA"], model=model), device(orgs["SUPB"], model=model)
    assert api_for(supplier_a).post(f"/api/device-models/{pk}/withdraw/", {"reason": "x"},
                                    format="json").status_code == 404
    response = api.post(f"/api/device-models/{pk}/withdraw/", {"reason": "CPL"}, format="json")
    assert response.json()["model"]["status"] == "withdrawn"
    assert response.json()["affected_devices"] == sorted([mine.device_id, theirs.device_id])
    assert api_for(supplier_a).get(f"/api/device-models/{pk}/").status_code == 200


def test_items_relationships_and_impact(db, dcc_operator, supplier_a, api_for):
    api = api_for(dcc_operator)
    for key in ["dsp", "dugw", "adapter", "portal"]:
        assert api.post("/api/items/", {"key": key, "name": key.upper(), "kind": "system"},
                        format="json").status_code == 201
    edges = [("dugw", "dsp"), ("adapter", "dugw"), ("portal", "dugw"), ("portal", "adapter"), ("dsp", "portal")]
    for source, target in edges:
        assert api.post("/api/relationships/", {"source": source, "kind": "depends_on", "target": target},
                        format="json").status_code == 201
    response = api.post("/api/relationships/", {"source": "dsp", "kind": "depends_on", "target": "portal"},
                        format="json")
    assert response.status_code == 400 and "already depends on" in str(response.json())
    response = api.post("/api/relationships/", {"source": "dsp", "kind": "depends_on", "target": "dsp"},
                        format="json")
    assert response.status_code == 400 and "itself" in str(response.json())
    impact = api_for(supplier_a).get("/api/items/dsp/impact/").json()
    assert {(a["key"], tuple(a["path"])) for a in impact["affected"]} == {
        ("dugw", ("dsp", "dugw")), ("adapter", ("dsp", "dugw", "adapter")), ("portal", ("dsp", "dugw", "portal"))}
    assert api_for(supplier_a).post("/api/relationships/", {"source": "dsp", "kind": "part_of", "target": "dugw"},
                                    format="json").status_code == 403
    assert ItemRelationship.objects.count() == 5


def test_routes_in_openapi_schema(dcc_operator, client_for):
    schema = client_for(dcc_operator).get("/api/schema/").content.decode()
    for path in ["/api/v1/devices/", "/api/v1/device-models/", "/api/v1/items/", "/api/v1/relationships/",
                 "/api/v1/requirements/", "/api/v1/items/{key}/impact/", "/api/v1/devices/{device_id}/status/"]:
        assert path in schema, path


def test_link_model_to_items(dcc_operator, api_for, db):
    api = api_for(dcc_operator)
    services.item_upsert(key="ichi", name="ICHI", kind="interface")
    response = api.post("/api/device-models/", {"manufacturer_id": "AB12", "model_id": "CH1", "device_type": "CHF",
                                                "items": ["ichi"]}, format="json")
    assert response.json()["items"] == ["ichi"]


def test_schema_documents_null_hub_and_plain_list_actions(orgs, dcc_operator, api_for):
    meter = device(orgs["SUPA"], DeviceType.ESME)
    api = api_for(dcc_operator)
    assert meter.hub_id is None and api.get(f"/api/devices/{meter.device_id}/").json()["hub"] is None
    patched = api.patch(f"/api/devices/{meter.device_id}/", {"mpxn": meter.mpxn}, format="json").json()
    assert patched["hub"] is None
    schema = api.get("/api/schema/?format=json").json()
    assert schema["components"]["schemas"]["Device"]["properties"]["hub"]["nullable"] is True
    assert schema["components"]["schemas"]["StatusHistory"]["properties"]["actor"]["nullable"] is True
    for action in ("history", "neighbours"):
        ok = schema["paths"][f"/api/v1/devices/{{device_id}}/{action}/"]["get"]["responses"]["200"]
        assert ok["content"]["application/json"]["schema"]["type"] == "array", action
        assert isinstance(api.get(f"/api/devices/{meter.device_id}/{action}/").json(), list)


@pytest.mark.parametrize("field, value", [
    ("region", "south"), ("mpxn", "2200012345671"), ("installed_at", "2024-01-02T03:04:05Z"),
    ("commissioned_at", "2024-01-02T03:04:05Z"), ("firmware_version", "9.9"),
])
def test_supplier_may_not_change_what_the_pages_refuse(orgs, supplier_a, api_for, field, value):
    """The edit page is DCC's; the API refuses the same to a supplier, naming the field."""
    meter = device(orgs["SUPA"], DeviceType.ESME)
    before = Device.objects.values().get(pk=meter.pk)
    response = api_for(supplier_a).patch(f"/api/devices/{meter.device_id}/", {field: value}, format="json")
    assert response.status_code == 403, response.json()
    assert field in response.json()["detail"] and "DCC" in response.json()["detail"]
    assert Device.objects.values().get(pk=meter.pk) == before


def test_supplier_keeps_status_and_hub_and_dcc_changes_the_details(orgs, supplier_a, dcc_operator, api_for):
    meter, hub = device(orgs["SUPA"], DeviceType.ESME), device(orgs["SUPA"], DeviceType.CHF)
    api = api_for(supplier_a)
    assert api.post(f"/api/devices/{meter.device_id}/status/", {"status": "whitelisted", "reason": "x"},
                    format="json").status_code == 200
    assert api.post(f"/api/devices/{meter.device_id}/hub/", {"hub_id": hub.device_id},
                    format="json").json()["hub"] == hub.device_id
    both = api.patch(f"/api/devices/{meter.device_id}/", {"region": "south", "mpxn": "2200012345671"},
                     format="json")
    assert both.status_code == 403 and "mpxn, region" in both.json()["detail"]
    changed = api_for(dcc_operator).patch(f"/api/devices/{meter.device_id}/", {"firmware_version": "2.0"},
                                          format="json")
    assert changed.status_code == 200 and changed.json()["firmware_version"] == "2.0"
