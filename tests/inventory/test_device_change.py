"""A device's status, hub and switches change behind its Edit page and a confirmation: the device
page itself has no change form, the Edit page's forms start on no choice, a form leads to a page
saying what will change (nothing changed yet), and its Confirm button makes the change."""
import re

from django.urls import reverse

from inventory import services
from inventory.choices import DeviceType, SMIStatus
from inventory.models import Device

from .factories import device


def _edit(meter):
    return reverse("inventory:device_change", args=[meter.device_id])


def test_the_device_page_offers_edit_and_no_change_form(orgs, supplier_a, supplier_b, client_for):
    meter = device(orgs["SUPA"])
    body = client_for(supplier_a).get(meter.get_absolute_url()).content.decode()
    assert f'href="{_edit(meter)}">Edit status, hub and switches</a>' in body
    for name in ("device_status", "device_hub", "device_switch"):
        assert reverse(f"inventory:{name}", args=[meter.device_id]) not in body
    assert "<select" not in body
    # another supplier neither sees the device nor its Edit page
    assert client_for(supplier_b).get(_edit(meter)).status_code == 404


def test_the_edit_page_preselects_nothing(orgs, supplier_a, client_for):
    meter = device(orgs["SUPA"], status=SMIStatus.INSTALLED_NOT_COMMISSIONED)
    page = client_for(supplier_a).get(_edit(meter))
    assert page.status_code == 200
    body = page.content.decode()
    for select in re.findall(r"<select.*?</select>", body, re.S):
        options = re.findall(r"<option[^>]*>", select)
        assert options[0] == '<option value="" selected>', select  # "Choose…" first, and chosen
        assert not any("selected" in option for option in options[1:]), select
    assert body.count("<select") == 2  # the status and the switch state
    status_select = re.search(r'<select name="status-status".*?</select>', body, re.S).group(0)
    offered = re.findall(r'<option value="([a-z_]+)"', status_select)
    assert offered and set(offered) <= {s.value for s in SMIStatus}
    assert "installed_not_commissioned" not in offered  # only where it may go
    ids = re.findall(r'\bid="([^"]+)"', body)
    assert len(ids) == len(set(ids)), "element ids repeat on the page"


def test_a_status_change_is_confirmed_before_it_is_made(orgs, supplier_a, client_for):
    meter = device(orgs["SUPA"])
    client = client_for(supplier_a)
    review = client.post(_edit(meter), {"change": "status", "status-status": "whitelisted",
                                        "status-reason": "on the device log"})
    assert review.status_code == 200
    body = review.content.decode()
    assert "From Pending to Whitelisted." in body and "Reason: on the device log" in body
    assert f'action="{reverse("inventory:device_status", args=[meter.device_id])}"' in body
    assert '<input type="hidden" name="status" value="whitelisted">' in body
    assert f'href="{_edit(meter)}">Cancel</a>' in body
    meter.refresh_from_db()
    assert meter.status == SMIStatus.PENDING  # nothing changed yet
    done = client.post(reverse("inventory:device_status", args=[meter.device_id]),
                       {"status": "whitelisted", "reason": "on the device log"})
    assert done.status_code == 302
    meter.refresh_from_db()
    assert meter.status == SMIStatus.WHITELISTED


def test_no_status_chosen_or_one_not_allowed_is_answered_on_the_edit_page(orgs, supplier_a, client_for):
    meter = device(orgs["SUPA"])
    client = client_for(supplier_a)
    empty = client.post(_edit(meter), {"change": "status", "status-status": "", "status-reason": "x"})
    assert empty.status_code == 400 and "This field is required." in empty.content.decode()
    refused = client.post(_edit(meter), {"change": "status", "status-status": "decommissioned", "status-reason": "x"})
    assert refused.status_code == 400
    assert "From Pending the device may go to:" in refused.content.decode()
    assert client.post(_edit(meter), {"change": "nothing"}).status_code == 404
    meter.refresh_from_db()
    assert meter.status == SMIStatus.PENDING


def test_a_hub_change_is_confirmed_before_it_is_made(orgs, supplier_a, client_for):
    hub = device(orgs["SUPA"], DeviceType.CHF)
    meter = device(orgs["SUPA"])
    client = client_for(supplier_a)
    unknown = client.post(_edit(meter), {"change": "hub", "hub-hub_id": "00-DB-FF-FF-FF-FF-FF-FF"})
    assert unknown.status_code == 400 and 'role="alert"' in unknown.content.decode()
    review = client.post(_edit(meter), {"change": "hub", "hub-hub_id": hub.device_id.lower()})
    assert review.status_code == 200
    body = review.content.decode()
    assert "Now on no hub." in body and f"Join it to hub {hub.device_id}." in body
    assert Device.objects.get(pk=meter.pk).hub_id is None
    client.post(reverse("inventory:device_hub", args=[meter.device_id]), {"hub_id": hub.device_id})
    assert Device.objects.get(pk=meter.pk).hub_id == hub.pk
    leave = client.post(_edit(meter), {"change": "hub", "hub-hub_id": ""}).content.decode()
    assert f"Now joined to {hub.device_id}." in leave and "Leave its hub" in leave


def test_a_switch_change_is_confirmed_before_it_is_made(orgs, supplier_a, client_for):
    meter = device(orgs["SUPA"])
    services.switch_set(device=meter, number=1, description="Storage heater", state="open", actor=None)
    client = client_for(supplier_a)
    assert client.post(_edit(meter), {"change": "switch", "switch-number": "1", "switch-state": ""}).status_code == 400
    review = client.post(_edit(meter), {"change": "switch", "switch-number": "1", "switch-description": "",
                                        "switch-state": "closed"})
    assert review.status_code == 200
    body = review.content.decode()
    assert "Switch 1 (Storage heater): from open to closed." in body
    assert '<input type="hidden" name="description" value="Storage heater">' in body  # kept, not cleared
    assert meter.switches.get(number=1).state == "open"
    client.post(reverse("inventory:device_switch", args=[meter.device_id]),
                {"number": "1", "description": "Storage heater", "state": "closed"})
    switch = meter.switches.get(number=1)
    assert (switch.state, switch.description) == ("closed", "Storage heater")
