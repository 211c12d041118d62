"""Pages and REST API of the adapter: submit through the generated form and the API, list with
filters and keyset pages, timeline with targets, cancel, alerts, thresholds, device fragment."""
import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from adapter import services
from adapter.choices import RequestState
from adapter.models import Alert, ServiceRequest

pytestmark = pytest.mark.django_db


def test_submit_form_is_generated_from_the_schema(srvs, devices, supplier_a, client_for,
                                                  django_capture_on_commit_callbacks):
    client = client_for(supplier_a)
    page = client.get(reverse("adapter:request_submit"), {"srv": "7.5"}).content.decode()
    assert 'name="param_switch"' in page and 'max="5"' in page and 'name="param_duration"' in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("adapter:request_submit") + "?srv=7.5",
                               {"device_id": devices["a_esme"].device_id, "param_switch": 3, "param_duration": 10})
    request = ServiceRequest.objects.get()
    assert response.status_code == 302 and request.params == {"switch": 3, "duration": 10}
    detail = client.get(reverse("adapter:request_detail", args=[request.pk])).content.decode()
    for text in ("SM1.1", "SM4.1", "SM1.6", "PM1", "4.00 s", "25.00 s", "30.00 s", "Signed"):
        assert text in detail
    bad = client.post(reverse("adapter:request_submit") + "?srv=7.5",
                      {"device_id": devices["a_esme"].device_id, "param_switch": 9})
    assert bad.status_code == 200 and "less than or equal to 5" in bad.content.decode()


def test_list_filters_and_keyset_pages(srvs, devices, supplier_a, client_for):
    for _ in range(7):
        services.request_submit(user=supplier_a, srv="4.1.1", device_id=devices["a_esme"].device_id, params={})
    services.request_submit(user=supplier_a, srv="4.1.1", device_id="00-DB-00-00-00-00-00-99", params={})
    client = client_for(supplier_a)
    rejected = client.get(reverse("adapter:request_list"), {"state": "rejected"}).content.decode()
    assert rejected.count("00-DB-00-00-00-00-00-99") >= 1 and "00-DB-12-34-56-78-90-A0:1<" not in rejected
    first = client.get(reverse("adapter:request_list"), {"size": 3})
    assert first.status_code == 200 and "Older requests" in first.content.decode()
    assert len(first.context["rows"]) == 3
    second = client.get(reverse("adapter:request_list") + first.context["next_url"])
    assert [r.pk for r in second.context["rows"]] == sorted(
        [r.pk for r in second.context["rows"]], reverse=True)
    assert max(r.pk for r in second.context["rows"]) < min(r.pk for r in first.context["rows"])


