"""Demo data and the generator: a realistic, valid population, idempotent, quick."""
import io

from django.core.management import call_command
from django.db.models import F

from inventory import demo
from inventory.choices import DeviceType
from inventory.models import ConfigurationItem, Device, DeviceStatusChange, Requirement
from inventory.selectors import impact_of
from inventory.validators import normalise_mpan
from portal import demo as portal_demo


def test_demo_loads_seed_items_and_a_valid_population(db):
    portal_demo.load()
    demo.load()
    demo.load()  # idempotent
    assert Device.objects.count() >= demo.DEMO_DEVICES
    assert Device.objects.count() < demo.DEMO_DEVICES + 10
    assert set(Device.objects.values_list("supplier__code", flat=True)) == {"SUPA", "SUPB", "SUPC"}
    assert set(Device.objects.values_list("region", flat=True)) == {"north", "central", "south"}
    assert DeviceStatusChange.objects.count() == Device.objects.count()
    for device in Device.objects.filter(device_type=DeviceType.ESME)[:200]:
        assert normalise_mpan(device.mpxn) == device.mpxn
        assert device.hub.device_type == DeviceType.CHF and device.hub.region == device.region
    for device in Device.objects.select_related("hub", "model")[:500]:
        device.full_clean()  # every generated row passes the model's own rules
    assert Requirement.objects.filter(item__key="ichi").values("category").distinct().count() == 4
    affected = {i.key for i, _ in impact_of(ConfigurationItem.objects.get(key="csp-north"))}
    assert {"smwan", "communications-hub", "han", "wan-gateway", "dsp"} <= affected


def test_generate_command_adds_devices(db):
    portal_demo.load()
    out = io.StringIO()
    call_command("inventory_generate", "--count", "500", "--supplier", "SUPA", "SUPB", stdout=out)
    call_command("inventory_generate", "--count", "100", stdout=out)
    assert Device.objects.count() >= 600
    assert "devices written" in out.getvalue()
    assert Device.objects.values("device_id").distinct().count() == Device.objects.count()
    # Each device's first history row records the status and time it was generated with.
    assert DeviceStatusChange.objects.count() == Device.objects.count()
    assert not DeviceStatusChange.objects.exclude(to_status=F("device__status")).exists()
    assert not DeviceStatusChange.objects.exclude(changed_at=F("device__status_changed_at")).exists()
    for device in Device.objects.select_related("hub", "model").order_by("?")[:200]:
        device.full_clean()
    # ids were reserved from the sequence: an ordinary insert afterwards does not collide
    from inventory import services
    from portal.models import Organisation

    made = services.device_create(device_id="00-DB-00-00-00-00-00-09", device_type="CHF",
                                  supplier=Organisation.objects.get(code="SUPA"), region="north")
    assert made.pk > Device.objects.exclude(pk=made.pk).order_by("-pk").first().pk
