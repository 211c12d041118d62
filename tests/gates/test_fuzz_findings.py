"""Each finding of the integrators' schemathesis run (issue "Integrators"), pinned at its cause: the
input that broke the API answers 400 naming the field and writes nothing, and the answers that broke
their own schema now match it. The fuzz gates (test_api_fuzz*.py) search for new ones; these keep the
known ones from coming back whatever the generator happens to try."""
import datetime as dt
import json

import pytest
from django.core.exceptions import ValidationError

from adapter import services as adapter_services
from adapter.models import Batch
from inventory import services as inventory_services
from inventory.models import ConfigurationItem, DeviceModel, list_of_text
from slas.models import ReliefEvent
from tests.adapter.conftest import devices, srvs  # noqa: F401 (fixtures used below)
from workshops import services as workshops_services
from workshops.models import Action

pytestmark = pytest.mark.django_db

NOT_LISTS_OF_TEXT = [None, "1.0", 3, {"a": 1}, [None], [1], [{}], [["1.0"]], [""], ["  "], ["ok", None]]
# The API reads a number in a list of text as its digits (DRF's CharField, as every text field of the API
# does), so [1] is stored as ["1"]; the model, reached by other paths, takes only text.
NOT_LISTS_OF_TEXT_IN_JSON = [bad for bad in NOT_LISTS_OF_TEXT if bad != [1]]


@pytest.fixture
def schema(api_for, dcc_operator):
    response = api_for(dcc_operator).get("/api/schema/?format=json")
    assert response.status_code == 200
    return response.json()


def component(schema, name):
    return schema["components"]["schemas"][name]


def resolve(schema, node):
    while "$ref" in node:
        node = component(schema, node["$ref"].rsplit("/", 1)[1])
    return node


def admits(schema, node, value):
    """Whether an OpenAPI 3.0 property schema (enum, oneOf, nullable) admits ``value``: enough for the
    enum and nullable findings pinned here."""
    node = resolve(schema, node)
    if value is None and node.get("nullable"):
        return True
    if "oneOf" in node or "allOf" in node or "anyOf" in node:
        return any(admits(schema, n, value) for key in ("oneOf", "allOf", "anyOf") for n in node.get(key, []))
    if "enum" in node:
        return value in node["enum"]
    if value is None:
        return False
    return True


# --- device models and configuration items: lists of text ----------------------------------------

@pytest.mark.parametrize("bad", NOT_LISTS_OF_TEXT_IN_JSON)
def test_device_model_firmware_versions_must_be_a_list_of_text(bad, api_for, dcc_operator):
    api = api_for(dcc_operator)
    response = api.post("/api/device-models/", {"manufacturer_id": "1234", "model_id": "E470",
                                                "device_type": "ESME", "firmware_versions": bad}, format="json")
    assert response.status_code == 400, response.content
    assert "firmware_versions" in str(response.json()["errors"]), response.json()
    assert not DeviceModel.objects.exists()


@pytest.mark.parametrize("bad", NOT_LISTS_OF_TEXT_IN_JSON)
def test_device_model_patch_with_a_bad_list_changes_nothing(bad, api_for, dcc_operator):
    model = inventory_services.device_model_upsert(manufacturer_id="1234", model_id="E470", device_type="ESME",
                                                   firmware_versions=["1.0"], actor=dcc_operator)
    response = api_for(dcc_operator).patch(f"/api/device-models/{model.pk}/", {"firmware_versions": bad},
                                           format="json")
    assert response.status_code == 400 and "firmware_versions" in str(response.json()["errors"])
    model.refresh_from_db()
    assert model.firmware_versions == ["1.0"]


@pytest.mark.parametrize("bad", NOT_LISTS_OF_TEXT_IN_JSON)
def test_item_documents_must_be_a_list_of_text(bad, api_for, dcc_operator):
    api = api_for(dcc_operator)
    response = api.post("/api/items/", {"key": "dsp", "name": "DSP", "kind": "system", "documents": bad},
                        format="json")
    assert response.status_code == 400, response.content
    assert "documents" in str(response.json()["errors"]), response.json()
    assert not ConfigurationItem.objects.exists()
    item = inventory_services.item_create(key="dsp", name="DSP", kind="system", documents=["DUIS"],
                                          actor=dcc_operator)
    response = api.patch("/api/items/dsp/", {"documents": bad}, format="json")
    assert response.status_code == 400 and "documents" in str(response.json()["errors"])
    item.refresh_from_db()
    assert item.documents == ["DUIS"]


