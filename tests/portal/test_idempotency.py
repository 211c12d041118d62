"""Idempotency-Key on the API's POSTs (portal.idempotency)."""
import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from inventory.models import Device
from portal.idempotency import REPLAYED_HEADER, fingerprint, keys_purge
from portal.models import IdempotencyRecord
from portal.webhooks.models import WebhookEndpoint

pytestmark = pytest.mark.django_db

HOOK = {"name": "Albion ops", "url": "https://hooks.albion.example/dcc", "events": ["request.failed"]}


def _post(api, url, body, key):
    return api.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def test_replay_answers_the_first_answer_and_creates_nothing_more(supplier_a, api_for):
    api = api_for(supplier_a)
    first = _post(api, "/api/webhook-endpoints/", HOOK, "k-1")
    assert first.status_code == 201, first.content
    assert REPLAYED_HEADER not in first
    again = _post(api, "/api/webhook-endpoints/", HOOK, "k-1")
    assert again.status_code == 201 and again[REPLAYED_HEADER] == "true"
    assert again.json() == first.json()
    assert WebhookEndpoint.objects.filter(name="Albion ops").count() == 1
    # Without a key, the same body is a new request.
    assert api.post("/api/webhook-endpoints/", HOOK, format="json").status_code == 201
    assert WebhookEndpoint.objects.filter(name="Albion ops").count() == 2


def test_same_key_other_body_answers_422(supplier_a, api_for):
    api = api_for(supplier_a)
    assert _post(api, "/api/webhook-endpoints/", HOOK, "k-2").status_code == 201
    other = _post(api, "/api/webhook-endpoints/", {**HOOK, "name": "Other"}, "k-2")
    assert other.status_code == 422
    assert "Idempotency-Key" in other.json()["detail"]
    assert not WebhookEndpoint.objects.filter(name="Other").exists()


def test_in_flight_answers_409(supplier_a, api_for, rf):
    api = api_for(supplier_a)
    import json
    request = rf.post("/api/webhook-endpoints/", json.dumps(HOOK), content_type="application/json")
    IdempotencyRecord.objects.create(user=supplier_a, key="k-3", method="POST", path="/api/webhook-endpoints/",
                                     fingerprint=fingerprint(request))
    response = api.generic("POST", "/api/webhook-endpoints/", json.dumps(HOOK), content_type="application/json",
                           HTTP_IDEMPOTENCY_KEY="k-3")
    assert response.status_code == 409, response.content
    assert not WebhookEndpoint.objects.exists()


def test_keys_are_per_user_across_organisations(supplier_a, supplier_b, api_for):
    mine = _post(api_for(supplier_a), "/api/webhook-endpoints/", HOOK, "shared")
    theirs = _post(api_for(supplier_b), "/api/webhook-endpoints/", HOOK, "shared")
    assert mine.status_code == theirs.status_code == 201
    assert REPLAYED_HEADER not in theirs
    assert mine.json()["id"] != theirs.json()["id"] and mine.json()["secret"] != theirs.json()["secret"]
    assert {e.organisation.code for e in WebhookEndpoint.objects.all()} == {"SUPA", "SUPB"}


@pytest.mark.parametrize("key", ["", " lead", "trail ", "x" * 256, "caf\u00e9", "tab\tkey"])
def test_bad_key_answers_400_naming_the_header(supplier_a, api_for, key):
    response = _post(api_for(supplier_a), "/api/webhook-endpoints/", HOOK, key)
    assert response.status_code == 400, (key, response.content)
    assert "Idempotency-Key" in response.json()
    assert not WebhookEndpoint.objects.exists()


def test_errors_are_not_kept(supplier_a, api_for):
    api = api_for(supplier_a)
    bad = {**HOOK, "events": ["no.such.event"]}
    assert _post(api, "/api/webhook-endpoints/", bad, "k-4").status_code == 400
    assert not IdempotencyRecord.objects.filter(key="k-4").exists()
    assert _post(api, "/api/webhook-endpoints/", HOOK, "k-4").status_code == 201


def test_purge_after_24_hours(supplier_a, api_for):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        assert _post(api_for(supplier_a), "/api/webhook-endpoints/", HOOK, "k-5").status_code == 201
    with time_machine.travel(start + dt.timedelta(hours=23), tick=False):
        assert keys_purge() == 0
        assert _post(api_for(supplier_a), "/api/webhook-endpoints/", HOOK, "k-5")[REPLAYED_HEADER] == "true"
    with time_machine.travel(start + dt.timedelta(hours=24, minutes=1), tick=False):
        assert keys_purge() == 1
        assert not IdempotencyRecord.objects.exists()
        again = _post(api_for(supplier_a), "/api/webhook-endpoints/", HOOK, "k-5")
        assert again.status_code == 201 and REPLAYED_HEADER not in again
    assert WebhookEndpoint.objects.count() == 2


