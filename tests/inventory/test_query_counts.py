"""Query counts that must not grow with rows: the devices API list, and the device page with
10 or 1,000 HAN neighbours and status history rows (the page shows a bounded number of each)."""
import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from inventory import services
from inventory.choices import DeviceType
from inventory.models import Device, DeviceStatusChange

from .factories import device, eui


def _count(client, url):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def _joined(supplier, hub, count, start, model):
    Device.objects.bulk_create(
        Device(device_id=eui(start + i), device_type=DeviceType.ESME, supplier=supplier, region="north", hub=hub,
               model=model, mpxn="2200012345671")
        for i in range(count))


def _history(meter, count, start):
    at = timezone.now()
    DeviceStatusChange.objects.bulk_create(
        DeviceStatusChange(device=meter, from_status="pending", to_status="whitelisted", reason=f"r{start + i}",
                           changed_at=at - dt.timedelta(minutes=start + i))
        for i in range(count))


@pytest.mark.parametrize("who", ["dcc_operator", "supplier_a"])
def test_device_api_list_query_count_does_not_grow(orgs, request, api_for, who):
    client = api_for(request.getfixturevalue(who))
    model = services.device_model_upsert(manufacturer_id="1234", model_id="E470", device_type="ESME")
    hub = device(orgs["SUPA"], DeviceType.CHF)
    _joined(orgs["SUPA"], hub, 10, 0x300000, model)
    url = "/api/devices/"
    # The token's last use is written at most once a minute: the first call may carry that write.
    _count(client, url)
    small = _count(client, url)
    _joined(orgs["SUPA"], hub, 990, 0x310000, model)
    assert client.get(url).json()["results"]
    assert _count(client, url) == small
    assert _count(client, url + "?status=pending&region=north") == small


@pytest.mark.parametrize("who", ["dcc_operator", "supplier_a"])
def test_device_page_query_count_does_not_grow(orgs, request, client_for, who):
    client = client_for(request.getfixturevalue(who))
    model = services.device_model_upsert(manufacturer_id="1234", model_id="E470", device_type="ESME")
    hub = device(orgs["SUPA"], DeviceType.CHF)
    meter = device(orgs["SUPA"], hub=hub, mpxn="2200012345671")
    _joined(orgs["SUPA"], hub, 10, 0x400000, model)
    _history(meter, 10, 0)
    # The hub page lists its joined devices, the meter page its siblings on the hub; both show history.
    urls = [reverse("inventory:device_detail", args=[d.device_id]) for d in (hub, meter)]
    small = [_count(client, url) for url in urls]
    _joined(orgs["SUPA"], hub, 990, 0x410000, model)
    _history(hub, 1000, 0)
    _history(meter, 990, 100)
    assert hub.joined_devices.count() == 1001 and meter.status_history.count() == 1001
    assert [_count(client, url) for url in urls] == small