def test_the_services_and_the_models_refuse_what_the_api_refuses(dcc_operator):
    # the service de-duplicates the versions: an unhashable entry is a message naming the field, not a TypeError
    with pytest.raises(ValidationError) as raised:
        inventory_services.device_model_upsert(manufacturer_id="1234", model_id="E470", device_type="ESME",
                                               firmware_versions=[{"v": 1}], actor=dcc_operator)
    assert "firmware_versions" in raised.value.message_dict
    with pytest.raises(ValidationError) as raised:
        inventory_services.item_create(key="dsp", name="DSP", kind="system", documents=[None], actor=dcc_operator)
    assert "documents" in raised.value.message_dict
    for bad in NOT_LISTS_OF_TEXT:
        with pytest.raises(ValidationError):
            list_of_text(bad)
    list_of_text([])
    list_of_text(["1.0", "2.0"])
    assert not DeviceModel.objects.exists() and not ConfigurationItem.objects.exists()


def test_the_schema_says_arrays_of_strings(schema):
    for name, field in [("DeviceModel", "firmware_versions"), ("Item", "documents")]:
        prop = component(schema, name)["properties"][field]
        assert prop["type"] == "array" and prop["items"]["type"] == "string", (name, prop)


# --- a batch posted as JSON ----------------------------------------------------------------------

@pytest.mark.parametrize("body, field", [
    ([None, None], "body"),
    ([{"srv": "4.1.1"}], "body"),
    ("rows", "body"),
    (None, "body"),
    ({}, "rows"),
    ({"rows": None}, "rows"),
    ({"rows": []}, "rows"),
    ({"rows": "4.1.1"}, "rows"),
    ({"rows": [None]}, "rows.0"),
    ({"rows": [{"srv": "4.1.1"}, 7]}, "rows.1"),
    ({"rows": [{"srv": "4.1.1"}], "name": ["x"]}, "name"),
    ({"rows": [{"srv": "4.1.1"}], "name": "x" * 201}, "name"),
])
def test_a_batch_body_of_the_wrong_shape_names_the_field(body, field, api_for, supplier_a,
                                                          srvs):  # noqa: F811 (the imported fixture)
    # sent as the JSON text itself, so a bare null is a body of "null", not an empty one
    response = api_for(supplier_a).post("/api/adapter/batches/", json.dumps(body), content_type="application/json")
    assert response.status_code == 400, response.content
    errors = response.json()["errors"]
    assert field in errors, errors
    assert not Batch.objects.exists()


def test_a_batch_of_good_shape_is_accepted(api_for, supplier_a, srvs, devices,  # noqa: F811
                                           quiet_simulator):
    response = api_for(supplier_a).post("/api/adapter/batches/", {"name": "one", "rows": [
        {"srv": "4.1.1", "device_id": devices["a_esme"].device_id, "params": {}}]}, format="json")
    assert response.status_code == 202, response.content
    assert Batch.objects.get().name == "one"


# --- a blank region is in the schema ------------------------------------------------------------

def test_a_request_without_a_region_matches_its_schema(api_for, supplier_a, srvs,  # noqa: F811
                                                        schema):
    response = api_for(supplier_a).post("/api/adapter/requests/", {"srv": "4.1.1",
                                                                  "device_id": "00-DB-FF-FF-FF-FF-FF-FF"},
                                        format="json")
    assert response.status_code == 422, response.content  # refused: the device is not in the register
    answered = response.json()
    assert answered["region"] == ""  # a device not in the register has no region
    prop = component(schema, "Request")["properties"]["region"]
    assert admits(schema, prop, "") and admits(schema, prop, "north") and not admits(schema, prop, "mars")


