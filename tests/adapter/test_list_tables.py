"""The adapter's lists as register tables (portal.lists): requests, batches and alerts render
with sorting, column choice and export of the current view; the requests' bulk cancel takes
only one's own cancellable requests."""
import csv
import io

import pytest
from django.utils import timezone

from adapter import services
from adapter.choices import RequestState
from adapter.models import Alert, ServiceRequest
from portal.lists import services as list_services
from portal.lists.tables import BULK_LIMIT

pytestmark = pytest.mark.django_db
REQUESTS = "/adapter/requests/"
CANCEL = "/adapter/requests/bulk-cancel/"


def _csv(response):
    return list(csv.reader(io.StringIO(response.getvalue().decode("utf-8-sig"))))


def _send(user, device, n=1):
    return [services.request_submit(user=user, srv="4.1.1", device_id=device.device_id, params={})
            for _ in range(n)]


def test_request_list_sorts_chooses_columns_and_exports(srvs, devices, supplier_a, client_for):
    sent = _send(supplier_a, devices["a_esme"], 4)
    client = client_for(supplier_a)
    response = client.get(REQUESTS)
    assert [r.pk for r in response.context["rows"]] == sorted((r.pk for r in sent), reverse=True)  # newest first
    body = response.content.decode()
    assert 'aria-sort="descending"' in body and "sort=received" in body and "<strong>4</strong> results" in body
    oldest = client.get(REQUESTS, {"sort": "received", "per_page": "25"})
    assert [r.pk for r in oldest.context["rows"]] == sorted(r.pk for r in sent)
    assert client.get(REQUESTS, {"sort": "outcome"}).context["rows"][0].pk == sent[-1].pk  # not declared
    list_services.list_columns_set(user=supplier_a, table="adapter.requests", columns=["state", "batch"])
    body = client.get(REQUESTS).content.decode()
    assert 'data-column="batch"' in body and 'data-column="srv"' not in body
    rows = _csv(client.get(REQUESTS, {"export": "csv", "sort": "received"}))
    assert rows[0] == ["Request id", "State", "Batch"]
    assert [row[0] for row in rows[1:]] == [r.request_id for r in sorted(sent, key=lambda r: r.pk)]
    assert rows[1][1] == sent[0].state


def test_bulk_cancel_counts_cancelled_and_skipped(srvs, devices, supplier_a, client_for):
    open_ = _send(supplier_a, devices["a_esme"], 2)
    [rejected] = [services.request_submit(user=supplier_a, srv="4.1.1", device_id="00-DB-00-00-00-00-00-99",
                                          params={})]
    assert rejected.state == RequestState.REJECTED and all(r.state in ("received", "queued") for r in open_)
    client = client_for(supplier_a)
    assert f'name="pk" value="{open_[0].pk}"' in client.get(REQUESTS).content.decode()
    response = client.post(CANCEL, {"pk": [r.pk for r in (*open_, rejected)], "next": REQUESTS}, follow=True)
    assert "2 requests cancelled. 1 skipped" in response.content.decode()
    states = dict(ServiceRequest.objects.values_list("pk", "state"))
    assert [states[r.pk] for r in open_] == ["cancelled", "cancelled"] and states[rejected.pk] == "rejected"


def test_bulk_cancel_hostile_input(srvs, devices, supplier_a, supplier_b, client_for):
    [mine] = _send(supplier_a, devices["a_esme"])
    [theirs] = _send(supplier_b, devices["b_esme"])
    client = client_for(supplier_a)
    assert client.post(CANCEL, {"pk": [mine.pk, theirs.pk]}).status_code == 404  # another's among one's own
    assert client.post(CANCEL, {"pk": [mine.pk, 10**12]}).status_code == 404  # unknown
    for pks, message in (([*range(1, BULK_LIMIT + 2)], "At most"), (["1 OR 1=1"], "not a row"),
                         ([], "Select at least one")):
        assert message in client.post(CANCEL, {"pk": pks}, follow=True).content.decode()
    # an off-site next is not followed
    assert client.post(CANCEL, {"pk": [mine.pk], "next": "https://evil.example/"})["Location"] == REQUESTS
    assert ServiceRequest.objects.get(pk=theirs.pk).state != "cancelled"
    assert client.get(CANCEL).status_code == 405


def test_batch_list_renders_sorted_and_exports(srvs, devices, supplier_a, client_for):
    client = client_for(supplier_a)
    data = f"srv,device_id,params_json,execute_at\n4.1.1,{devices['a_esme'].device_id},{{}},\n".encode()
    first = services.batch_create(user=supplier_a, data=data, filename="one.csv", name="one")
    second = services.batch_create(user=supplier_a, data=data, filename="two.csv", name="two")
    response = client.get("/adapter/batches/")
    assert [b.pk for b in response.context["page"].object_list] == [second.pk, first.pk]
    assert 'data-column="uploaded"' in response.content.decode()
    assert [b.pk for b in client.get("/adapter/batches/", {"sort": "batch"}).context["page"].object_list] == [
        first.pk, second.pk]
    rows = _csv(client.get("/adapter/batches/", {"export": "csv", "sort": "batch"}))
    assert rows[0][0] == "Batch" and [row[0] for row in rows[1:]] == [str(first.pk), str(second.pk)]


def test_alert_list_renders_sorted_and_exports(srvs, devices, supplier_a, supplier_b, client_for):
    for n in range(3):
        Alert.objects.create(alert_id=f"AL-{n}", alert_code="0x8F3E", device=devices["a_esme"],
                             organisation=supplier_a.organisation, raised_at=timezone.now(), description="=cmd|x")
    Alert.objects.create(alert_id="AL-B", alert_code="0x8F3E", device=devices["b_esme"],
                         organisation=supplier_b.organisation, raised_at=timezone.now())
    client = client_for(supplier_a)
    response = client.get("/adapter/alerts/")
    assert [a.alert_id for a in response.context["rows"]] == ["AL-2", "AL-1", "AL-0"]
    assert [a.alert_id for a in client.get("/adapter/alerts/", {"sort": "alert_id"}).context["rows"]] == [
        "AL-0", "AL-1", "AL-2"]
    rows = _csv(client.get("/adapter/alerts/", {"export": "csv"}))
    assert [row[0] for row in rows[1:]] == ["AL-2", "AL-1", "AL-0"]
    assert rows[1][2].startswith("'=")  # a spreadsheet formula stays text
