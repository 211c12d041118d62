"""Inventory pages: scoping, keyset pages, query counts that do not grow with rows, actions,
imports (preview, commit, rollback) and exports."""
import io
import re

import openpyxl
import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from inventory import services
from inventory.choices import DeviceType
from inventory.models import Device, DeviceStatusChange

from .factories import device, eui


def bulk_devices(supplier, count, start=0x100000, **extra):
    hub = device(supplier, DeviceType.CHF)
    Device.objects.bulk_create(
        Device(device_id=eui(start + i), device_type=DeviceType.ESME, supplier=supplier, region="north", hub=hub,
               **extra)
        for i in range(count)
    )
    return hub


def test_supplier_sees_only_own_devices(orgs, supplier_a, client_for):
    mine = device(orgs["SUPA"])
    theirs = device(orgs["SUPB"])
    client = client_for(supplier_a)
    body = client.get(reverse("inventory:device_list")).content.decode()
    assert mine.device_id in body and theirs.device_id not in body
    assert client.get(reverse("inventory:device_detail", args=[theirs.device_id])).status_code == 404
    assert client.get(reverse("inventory:device_detail", args=[mine.device_id])).status_code == 200
    response = client.post(reverse("inventory:device_status", args=[theirs.device_id]),
                           {"status": "whitelisted", "reason": "x"})
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == "pending"


def test_only_dcc_is_offered_to_register_a_device(orgs, dcc_operator, supplier_a, client_for):
    link = 'href="%s"' % reverse("inventory:device_create")
    assert link in client_for(dcc_operator).get(reverse("inventory:device_list")).content.decode()
    assert link not in client_for(supplier_a).get(reverse("inventory:device_list")).content.decode()


def test_dcc_sees_all_and_detail_accepts_any_id_form(orgs, dcc_operator, client_for):
    a, b = device(orgs["SUPA"]), device(orgs["SUPB"])
    client = client_for(dcc_operator)
    body = client.get(reverse("inventory:device_list")).content.decode()
    assert a.device_id in body and b.device_id in body
    compact = a.device_id.replace("-", "").lower()
    response = client.get(reverse("inventory:device_detail", args=[compact]))
    assert response.status_code == 302 and response["Location"].endswith(f"/devices/{a.device_id}/")
    assert client.get(reverse("inventory:device_detail", args=["not-an-id"])).status_code == 404


def test_search_by_any_id_form_and_mpan(orgs, dcc_operator, client_for):
    meter = device(orgs["SUPA"], mpxn="2200012345671")
    other = device(orgs["SUPA"])
    client = client_for(dcc_operator)
    for q in [meter.device_id.replace("-", ":"), meter.device_id.replace("-", "").lower(), "2200012345671"]:
        body = client.get(reverse("inventory:device_list"), {"q": q}).content.decode()
        assert meter.device_id in body and other.device_id not in body, q
    body = client.get(reverse("inventory:device_list"), {"q": "rubbish"}).content.decode()
    assert "No devices match" in body


def test_filters_and_hub_filter(orgs, dcc_operator, client_for):
    hub = device(orgs["SUPA"], DeviceType.CHF)
    joined = device(orgs["SUPA"], DeviceType.GSME, hub=hub, region="north")
    loose = device(orgs["SUPB"], DeviceType.ESME, region="south")
    client = client_for(dcc_operator)
    body = client.get(reverse("inventory:device_list"), {"hub": hub.device_id.replace("-", "")}).content.decode()
    assert joined.device_id in body and loose.device_id not in body
    body = client.get(reverse("inventory:device_list"), {"region": "south", "supplier": "SUPB"}).content.decode()
    assert loose.device_id in body and joined.device_id not in body


def test_keyset_pages_walk_the_list(orgs, dcc_operator, client_for):
    bulk_devices(orgs["SUPA"], 120)
    client = client_for(dcc_operator)
    seen, params = [], {"supplier": "SUPA"}
    for _ in range(5):
        response = client.get(reverse("inventory:device_list"), params)
        rows = response.context["devices"]
        seen += [d.pk for d in rows]
        if not response.context["next_after"]:
            break
        params = {"supplier": "SUPA", "after": response.context["next_after"]}
    assert len(seen) == len(set(seen)) == 121
    assert seen == sorted(seen, reverse=True)


