"""The Device model's own rules and the cross-app lookup by any id form."""
import pytest
from django.core.exceptions import ValidationError

from inventory.choices import DeviceType
from inventory.models import Device
from inventory.selectors import device_by_any_id


@pytest.fixture
def hub(orgs):
    return Device.objects.create(device_id="00-DB-12-34-56-78-90-A0", device_type=DeviceType.CHF,
                                 supplier=orgs["SUPA"], region="north")


@pytest.mark.parametrize("form", ["00-DB-12-34-56-78-90-A0", "00db1234567890a0", "00:db:12:34:56:78:90:a0",
                                  " 00 DB 12 34 56 78 90 A0 "])
def test_device_by_any_id_accepts_every_form(hub, form):
    assert device_by_any_id(form) == hub


@pytest.mark.parametrize("form", ["", None, "00-DB-12", "zz-DB-12-34-56-78-90-A0", "00-DB-12-34-56-78-90-A1"])
def test_device_by_any_id_none_when_malformed_or_unknown(hub, form):
    assert device_by_any_id(form) is None


def test_clean_stores_canonical_id(orgs):
    device = Device(device_id="00db1234567890a1", device_type=DeviceType.CHF, supplier=orgs["SUPA"], region="north")
    device.full_clean()
    assert device.device_id == "00-DB-12-34-56-78-90-A1"


def test_meter_cannot_join_a_meter(orgs, hub):
    meter = Device.objects.create(device_id="00-DB-00-00-00-00-00-01", device_type=DeviceType.ESME,
                                  supplier=orgs["SUPA"], region="north", hub=hub)
    other = Device(device_id="00-DB-00-00-00-00-00-02", device_type=DeviceType.GSME, supplier=orgs["SUPA"],
                   region="north", hub=meter)
    with pytest.raises(ValidationError) as exc:
        other.full_clean()
    assert "joins a communications hub (CHF), not the ESME" in str(exc.value)
