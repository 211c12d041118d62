"""Batches in the request catalogue: a template CSV per SRV (its header row from the SRV's schema),
the header row checked at upload (a wrong file refused at once naming its columns, nothing
stored), template-shaped files read cell by cell, and the batch page live until the batch ends
(polling gone, the cancel button gone when nothing is left to cancel; a failed batch says why)."""
import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from adapter import services
from adapter.models import Batch, BatchRow, ServiceRequest

pytestmark = pytest.mark.django_db

TEMPLATE = reverse("adapter:batch_template")
A_ESME = "00-DB-12-34-56-78-90-A0"


def _template(client, srv):
    response = client.get(TEMPLATE, {"srv": srv})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert f'filename="batch-template-{srv}.csv"' in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.getvalue().decode("utf-8-sig"))))
    assert len(rows) == 1  # the header row only: no example row that could be sent by mistake
    return rows[0]


def test_a_template_per_srv_has_the_columns_of_its_schema(srvs, supplier_a, client_for):
    client = client_for(supplier_a)
    assert _template(client, "7.5") == ["srv", "device_id", "switch", "duration"]
    assert _template(client, "7.9") == ["srv", "device_id", "switch", "boost_minutes", "execute_at"]
    assert _template(client, "2.2") == ["srv", "device_id", "utrn"]
    assert _template(client, "4.1.1") == ["srv", "device_id", "execute_at"]
    for srv in srvs.values():
        names = list((srv.param_schema or {}).get("properties", {}))
        assert services.batch_columns(srv)[2:2 + len(names)] == names
    assert client.get(TEMPLATE, {"srv": "99.9"}).status_code == 404
    assert client.get(TEMPLATE, {"srv": "x" * 10_000}).status_code == 404


def test_the_upload_card_offers_the_templates_of_what_one_may_send(srvs, supplier_a, sdag_member, client_for):
    page = client_for(supplier_a).get(reverse("adapter:batch_list")).content.decode()
    assert f'action="{TEMPLATE}"' in page and '<option value="7.5">7.5 Activate Auxiliary Load</option>' in page
    assert '<option value="6.5">' not in page  # ED only: not SUPA's
    assert client_for(sdag_member).get(TEMPLATE, {"srv": "7.5"}).status_code == 403


def _upload(client, data, filename="rows.csv"):
    return client.post(reverse("adapter:batch_list"), {"name": "t", "file": SimpleUploadedFile(filename, data)})


@pytest.mark.parametrize("header, named", [
    ("srv,device,colour", ["missing column device_id", "unknown columns device, colour"]),
    ("device_id,switch", ["missing column srv"]),
    ("srv,device_id,switch,switch", ["column switch given more than once"]),
    ("srv,device_id,=cmd()", ["unknown column =cmd()"]),
])
def test_a_wrong_header_is_refused_at_once_naming_the_columns_and_nothing_is_stored(
        srvs, devices, supplier_a, client_for, header, named):
    response = _upload(client_for(supplier_a), f"{header}\n7.5,{A_ESME},1\n".encode())
    assert response.status_code == 200
    error = response.context["form"].errors["file"][0]
    for text in named:
        assert text in error
    assert "rows.csv: " in error and "Nothing was uploaded" in error
    assert not Batch.objects.exists() and not ServiceRequest.objects.exists()


def test_the_header_check_holds_for_the_api_and_workbooks(srvs, supplier_a, api_for):
    import openpyxl

    book = openpyxl.Workbook()
    book.active.append(["SRV", "Device_ID", "Nonsense"])
    book.active.append(["4.1.1", A_ESME, "x"])
    buffer = io.BytesIO()
    book.save(buffer)
    api = api_for(supplier_a)
    answer = api.post("/api/adapter/batches/", {"file": SimpleUploadedFile("rows.xlsx", buffer.getvalue())},
                      format="multipart")
    assert answer.status_code == 400 and "unknown column nonsense" in str(answer.json())
    long_header = ("srv,device_id," + "y" * 20_000 + "\n4.1.1,x,1\n").encode()
    answer = api.post("/api/adapter/batches/", {"file": SimpleUploadedFile("rows.csv", long_header)},
                      format="multipart")
    assert answer.status_code == 400 and "y" * 41 not in str(answer.json())  # a hostile name is cut short
    assert not Batch.objects.exists()


