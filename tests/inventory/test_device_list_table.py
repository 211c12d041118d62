"""The device list as a register table (portal.lists): sorting by declared columns only, the
column chooser remembered, the current view exported, and the selected rows' status changed in
one go, with hostile selections refused."""
import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from inventory.choices import DeviceType
from inventory.models import Device, DeviceStatusChange
from portal.lists import services as list_services
from portal.lists.tables import BULK_LIMIT

from .factories import device, eui

URL = "/inventory/devices/"
BULK = "/inventory/devices/bulk-status/"


def _many(supplier, count, start, status="pending"):
    Device.objects.bulk_create(Device(device_id=eui(start + i), device_type=DeviceType.ESME, supplier=supplier,
                                      region="north", status=status) for i in range(count))


def test_sort_by_device_id_both_ways_and_keyset_pages(orgs, dcc_operator, client_for):
    _many(orgs["SUPA"], 30, 0x500000)
    client = client_for(dcc_operator)
    newest = [r.device_id for r in client.get(URL).context["devices"]]
    assert newest == sorted(newest, reverse=True)  # newest first: the last id created leads
    response = client.get(URL, {"sort": "device_id", "per_page": "25"})
    first = [r.device_id for r in response.context["devices"]]
    assert first == sorted(first) and len(first) == 25
    body = response.content.decode()
    assert 'aria-sort="ascending"' in body and "sort=-device_id" in body
    after = response.context["next_after"]
    second = [r.device_id for r in client.get(URL, {"sort": "device_id", "per_page": "25", "after": after})
              .context["devices"]]
    assert len(second) == 5 and second[0] > first[-1]
    descending = [r.device_id for r in client.get(URL, {"sort": "-device_id"}).context["devices"]]
    assert descending == sorted(descending, reverse=True)
    # a column without a declared sort (no index would serve it), or anything else: the default
    for hostile in ("mpxn", "-status", "supplier__name", "id; DROP TABLE inventory_device"):
        response = client.get(URL, {"sort": hostile})
        assert response.status_code == 200
        assert [r.device_id for r in response.context["devices"]] == newest


def test_count_page_size_and_filters_for_people(orgs, dcc_operator, client_for):
    _many(orgs["SUPA"], 30, 0x510000)
    client = client_for(dcc_operator)
    response = client.get(URL, {"per_page": "100000", "status": "pending"})
    body = response.content.decode()
    assert response.context["listing"].count.value == 30 and "<strong>30</strong> results" in body
    assert response.context["listing"].per_page == 50  # a size not offered: the default
    assert "---------" not in body and ">Any</option>" in body and "Clear filters" in body


def test_hidden_column_stays_hidden_and_export_follows_the_view(orgs, supplier_a, supplier_b, client_for):
    mine = device(orgs["SUPA"], DeviceType.GSME, mpxn="7412365")
    client = client_for(supplier_a)
    response = client.post("/lists/columns/", {"table": "inventory.devices", "next": URL,
                                               "columns": ["device_type", "status"]})
    assert response.status_code == 302
    body = client.get(URL).content.decode()
    assert 'data-column="device_type"' in body and 'data-column="mpxn"' not in body
    assert 'data-column="device_id"' in body  # the row's link is always shown
    # another person's list is unchanged
    other = client_for(supplier_b).get(URL).content.decode()
    assert 'data-column="mpxn"' in other
    rows = list(csv.reader(io.StringIO(client.get(URL, {"export": "csv", "sort": "device_id"})
                                       .getvalue().decode("utf-8-sig"))))
    # the chosen columns, and the dates the page does not show
    assert rows[0] == ["device_id", "device_type", "status", "installed_at", "commissioned_at"]
    assert rows[1][0] == mine.device_id
    list_services.list_columns_set(user=supplier_a, table="inventory.devices", columns=[], reset=True)
    assert 'data-column="mpxn"' in client.get(URL).content.decode()


def test_export_keeps_its_sort(orgs, dcc_operator, client_for):
    _many(orgs["SUPA"], 5, 0x520000)
    client = client_for(dcc_operator)
    for sort, reverse_ in (("device_id", False), ("-device_id", True)):
        rows = list(csv.reader(io.StringIO(client.get(URL, {"export": "csv", "sort": sort})
                                           .getvalue().decode("utf-8-sig"))))[1:]
        ids = [row[0] for row in rows]
        assert ids == sorted(ids, reverse=reverse_)