def _list_queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("who", ["dcc_operator", "supplier_a"])
def test_device_list_query_count_does_not_grow(orgs, request, client_for, who):
    client = client_for(request.getfixturevalue(who))
    model = services.device_model_upsert(manufacturer_id="1234", model_id="E470", device_type="ESME")
    bulk_devices(orgs["SUPA"], 10, model=model)
    url = reverse("inventory:device_list")
    client.get(url)  # the first view fills what is kept between requests (sessions, the capability table)
    small = _list_queries(client, url)
    bulk_devices(orgs["SUPA"], 990, start=0x200000, model=model)
    assert Device.objects.count() == 1002
    assert _list_queries(client, url) == small
    assert _list_queries(client, url + "?status=pending&region=north") == small


def test_device_list_rows_link_label_and_badge_as_the_detail_page_names_them(orgs, dcc_operator, client_for):
    model = services.device_model_upsert(manufacturer_id="1234", model_id="E470", device_type="ESME")
    hub = device(orgs["SUPA"], DeviceType.CHF, region="south")
    meter = device(orgs["SUPA"], hub=hub, mpxn="2200012345671", region="south", model=model)
    response = client_for(dcc_operator).get(reverse("inventory:device_list"), {"q": meter.mpxn})
    [row] = response.context["devices"]
    assert row.pk == meter.pk and row.url == reverse("inventory:device_detail", args=[meter.device_id])
    body = response.content.decode()
    assert f'<a href="{row.url}"><code class="eui">{meter.device_id}</code></a>' in body
    assert f'<span class="badge badge-grey">{meter.get_status_display()}</span>' in body
    for cell in (meter.supplier.code, meter.get_region_display(), "E470", meter.mpxn, hub.device_id):
        assert f"{cell}</" in body
    ids = re.findall(r' id="([^"]+)"', body)
    assert len(ids) == len(set(ids)), "an id is used twice on the page (a label would name the wrong field)"


@pytest.mark.parametrize("who", ["dcc_operator", "supplier_a"])
def test_device_search_is_an_exact_lookup_with_the_list_page_query_count(orgs, request, client_for, who):
    client = client_for(request.getfixturevalue(who))
    bulk_devices(orgs["SUPA"], 30)
    meter = device(orgs["SUPA"], mpxn="2200012345671")
    url = reverse("inventory:device_list")
    client.get(url)
    listed = _list_queries(client, url + "?status=pending")
    for q in (meter.device_id.replace("-", "").lower(), meter.mpxn):
        with CaptureQueriesContext(connection) as ctx:
            body = client.get(url, {"q": q}).content.decode()
        assert meter.device_id in body and len(ctx.captured_queries) == listed
        assert not any("LIKE" in query["sql"].upper() for query in ctx.captured_queries)


def test_model_and_item_lists_query_count_does_not_grow(orgs, dcc_operator, client_for):
    client = client_for(dcc_operator)
    item = services.item_upsert(key="dsp", name="DSP", kind="system", owner=orgs["DSP"])

    def add_models(start, count):
        for i in range(start, start + count):
            m = services.device_model_upsert(manufacturer_id=f"{i:04X}", model_id=f"M{i}", device_type="ESME")
            m.items.add(item)
            services.item_upsert(key=f"item-{i}", name=f"Item {i}", kind="component", owner=orgs["DCC"])

    add_models(0, 10)
    counts = [_list_queries(client, reverse("inventory:model_list")),
              _list_queries(client, reverse("inventory:ci_list"))]
    add_models(10, 90)
    assert [_list_queries(client, reverse("inventory:model_list")),
            _list_queries(client, reverse("inventory:ci_list"))] == counts


def test_device_page_shows_neighbours_history_and_requests_block(orgs, dcc_operator, client_for):
    hub = device(orgs["SUPA"], DeviceType.CHF)
    meter = device(orgs["SUPA"], DeviceType.ESME, hub=hub)
    ihd = device(orgs["SUPA"], DeviceType.IHD, hub=meter)
    services.switch_set(device=meter, number=3, description="immersion heater", state="open", actor=dcc_operator)
    client = client_for(dcc_operator)
    response = client.post(reverse("inventory:device_status", args=[meter.device_id]),
                           {"status": "whitelisted", "reason": "on the device log"})
    assert response.status_code == 302
    body = client.get(reverse("inventory:device_detail", args=[meter.device_id])).content.decode()
    assert hub.device_id in body and ihd.device_id in body and "immersion heater" in body
    assert "on the device log" in body
    assert f'hx-get="/adapter/devices/{meter.device_id}/requests/"' in body
    response = client.post(reverse("inventory:device_status", args=[meter.device_id]),
                           {"status": "decommissioned", "reason": "x"}, follow=True)
    assert "allowed: Installed not commissioned, Suspended, Withdrawn" in response.content.decode()


