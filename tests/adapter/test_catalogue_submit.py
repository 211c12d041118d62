"""The request catalogue's submit page: the grouped, searchable SRV picker, parameters with their
limits, checks answered next to the field (keeping what was typed, storing nothing), the device
autocomplete (scoped to the person's own devices the SRV fits, at most 20) and the device page's
"Send a service request" button."""
import re

import pytest
from django.urls import reverse

from adapter.models import ServiceRequest
from tests.adapter.conftest import make_device

pytestmark = pytest.mark.django_db

SUBMIT = reverse("adapter:request_submit")


def _page(response):
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def test_picker_groups_srvs_by_service_with_description_criticality_and_senders(srvs, supplier_a, client_for):
    page = _page(client_for(supplier_a).get(SUBMIT))
    # The select without script: optgroups by service, only what SUPA's roles (IS, GS, ES) may send.
    select = page[page.index('<select name="srv"'):page.index("</select>")]
    assert '<optgroup label="Supply and load control">' in select
    assert '<option value="7.5">7.5 Activate Auxiliary Load (critical)</option>' in select
    assert 'value="6.5"' not in select and 'value="14.1"' not in select  # ED and GT only
    # The searchable list: every SRV, with its description, criticality and who may send it.
    item = re.search(r'<li data-srv-search="7\.5 [^"]*">(.*?)</li>', page, re.S).group(1)
    assert "Applies to ESME, HCALCS" in item and "critical" in item and "IS (Import Supplier)" in item
    assert 'href="?srv=7.5"' in item
    unavailable = re.search(r'<li data-srv-search="6\.5 [^"]*" class="srv-unavailable">(.*?)</li>', page, re.S)
    assert unavailable and "ED (Electricity Distributor)" in unavailable.group(1)
    assert "href" not in unavailable.group(1) and "Not your organisation" in unavailable.group(1)
    assert page.count('class="srv-group"') == 12


def test_form_shows_limits_and_units_and_prefills_the_device(srvs, devices, supplier_a, client_for):
    device = devices["a_hcalcs"].device_id
    page = _page(client_for(supplier_a).get(SUBMIT, {"srv": "7.9", "device_id": device}))
    assert "Boost (minutes)" in page and "15 to 60 in steps of 15" in page and "Switch" in page
    assert "1 to 5" in page and f'value="{device}"' in page
    assert 'list="device-options"' in page and reverse("adapter:device_autocomplete") + "?srv=7.9" in page


def _post(client, srv, data):
    return client.post(f"{SUBMIT}?srv={srv}", data)


@pytest.mark.parametrize("device_key, expected", [
    ("b_esme", "No device 00-DB-12-34-56-78-90-B0 that your organisation may command"),  # another supplier's
    ("unknown", "No device 00-DB-00-00-00-00-00-99 that your organisation may command"),
    ("a_gsme", "does not apply to a GSME"),
    ("a_decom", "is pending"),
])
def test_a_device_check_is_a_form_error_on_the_device_field_and_nothing_is_stored(
        srvs, devices, supplier_a, client_for, device_key, expected):
    device = "00-DB-00-00-00-00-00-99" if device_key == "unknown" else devices[device_key].device_id
    response = _post(client_for(supplier_a), "7.6", {"device_id": device, "param_switch": "2"})
    page = _page(response)
    errors = response.context["form"].errors
    assert list(errors) == ["device_id"] and expected in errors["device_id"][0]
    assert f'value="{device}"' in page and 'value="2"' in page  # what was typed is kept
    assert not ServiceRequest.objects.exists()


def test_another_suppliers_device_is_answered_exactly_as_an_unknown_one(srvs, devices, supplier_a, client_for):
    client = client_for(supplier_a)
    other = _post(client, "4.1.1", {"device_id": devices["b_esme"].device_id}).context["form"].errors["device_id"]
    unknown = _post(client, "4.1.1", {"device_id": "00-DB-12-34-56-78-90-B9"}).context["form"].errors["device_id"]
    assert other[0].replace("B0", "B9") == unknown[0]
    assert not ServiceRequest.objects.exists()