def test_a_template_shaped_file_is_read_cell_by_cell(srvs, devices, supplier_a, client_for,
                                                      django_capture_on_commit_callbacks):
    data = (f"srv,device_id,switch,duration,params_json\n"
            f"7.5,{A_ESME},2,15,\n"
            f"7.6,{A_ESME},two,,\n"
            f"7.6,{A_ESME},3,,\"{{\"\"switch\"\": 3}}\"\n"
            f"4.1.1,{A_ESME},,,\n"
            f"4.1.1,{A_ESME},1,,\n").encode()
    with django_capture_on_commit_callbacks(execute=True):
        response = _upload(client_for(supplier_a), data)
    assert response.status_code == 302
    rows = {r.row: r for r in BatchRow.objects.select_related("request")}
    assert rows[2].code == "I99" and rows[2].request.params == {"switch": 2, "duration": 15}
    assert rows[3].code == "E40" and "must be an integer (got 'two')" in rows[3].message
    assert rows[4].code == "E40" and "switch: given both in params_json and in its own column" in rows[4].message
    assert rows[5].code == "I99" and rows[5].request.params == {}
    assert rows[6].code == "E40" and "switch" in rows[6].message and "not a parameter" in rows[6].message


def _batch_page(client, batch):
    return client.get(reverse("adapter:batch_detail", args=[batch.pk])).content.decode()


def _fragment(client, batch, **query):
    response = client.get(reverse("adapter:batch_progress", args=[batch.pk]), query)
    assert response.status_code == 200
    return response.content.decode()


def test_the_batch_page_is_live_until_the_batch_ends_and_the_cancel_button_goes(
        srvs, devices, supplier_a, supplier_b, client_for, supa_key, django_capture_on_commit_callbacks):
    from tests.adapter.conftest import sign_precommand

    client = client_for(supplier_a)
    data = f"srv,device_id,switch\n4.1.1,{A_ESME},\n7.5,{A_ESME},1\n4.1.1,00-DB-99-99-99-99-99-99,\n".encode()
    with django_capture_on_commit_callbacks(execute=True):
        batch = services.batch_create(user=supplier_a, data=data, filename="rows.csv")
    batch.refresh_from_db()
    assert batch.state == "running"  # the 7.5 row awaits its signature: something is left to cancel
    page = _batch_page(client, batch)
    assert f'hx-get="{reverse("adapter:batch_progress", args=[batch.pk])}" hx-trigger="every 2s"' in page
    assert "Cancel batch" in page and 'id="batch-rows"' in page
    fragment = _fragment(client, batch, rejected=1)
    assert "?rejected=1" in fragment and "00-DB-99-99-99-99-99-99" in fragment and f"<code class=\"eui\">{A_ESME}" \
        not in fragment and "<html" not in fragment
    assert "1 of 2 (50%)" in _fragment(client, batch)
    critical = ServiceRequest.objects.get(batch=batch, srv__code="7.5")
    with django_capture_on_commit_callbacks(execute=True):
        services.request_sign(request=critical, signature=sign_precommand(supa_key, critical.precommand),
                              actor=supplier_a)
    batch.refresh_from_db()
    assert batch.state == "completed"
    done = _fragment(client, batch)
    assert "hx-trigger" not in done and "hx-get" not in done and "Cancel batch" not in done
    assert "2 of 2 (100%)" in done and "Cancel batch" not in _batch_page(client, batch)
    assert client_for(supplier_b).get(reverse("adapter:batch_progress", args=[batch.pk])).status_code == 404


def test_a_running_batch_with_everything_sent_offers_no_cancel(srvs, devices, supplier_a, client_for):
    batch = Batch.objects.create(organisation=supplier_a.organisation, user=supplier_a, state="running",
                                 total_rows=1, checked_rows=1, accepted_rows=1)
    services.request_submit(user=supplier_a, srv="4.1.1", device_id=A_ESME, params={})
    ServiceRequest.objects.update(batch=batch, state="sent")
    fragment = _fragment(client_for(supplier_a), batch)
    assert "Cancel batch" not in fragment and 'hx-trigger="every 2s"' in fragment
    ServiceRequest.objects.update(state="queued")
    assert "Cancel batch" in _fragment(client_for(supplier_a), batch)


def test_a_failed_batch_says_why(srvs, devices, supplier_a, client_for, django_capture_on_commit_callbacks):
    # The header passes; a row the header cannot hold fails the file when its rows are read.
    data = f"srv,device_id\n4.1.1,{A_ESME}\n4.1.1,{A_ESME},extra,cells\n".encode()
    with django_capture_on_commit_callbacks(execute=True):
        batch = services.batch_create(user=supplier_a, data=data, filename="rows.csv")
    batch.refresh_from_db()
    assert batch.state == "failed"
    page = _batch_page(client_for(supplier_a), batch)
    assert "This batch failed:" in page and "Row 3 has 4 cells but the header has 2 columns" in page
    assert "None of its rows was sent" in page and "hx-trigger" not in page.split('id="batch-live"')[1][:300]
    assert not ServiceRequest.objects.exists()  # nothing was sent