def test_hub_of_another_supplier_is_not_named(orgs, supplier_b, client_for):
    hub = device(orgs["SUPA"], DeviceType.CHF)
    gas = device(orgs["SUPB"], DeviceType.GSME, hub=hub)
    body = client_for(supplier_b).get(reverse("inventory:device_detail", args=[gas.device_id])).content.decode()
    assert hub.device_id not in body and "managed by another supplier" in body


def test_bulk_status_change_from_the_list(orgs, supplier_a, client_for):
    mine = [device(orgs["SUPA"]) for _ in range(3)]
    theirs = device(orgs["SUPB"])
    client = client_for(supplier_a)
    url = reverse("inventory:device_bulk_status") + "?status=pending"
    client.post(url, {"status": "whitelisted", "reason": "device log loaded"})
    assert {d.status for d in Device.objects.filter(pk__in=[d.pk for d in mine])} == {"whitelisted"}
    theirs.refresh_from_db()
    assert theirs.status == "pending"
    response = client.post(reverse("inventory:device_bulk_status"), {"status": "withdrawn", "reason": "x"},
                           follow=True)
    assert "filter the list first" in response.content.decode()


def test_export_csv_and_xlsx_follow_filters_and_scope(orgs, supplier_a, client_for):
    mine = device(orgs["SUPA"], DeviceType.GSME, mpxn="7412365")
    theirs = device(orgs["SUPB"])
    client = client_for(supplier_a)
    csv = client.get(reverse("inventory:device_list"), {"export": "csv"}).getvalue().decode("utf-8-sig")
    assert csv.splitlines()[0].startswith("device_id,device_type,manufacturer,model,firmware_version,status")
    assert mine.device_id in csv and theirs.device_id not in csv
    data = client.get(reverse("inventory:device_list"), {"export": "xlsx", "device_type": "GSME"}).getvalue()
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    assert [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)] == [mine.device_id]


# --- import ----------------------------------------------------------------------------------

HEADER = "device_id,device_type,manufacturer,model,firmware_version,status,supplier,mpxn,region,hub_id\n"


def good_file():
    return (HEADER
            + "00db100000000001,CHF,,,,pending,SUPA,,north,\n"
            + "00:DB:10:00:00:00:00:02,ESME,1234,E470,1.1,whitelisted,SUPA,2200012345671,north,00db100000000001\n"
            + "00-DB-10-00-00-00-00-03,IHD,,,,not_applicable,SUPA,,north,00-DB-10-00-00-00-00-02\n").encode()


@pytest.fixture
def e470(db):
    return services.device_model_upsert(manufacturer_id="1234", model_id="E470", device_type="ESME",
                                        firmware_versions=["1.0", "1.1"])


def test_import_preview_then_commit_through_the_page(orgs, supplier_a, client_for, e470):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = client_for(supplier_a)
    response = client.post(reverse("inventory:device_import"),
                           {"file": SimpleUploadedFile("devices.csv", good_file(), "text/csv")})
    assert response.context["preview"].clean and Device.objects.count() == 0
    token = response.context["token"]
    response = client.post(reverse("inventory:device_import"), {"token": token, "commit": "1"})
    assert response.status_code == 302
    meter = Device.objects.get(device_id="00-DB-10-00-00-00-00-02")
    assert meter.hub.device_id == "00-DB-10-00-00-00-00-01" and meter.model == e470
    assert Device.objects.get(device_id="00-DB-10-00-00-00-00-03").hub == meter
    assert DeviceStatusChange.objects.filter(reason="imported from devices.csv").count() == 3