def test_parameter_checks_answer_next_to_the_parameter(srvs, devices, supplier_a, client_for):
    client = client_for(supplier_a)
    device = devices["a_esme"].device_id
    bad_utrn = _post(client, "2.2", {"device_id": device, "param_utrn": "12345"})
    assert list(bad_utrn.context["form"].errors) == ["param_utrn"]
    assert "20-digit" in bad_utrn.context["form"].errors["param_utrn"][0] and 'value="12345"' in _page(bad_utrn)
    missing = _post(client, "7.6", {"device_id": device})
    assert list(missing.context["form"].errors) == ["param_switch"]
    assert not ServiceRequest.objects.exists()


def test_hostile_input_is_refused_with_nothing_stored(srvs, devices, supplier_a, client_for):
    client = client_for(supplier_a)
    long = "A" * 10_000
    response = _post(client, "3.1", {"device_id": long, "param_message": long})
    errors = response.context["form"].errors
    assert "device_id" in errors and "param_message" in errors
    assert _post(client, "2.2", {"device_id": devices["a_esme"].device_id, "param_utrn": "1" * 10_000}
                 ).context["form"].errors["param_utrn"]
    unknown = client.post(f"{SUBMIT}?srv=99.9", {"device_id": devices["a_esme"].device_id})
    assert unknown.status_code == 200 and unknown.context["form"] is None
    assert "99.9 is not a service request your organisation may send" in unknown.content.decode()
    not_mine = client.post(f"{SUBMIT}?srv=6.5", {"device_id": devices["a_esme"].device_id})  # ED only
    assert not_mine.status_code == 200 and not_mine.context["form"] is None
    assert not ServiceRequest.objects.exists()