def test_purge_is_a_registered_schedule():
    from portal.registry import SCHEDULES
    assert any(s.func == "portal.idempotency.keys_purge" for s in SCHEDULES)


def test_inventory_device_create_replays_with_location_kept(orgs, dcc_operator, api_for):
    api = api_for(dcc_operator)  # one device at a time is DCC's (a supplier's POST is 403)
    body = {"device_id": "00db00000000abcd", "device_type": "ESME", "supplier": "SUPA", "region": "north"}
    first = _post(api, "/api/devices/", body, "dev-1")
    assert first.status_code == 201, first.content
    again = _post(api, "/api/devices/", body, "dev-1")
    assert again.status_code == 201 and again[REPLAYED_HEADER] == "true" and again.json() == first.json()
    assert first.get("Location") == again.get("Location")
    assert Device.objects.count() == 1


def test_workshops_action_create_replays(orgs, dcc_operator, sdag_member, api_for):
    from workshops import services
    from workshops.models import Action
    series = services.series_save(code="sdag", name="SDAG", action_prefix="SDAG", actor=dcc_operator)
    meeting = services.meeting_save(series=series, number=6, title="SDAG meeting #6", date=dt.date(2013, 4, 23),
                                    start=dt.time(10), end=dt.time(15), venue="BIS", actor=dcc_operator)
    api = api_for(dcc_operator)
    body = {"meeting": meeting.pk, "title": "Issue HCALC DDS", "owners": [sdag_member.username], "due": "tbc"}
    first = _post(api, "/api/workshops/actions/", body, "act-1")
    assert first.status_code == 201, first.content
    again = _post(api, "/api/workshops/actions/", body, "act-1")
    assert again[REPLAYED_HEADER] == "true" and again.json() == first.json()
    assert Action.objects.filter(title="Issue HCALC DDS").count() == 1


def test_schema_documents_the_header_on_creating_posts():
    from drf_spectacular.generators import SchemaGenerator
    schema = SchemaGenerator(api_version="v1").get_schema(request=None, public=True)
    post = schema["paths"]["/api/v1/webhook-endpoints/"]["post"]
    assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in post["parameters"])
    assert {"409", "422"} <= set(post["responses"])
    assert "Idempotency-Key" not in str(schema["paths"]["/api/v1/webhook-endpoints/"]["get"])


def test_a_detail_action_that_creates_replays_too(orgs, dcc_operator, sdag_member, api_for):
    """POST .../updates/ appends an update: a repeat with the key is the first answer, not a second update
    (the schema hook missed detail actions until their {pk} was read as the schema's {id})."""
    from workshops import services
    series = services.series_save(code="sdag", name="SDAG", action_prefix="SDAG", actor=dcc_operator)
    meeting = services.meeting_save(series=series, number=6, title="SDAG meeting #6", date=dt.date(2013, 4, 23),
                                    start=dt.time(10), end=dt.time(15), venue="BIS", actor=dcc_operator)
    action = services.action_raise(actor=dcc_operator, meeting=meeting, title="Issue HCALC DDS",
                                   owners=[sdag_member])
    api = api_for(dcc_operator)
    url = f"/api/v1/workshops/actions/{action.pk}/updates/"
    first = _post(api, url, {"text": "Draft circulated"}, "upd-1")
    assert first.status_code == 201, first.content
    again = _post(api, url, {"text": "Draft circulated"}, "upd-1")
    assert again.status_code == 201 and again[REPLAYED_HEADER] == "true" and again.json() == first.json()
    assert action.updates.count() == 1


def test_every_creating_post_documents_the_key():
    """Every POST of the schema but signing in (a token is not a record) and marking a notification read
    (the same answer however often it is sent) documents Idempotency-Key, with its 409 and 422."""
    from drf_spectacular.generators import SchemaGenerator
    schema = SchemaGenerator(api_version="v1").get_schema(request=None, public=True)
    without = {path for path, item in schema["paths"].items() if "post" in item
               and not any(p.get("name") == "Idempotency-Key" for p in item["post"].get("parameters", []))}
    assert without == {"/api/v1/auth/token/", "/api/v1/notifications/{id}/read/"}
    for path in ("/api/v1/workshops/actions/{id}/updates/", "/api/v1/webhook-deliveries/{id}/resend/",
                 "/api/v1/workshops/raid/{id}/confirm/"):
        assert {"409", "422"} <= set(schema["paths"][path]["post"]["responses"]), path