def test_import_bad_rows_named_and_nothing_written(orgs, supplier_a, client_for, e470, tmp_path, capsys):
    from django.core.files.uploadedfile import SimpleUploadedFile

    bad = (good_file().decode()
           + "00-DB-10-00-00-00-00-04,ESME,1234,E470,9.9,pending,SUPA,2200012345672,north,00db10000000ffff\n"
           + "00-DB-10-00-00-00-00-05,GSME,,,,pending,SUPB,123456,north,\n"
           + "00-DB-10-00-00-00-00-06,GSME,,,,pending,SUPA,123456,north,00-DB-10-00-00-00-00-03\n"
           + "xyz,ESME,,,,pending,SUPA,,north,\n").encode()
    client = client_for(supplier_a)
    response = client.post(reverse("inventory:device_import"),
                           {"file": SimpleUploadedFile("devices.csv", bad, "text/csv")})
    preview = response.context["preview"]
    errors = {r.row: r.error for r in preview.results if r.error}
    assert set(errors) == {5, 6, 7, 8}
    assert "firmware_version" in errors[5] and "wrong check digit" in errors[5] and "unknown hub" in errors[5]
    assert "unknown supplier 'SUPB'" in errors[6]
    assert "joins a communications hub (CHF), not the IHD" in errors[7]
    assert "not an EUI-64" in errors[8]
    assert response.context["token"] is None
    # the committing path refuses too: nothing is half-written
    from inventory import importers

    assert not importers.run(bad, filename="devices.csv", commit=True, actor=supplier_a).committed
    assert Device.objects.count() == 0
    path = tmp_path / "devices.csv"
    path.write_bytes(bad)
    with pytest.raises(SystemExit) as exc:
        call_command("import_devices", str(path), "--commit")
    assert exc.value.code == 1
    assert Device.objects.count() == 0


def test_import_command_prints_rows_and_commits(orgs, e470, tmp_path):
    path = tmp_path / "devices.csv"
    path.write_bytes(good_file())
    out = io.StringIO()
    call_command("import_devices", str(path), stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[:3] == ["2\t00-DB-10-00-00-00-00-01\tok", "3\t00-DB-10-00-00-00-00-02\tok",
                         "4\t00-DB-10-00-00-00-00-03\tok"]
    assert Device.objects.count() == 0
    call_command("import_devices", str(path), "--commit", stdout=io.StringIO())
    assert Device.objects.count() == 3


def test_import_xlsx(orgs, e470, dcc_operator):
    from inventory import importers

    book = openpyxl.Workbook()
    sheet = book.active
    for line in good_file().decode().splitlines():
        sheet.append(line.split(","))
    data = io.BytesIO()
    book.save(data)
    preview = importers.run(data.getvalue(), filename="d.xlsx", commit=True, actor=dcc_operator)
    assert preview.committed and Device.objects.count() == 3


# --- models and items ------------------------------------------------------------------------

def test_model_withdrawal_page_lists_affected(orgs, dcc_operator, supplier_a, client_for, e470):
    a, b = device(orgs["SUPA"], model=e470), device(orgs["SUPB"], model=e470)
    client = client_for(dcc_operator)
    response = client.post(reverse("inventory:model_withdraw", args=[e470.pk]), {"reason": "CPL removal"},
                           follow=True)
    body = response.content.decode()
    assert "Affected devices" in body and a.device_id in body and b.device_id in body
    body = client_for(supplier_a).get(reverse("inventory:model_detail", args=[e470.pk])).content.decode()
    assert a.device_id in body and b.device_id not in body and "Withdraw this model" not in body
    assert client_for(supplier_a).post(reverse("inventory:model_withdraw", args=[e470.pk]),
                                       {"reason": "x"}).status_code == 404


def test_item_page_shows_impact_and_chart(orgs, dcc_operator, client_for):
    dsp = services.item_upsert(key="dsp", name="DSP", kind="system")
    gw = services.item_upsert(key="dugw", name="DCC User Gateway", kind="interface")
    client = client_for(dcc_operator)
    client.post(reverse("inventory:ci_relationship_add", args=["dugw"]), {"kind": "depends_on", "target": "dsp"})
    response = client.post(reverse("inventory:ci_relationship_add", args=["dugw"]),
                           {"kind": "depends_on", "target": "dsp"}, follow=True)
    assert "already depends on" in response.content.decode()
    body = client.get(reverse("inventory:ci_detail", args=[dsp.key])).content.decode()
    assert gw.name in body and 'data-figure="fig-impact"' in body and "plotly.min.js" in body