def test_an_alert_without_a_device_matches_its_schema(api_for, orgs, dcc_operator, schema):
    alert = adapter_services.alert_receive(alert_id="A-1", alert_code="0x8F3A", organisation=orgs["SUPA"],
                                           raised_at=dt.datetime(2026, 11, 30, 12, tzinfo=dt.UTC))
    answered = api_for(dcc_operator).get(f"/api/adapter/alerts/{alert.pk}/").json()
    assert answered["region"] == "" and answered["device_id"] is None
    props = component(schema, "Alert")["properties"]
    assert admits(schema, props["region"], "") and admits(schema, props["device_id"], None)


# --- relief event times --------------------------------------------------------------------------

@pytest.mark.parametrize("starts, ends, field", [
    ("0001-01-01T00:00:00+14:00", "2026-11-01T00:00:00Z", "starts_at"),
    ("1969-06-01T00:00:00Z", "2026-11-01T00:00:00Z", "starts_at"),
    ("2026-11-01T00:00:00Z", "9999-12-31T23:59:59-14:00", "ends_at"),
    ("2026-11-01T00:00:00Z", "3000-01-01T00:00:00Z", "ends_at"),
    ("2025-01-01T00:00:00Z", "2026-11-01T00:00:00Z", "ends_at"),  # longer than a year
    ("2026-11-02T00:00:00Z", "2026-11-01T00:00:00Z", "ends_at"),
])
def test_relief_times_out_of_range_name_the_field(starts, ends, field, api_for, dcc_admin):
    response = api_for(dcc_admin).post("/api/slas/relief-events/", {
        "provider": "DSP", "starts_at": starts, "ends_at": ends, "reason": "outage"}, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"], response.json()
    assert not ReliefEvent.objects.exists()


def test_a_relief_window_of_a_day_is_recorded(api_for, dcc_admin):
    response = api_for(dcc_admin).post("/api/slas/relief-events/", {
        "provider": "DSP", "starts_at": "2026-11-01T00:00:00Z", "ends_at": "2026-11-02T00:00:00Z",
        "reason": "outage"}, format="json")
    assert response.status_code == 201, response.content
    assert ReliefEvent.objects.count() == 1


# --- an action's meeting --------------------------------------------------------------------------

def test_an_action_without_a_meeting_matches_its_schema_and_one_must_be_given(api_for, orgs, dcc_operator,
                                                                              schema):
    series = workshops_services.series_save(code="sdag", name="SDAG", action_prefix="SDAG", actor=dcc_operator)
    meeting = workshops_services.meeting_save(series=series, number=6, title="SDAG #6", date=dt.date(2013, 4, 23),
                                              start=dt.time(10), end=dt.time(15), actor=dcc_operator)
    imported = Action.objects.create(reference="SDAG-OLD-1", title="From the old register")  # as an import does
    api = api_for(dcc_operator)
    answered = api.get(f"/api/workshops/actions/{imported.pk}/").json()
    assert answered["meeting"] is None
    assert admits(schema, component(schema, "Action")["properties"]["meeting"], None)
    # Raising one through the API still needs its meeting, and the request schema says so.
    request_schema = component(schema, "ActionRequest")
    assert "meeting" in request_schema["required"]
    assert not admits(schema, request_schema["properties"]["meeting"], None)
    for body in ({"title": "No meeting"}, {"title": "Null meeting", "meeting": None}):
        response = api.post("/api/workshops/actions/", body, format="json")
        assert response.status_code == 400 and "meeting" in response.json()["errors"], response.content
    response = api.post("/api/workshops/actions/", {"title": "Raised", "meeting": meeting.pk}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["meeting"] == meeting.pk


@pytest.mark.parametrize("when", ["1321-02-02T10:00:00Z", "0001-01-01T00:00:00Z", "3000-01-01T00:00:00Z"])
def test_service_alert_times_out_of_range_name_the_field(when, api_for, dcc_operator):
    """Found by the fuzz gate: a year before 1970 answered a Europe/London offset of -00:01:15
    (local mean time), which no RFC 3339 date-time can hold. Such a date is refused at the door."""
    from servicedesk.models import ServiceAlert

    response = api_for(dcc_operator).post("/api/servicedesk/alerts/", {
        "title": "Gateway slow", "description": "Slow answers", "components": [],
        "expected_resolution_at": when}, format="json")
    assert response.status_code == 400, response.content
    assert "expected_resolution_at" in response.json()["errors"], response.json()
    assert not ServiceAlert.objects.exists()