def test_api_submit_resubmit_reject_and_cancel(srvs, devices, supplier_a, api_for):
    api = api_for(supplier_a)
    url = "/api/adapter/requests/"
    later = (timezone.now() + dt.timedelta(hours=2)).isoformat()
    created = api.post(url, {"srv": "4.1.1", "device_id": devices["a_esme"].device_id, "execute_at": later,
                             "request_id": "90-B3-D5-1F-30-01-00-01:00-DB-12-34-56-78-90-A0:55"}, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["outcome"] == "I99" and created.json()["state"] == "queued"
    again = api.post(url, {"srv": "4.1.1", "device_id": devices["a_esme"].device_id,
                           "request_id": "90-B3-D5-1F-30-01-00-01:00-DB-12-34-56-78-90-A0:55"}, format="json")
    assert again.status_code == 200 and again.json()["id"] == created.json()["id"]
    refused = api.post(url, {"srv": "4.1.1", "device_id": devices["b_esme"].device_id}, format="json")
    assert refused.status_code == 422 and refused.json()["outcome"] == "E4"
    cancelled = api.post(f"{url}{created.json()['id']}/cancel/")
    assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"
    listed = api.get(url, {"state": "rejected"}).json()
    assert [r["outcome"] for r in listed["results"]] == ["E4"]
    assert api.post(url, {"srv": "99.9", "device_id": "x"}, format="json").status_code == 400


def test_supplier_sees_only_own_requests_in_api(srvs, devices, supplier_a, supplier_b, api_for):
    mine = services.request_submit(user=supplier_b, srv="4.1.1", device_id=devices["b_esme"].device_id, params={})
    assert api_for(supplier_a).get(f"/api/adapter/requests/{mine.pk}/").status_code == 404
    assert api_for(supplier_a).post(f"/api/adapter/requests/{mine.pk}/cancel/").status_code == 404
    assert api_for(supplier_b).get(f"/api/adapter/requests/{mine.pk}/").status_code == 200


def test_alerts_received_from_backend_and_forwarded(srvs, devices, supplier_a, supplier_b, dcc_operator, api_for,
                                                    client_for, mailoutbox, django_capture_on_commit_callbacks):
    payload = {"alert_id": "AL-1", "alert_code": "0x8F3E", "device_id": "00db1234567890a0",
               "raised_at": timezone.now().isoformat(), "description": "Override start"}
    assert api_for(supplier_a).post("/api/adapter/alerts/", payload, format="json").status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        response = api_for(dcc_operator).post("/api/adapter/alerts/", payload, format="json")
    assert response.status_code == 201
    alert = Alert.objects.get()
    assert alert.organisation == supplier_a.organisation and alert.delivered_at is not None
    assert alert.wan_received_at is not None and [m.to for m in mailoutbox] == [[supplier_a.email]]
    assert "AL-1" in client_for(supplier_a).get(reverse("adapter:alert_list")).content.decode()
    assert "AL-1" not in client_for(supplier_b).get(reverse("adapter:alert_list")).content.decode()


def test_thresholds_page_and_api(srvs, supplier_a, api_for, client_for):
    client = client_for(supplier_a)
    response = client.post(reverse("adapter:threshold_list"), {"srv": "7.5", "period": "day", "limit": 100})
    assert response.status_code == 302
    made = api_for(supplier_a).post("/api/adapter/thresholds/", {"srv": None, "period": "hour", "limit": 5},
                                    format="json")
    assert made.status_code == 201 and made.json()["organisation"] == "SUPA"
    assert len(api_for(supplier_a).get("/api/adapter/thresholds/").json()["results"]) == 2


def test_device_fragment_is_scoped(srvs, devices, supplier_a, supplier_b, dcc_operator, client_for):
    device = devices["a_esme"]
    services.request_submit(user=supplier_a, srv="7.4", device_id=device.device_id, params={})
    url = reverse("adapter:device_requests", args=[device.device_id])
    # the inventory device page loads the fragment with htmx
    page = client_for(supplier_a).get(reverse("inventory:device_detail", args=[device.device_id])).content.decode()
    assert f'hx-get="{url}"' in page
    assert "7.4 Read Supply Status" in client_for(supplier_a).get(url).content.decode()
    assert "7.4 Read Supply Status" in client_for(dcc_operator).get(url).content.decode()
    assert client_for(supplier_b).get(url).status_code == 404
    other = reverse("adapter:device_requests", args=[devices["b_esme"].device_id])
    assert client_for(supplier_a).get(other).status_code == 404
    assert client_for(supplier_a).get("/adapter/devices/not-an-id/requests/").status_code == 404


def test_quarantined_request_released_by_operator_page(srvs, devices, supplier_a, dcc_operator, client_for,
                                                       django_capture_on_commit_callbacks):
    from adapter.models import AnomalyThreshold

    AnomalyThreshold.objects.create(organisation=supplier_a.organisation, srv=None, period="day", limit=0)
    request = services.request_submit(user=supplier_a, srv="4.1.1", device_id=devices["a_esme"].device_id,
                                      params={})
    assert request.state == RequestState.QUARANTINED
    assert client_for(supplier_a).post(reverse("adapter:request_release", args=[request.pk])).status_code == 404
    with django_capture_on_commit_callbacks(execute=True):
        client_for(dcc_operator).post(reverse("adapter:request_reject", args=[request.pk]))
    request.refresh_from_db()
    assert request.state == RequestState.REJECTED and request.completed_at is not None


def test_threshold_post_without_srv_is_a_400_naming_srv(srvs, supplier_a, api_for):
    answer = api_for(supplier_a).post("/api/adapter/thresholds/", {"limit": 5}, format="json")
    assert answer.status_code == 400
    assert "srv" in answer.json()
    made = api_for(supplier_a).post("/api/adapter/thresholds/", {"srv": None, "limit": 7}, format="json")
    assert made.status_code == 201
    assert made.json()["period"] == "day" and made.json()["srv"] is None


def test_request_time_filters_take_any_iso_offset_and_refuse_impossible_instants(supplier_a, api_for):
    # Python accepts offsets up to 23:59 that PostgreSQL refuses (an aborted transaction, then a
    # 503 for everything after): the filter hands the database UTC, and an instant that does not
    # exist in UTC is refused naming the field (the API fuzz found both).
    api = api_for(supplier_a)
    assert api.get("/api/adapter/requests/", {"received_after": "0491-01-01T00:00:00-20:25"}).status_code == 200
    assert api.get("/api/adapter/requests/", {"received_before": "2025-06-01T00:00:00+23:59"}).status_code == 200
    refused = api.get("/api/adapter/requests/", {"received_after": "0001-01-01T00:00:00+05:00"})
    assert refused.status_code == 400 and "received_after" in refused.json()
    assert api.get("/api/adapter/requests/").status_code == 200