def test_a_request_that_passes_the_checks_is_stored(srvs, devices, supplier_a, client_for,
                                                     django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(client_for(supplier_a), "4.1.1", {"device_id": devices["a_esme"].device_id})
    request = ServiceRequest.objects.get()
    assert response.status_code == 302 and response["Location"] == request.get_absolute_url()


def test_the_api_still_records_a_rejected_request(srvs, devices, supplier_a, api_for):
    # DUIS answers an unknown device with E19: the API and batches keep recording it.
    response = api_for(supplier_a).post("/api/adapter/requests/",
                                        {"srv": "4.1.1", "device_id": "00-DB-00-00-00-00-00-99"}, format="json")
    assert response.status_code == 422 and response.json()["outcome"] == "E19"
    assert ServiceRequest.objects.get().state == "rejected"


AUTOCOMPLETE = reverse("adapter:device_autocomplete")


def _options(client, **query):
    page = _page(client.get(AUTOCOMPLETE, query))
    return re.findall(r'<option value="([^"]+)">', page)


def test_autocomplete_offers_only_own_devices_the_srv_fits(srvs, devices, supplier_a, supplier_b, dcc_operator,
                                                           client_for):
    a = client_for(supplier_a)
    assert _options(a, srv="4.1.1", device_id="00db1234") == [devices["a_esme"].device_id, devices["a_gsme"].device_id]
    assert _options(a, srv="7.5", device_id="00-DB-12") == [devices["a_esme"].device_id, devices["a_hcalcs"].device_id]
    assert _options(a, srv="4.1.1", device_id="00-DB-12-34-56-78-90-B") == []  # supplier B's: never offered
    assert devices["b_esme"].device_id not in _options(a, device_id="")
    assert _options(client_for(supplier_b), srv="4.1.1", device_id="00db") == [devices["b_esme"].device_id]
    assert devices["b_esme"].device_id in _options(client_for(dcc_operator), srv="4.1.1", device_id="00-DB")


def test_autocomplete_is_bounded_and_survives_hostile_input(srvs, orgs, supplier_a, client_for):
    for n in range(25):
        make_device(f"00-DB-77-00-00-00-00-{n:02X}", orgs["SUPA"])
    client = client_for(supplier_a)
    assert len(_options(client, srv="4.1.1", device_id="00-DB-77")) == 20
    assert _options(client, srv="4.1.1", device_id="' OR 1=1 --" + "Z" * 10_000) == []
    assert len(_options(client, srv="no-such-srv" * 100, device_id="00DB77")) == 20  # no SRV: every own device


def test_autocomplete_and_submit_refuse_who_may_not_send(srvs, sdag_member, client_for):
    client = client_for(sdag_member)
    assert client.get(AUTOCOMPLETE, {"device_id": "00"}).status_code == 403
    assert client.get(SUBMIT).status_code == 403


def test_device_page_offers_send_a_service_request_to_those_who_may(srvs, devices, supplier_a, dcc_operator,
                                                                    sdag_member, client_for):
    device = devices["a_esme"].device_id
    url = reverse("adapter:device_requests", args=[device])
    link = f'href="{SUBMIT}?device_id={device}"'
    assert link in _page(client_for(supplier_a).get(url))
    assert link in _page(client_for(dcc_operator).get(url))
    response = client_for(sdag_member).get(url)
    assert response.status_code != 200 or link not in response.content.decode()


# --- the request page: live while in flight ------------------------------------------------------

def _live(client, request):
    return _page(client.get(reverse("adapter:request_live", args=[request.pk])))


def test_request_page_polls_while_in_flight_and_stops_at_a_terminal_state(srvs, devices, supplier_a, supplier_b,
                                                                         client_for):
    from adapter import services

    client = client_for(supplier_a)
    request = services.request_submit(user=supplier_a, srv="7.5", device_id=devices["a_hcalcs"].device_id,
                                      params={"switch": 2})
    assert request.state == "awaiting_signature"
    page = _page(client.get(request.get_absolute_url()))
    polling = f'hx-get="{reverse("adapter:request_live", args=[request.pk])}" hx-trigger="every 10s"'
    assert polling in page
    ServiceRequest.objects.filter(pk=request.pk).update(state="sent")
    fragment = _live(client, request)
    assert 'hx-trigger="every 2s"' in fragment and 'id="request-timeline" hx-swap-oob="true"' in fragment
    assert "<html" not in fragment
    ServiceRequest.objects.filter(pk=request.pk).update(state="responded", outcome="I0")
    done = _live(client, request)
    assert "hx-trigger" not in done and "hx-get" not in done and "Responded" in done
    assert "hx-trigger" not in _page(client.get(request.get_absolute_url())).split('id="request-live"')[1][:200]
    # another supplier's request: no fragment either
    assert client_for(supplier_b).get(reverse("adapter:request_live", args=[request.pk])).status_code == 404


def test_request_page_shows_labelled_parameters_a_device_link_and_times_without_microseconds(
        srvs, devices, supplier_a, client_for):
    import datetime as dt

    from adapter import services

    request = services.request_submit(user=supplier_a, srv="7.9", device_id=devices["a_hcalcs"].device_id,
                                      params={"switch": 2, "boost_minutes": 30})
    moment = dt.datetime(2026, 7, 1, 9, 30, 15, 123456, tzinfo=dt.UTC)
    ServiceRequest.objects.filter(pk=request.pk).update(received_at=moment, precommand_at=moment)
    page = _page(client_for(supplier_a).get(request.get_absolute_url()))
    assert "<dt>Switch</dt><dd>2</dd>" in page and "<dt>Boost (minutes)</dt><dd>30</dd>" in page
    assert "{&#x27;switch&#x27;" not in page
    assert f'href="{devices["a_hcalcs"].get_absolute_url()}"' in page
    assert "1 Jul 2026 10:30:15 BST" in page  # London time with its zone
    assert "123456" not in page and "10:30:15.1" not in page