@pytest.mark.parametrize("size", [50, 250])
def test_device_list_queries_at_its_page_size(orgs, dcc_operator, client_for, size):
    """The queries of a full page are a fixed few, whatever the page size (no query per row)."""
    _many(orgs["SUPA"], size + 10, 0x530000)
    client = client_for(dcc_operator)
    client.get(URL)
    with CaptureQueriesContext(connection) as small:
        client.get(URL, {"per_page": "25"})
    with CaptureQueriesContext(connection) as full:
        response = client.get(URL, {"per_page": str(size)})
    assert len(response.context["devices"]) == size
    assert len(full.captured_queries) == len(small.captured_queries) <= 12


def _bulk(client, ids, status="withdrawn", reason="Recalled by the manufacturer"):
    return client.post(BULK, {"pk": [str(i) for i in ids], "status": status, "reason": reason})


def test_change_status_of_the_selected_rows(orgs, dcc_operator, client_for):
    a, b, c = (device(orgs["SUPA"]) for _ in range(3))
    client = client_for(dcc_operator)
    body = client.get(URL).content.decode()
    assert f'name="pk" value="{a.pk}"' in body and "Change status of selected" in body
    response = _bulk(client, [a.pk, b.pk])
    assert response.status_code == 302
    assert [d.status for d in Device.objects.filter(pk__in=[a.pk, b.pk, c.pk]).order_by("pk")] == [
        "withdrawn", "withdrawn", "pending"]
    history = DeviceStatusChange.objects.filter(device__in=[a, b], to_status="withdrawn")
    assert history.count() == 2 and {h.reason for h in history} == {"Recalled by the manufacturer"}


def test_bulk_selection_hostile_input(orgs, supplier_a, client_for):
    mine = device(orgs["SUPA"])
    theirs = device(orgs["SUPB"])
    client = client_for(supplier_a)
    # another supplier's id among one's own: 404, nothing changed
    assert _bulk(client, [mine.pk, theirs.pk]).status_code == 404
    # an unknown id
    assert _bulk(client, [mine.pk, 10**12]).status_code == 404
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.status == theirs.status == "pending"
    # too many, not numbers, no reason: refused with a message, nothing changed
    for ids, reason, message in (([*range(1, BULK_LIMIT + 2)], "x", "At most"),
                                 (["1 OR 1=1"], "x", "not a row"), ([mine.pk], "", "give a reason")):
        response = client.post(BULK, {"pk": [str(i) for i in ids], "status": "withdrawn", "reason": reason},
                               follow=True)
        assert message in response.content.decode()
    mine.refresh_from_db()
    assert mine.status == "pending"
    # a transition one device may not make: none of them changes (all or nothing)
    other = device(orgs["SUPA"], status="commissioned")
    response = client.post(BULK, {"pk": [str(mine.pk), str(other.pk)], "status": "pending", "reason": "x"},
                           follow=True)
    assert "nothing changed" in response.content.decode() or "cannot change" in response.content.decode()


def test_bulk_needs_the_capability(orgs, sdag_member, client_for):
    meter = device(orgs["SUPA"])
    client = client_for(sdag_member)
    assert client.get(URL).status_code in (200, 403)
    assert _bulk(client, [meter.pk]).status_code in (403, 404)
    assert client.get(reverse("inventory:device_bulk_status")).status_code == 405


def test_model_and_item_lists_sort_choose_columns_and_export(orgs, dcc_operator, client_for):
    from inventory import services

    for mid in ("B2", "A1", "C3"):
        services.device_model_upsert(manufacturer_id="1234", model_id=mid, device_type="ESME")
    for key in ("zeta", "alpha"):
        services.item_upsert(key=key, name=key.title(), kind="system", owner=orgs["DSP"])
    client = client_for(dcc_operator)
    models = client.get("/inventory/models/", {"sort": "-model_id"})
    assert [m.model_id for m in models.context["page"].object_list] == ["C3", "B2", "A1"]
    assert 'aria-sort="descending"' in models.content.decode()
    list_services.list_columns_set(user=dcc_operator, table="inventory.devicemodels", columns=["status"])
    assert 'data-column="firmware_versions"' not in client.get("/inventory/models/").content.decode()
    rows = list(csv.reader(io.StringIO(client.get("/inventory/models/", {"export": "csv", "sort": "model_id"})
                                       .getvalue().decode("utf-8-sig"))))
    assert rows[0] == ["model_id", "status"] and [r[0] for r in rows[1:]] == ["A1", "B2", "C3"]
    items = client.get("/inventory/items/", {"sort": "-key", "per_page": "25"})
    assert [i.key for i in items.context["page"].object_list][:2] == ["zeta", "alpha"]
    assert "<strong>2</strong> results" in items.content.decode()
