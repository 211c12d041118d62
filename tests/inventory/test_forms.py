"""Browser forms of the inventory: configuration items, relationships, requirements, what models
and devices rely on, and single-device registration and edit. DCC operations may; suppliers may
not; refusals name the field."""
import pytest
from auditlog.models import LogEntry
from django.urls import reverse

from inventory import services
from inventory.choices import DeviceType
from inventory.models import ConfigurationItem, Device, ItemRelationship, Requirement

from .factories import device, eui

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def items(db):
    return {key: services.item_upsert(key=key, name=key.upper(), kind="system") for key in ("dsp", "dugw", "wan")}


def _entries(obj):
    return LogEntry.objects.get_for_object(obj)


# --- Configuration items ---------------------------------------------------------------------

def test_dcc_creates_and_edits_an_item(orgs, dcc_operator, client_for):
    client = client_for(dcc_operator)
    assert client.get(reverse("inventory:ci_create")).status_code == 200
    response = client.post(reverse("inventory:ci_create"), {
        "key": "ichi", "name": "ICHI", "kind": "interface", "owner": "DCC", "version": "1.0", "status": "live",
        "description": "Hub interface", "documents": "ICHI spec v1\n\nICHI spec v1\nCHTS",
    })
    assert response.status_code == 302 and response["Location"].endswith("/inventory/items/ichi/")
    item = ConfigurationItem.objects.get(key="ichi")
    assert item.owner == orgs["DCC"] and item.documents == ["ICHI spec v1", "CHTS"]
    entry = _entries(item).get()
    assert entry.actor == dcc_operator and entry.action == LogEntry.Action.CREATE

    response = client.post(reverse("inventory:ci_edit", args=["ichi"]), {
        "key": "changed", "name": "ICHI (CHTS)", "kind": "interface", "owner": "", "version": "1.1",
        "status": "retired", "description": "", "documents": "",
    })
    assert response.status_code == 302
    item.refresh_from_db()
    # The key is not editable: a posted key is ignored.
    assert (item.key, item.name, item.owner, item.status, item.documents) == ("ichi", "ICHI (CHTS)", None,
                                                                            "retired", [])
    assert _entries(item).filter(action=LogEntry.Action.UPDATE, actor=dcc_operator).exists()


def test_item_create_refuses_a_duplicate_key_and_bad_fields(orgs, dcc_operator, client_for, items):
    client = client_for(dcc_operator)
    response = client.post(reverse("inventory:ci_create"), {"key": "dsp", "name": "Another", "kind": "system",
                                                             "status": "live"})
    assert response.status_code == 400
    assert response.context["form"].errors["key"] == ["An item with key 'dsp' already exists."]
    assert ConfigurationItem.objects.filter(key="dsp").count() == 1
    response = client.post(reverse("inventory:ci_create"), {"key": "has space", "name": "", "kind": "nope",
                                                             "status": "live"})
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"key", "name", "kind"}


def test_supplier_cannot_create_or_edit_items(orgs, supplier_a, client_for, items):
    client = client_for(supplier_a)
    assert client.get(reverse("inventory:ci_create")).status_code == 403
    assert client.post(reverse("inventory:ci_create"), {"key": "x", "name": "X", "kind": "system",
                                                         "status": "live"}).status_code == 403
    assert client.post(reverse("inventory:ci_edit", args=["dsp"]), {"name": "Hacked", "kind": "system",
                                                                    "status": "live"}).status_code == 404
    assert not ConfigurationItem.objects.filter(key="x").exists()
    assert ConfigurationItem.objects.get(key="dsp").name == "DSP"
    body = client.get(reverse("inventory:ci_detail", args=["dsp"])).content.decode()
    assert "Add a link" not in body and "Edit item" not in body


# --- Relationships -----------------------------------------------------------------------------

def test_relationship_add_and_remove_with_htmx(orgs, dcc_operator, client_for, items):
    client = client_for(dcc_operator)
    url = reverse("inventory:ci_relationship_add", args=["dugw"])
    response = client.post(url, {"kind": "depends_on", "target": "dsp", "note": "all traffic"}, **HTMX)
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="ci-relationships"' in body and "<html" not in body and "DSP" in body and "all traffic" in body
    link = ItemRelationship.objects.get(source=items["dugw"], target=items["dsp"])
    assert _entries(link).get().actor == dcc_operator

    link_pk = link.pk
    response = client.post(reverse("inventory:relationship_delete", args=[link_pk]), **HTMX)
    assert response.status_code == 200 and "<li>None.</li>" in response.content.decode()
    assert not ItemRelationship.objects.exists()
    assert LogEntry.objects.filter(action=LogEntry.Action.DELETE, actor=dcc_operator,
                                   object_pk=str(link_pk)).exists()


@pytest.mark.parametrize("htmx", [True, False])
def test_relationship_refusals_name_the_field(orgs, dcc_operator, client_for, items, htmx):
    client = client_for(dcc_operator)
    url = reverse("inventory:ci_relationship_add", args=["dugw"])
    services.relationship_create(source=items["dugw"], kind="depends_on", target=items["dsp"])
    headers = HTMX if htmx else {}
    cases = [
        ({"kind": "depends_on", "target": "dugw"}, "DUGW cannot be related to itself."),
        ({"kind": "depends_on", "target": "dsp"}, "DUGW already depends on DSP."),
        ({"kind": "depends_on", "target": "no-such-item"}, "Choose an item of the catalogue."),
    ]
    for data, message in cases:
        response = client.post(url, data, follow=not htmx, **headers)
        body = response.content.decode()
        if htmx:
            assert response.status_code == 422
            assert response.context["relationship_form"].errors["target"] == [message]
        else:
            assert f"Target: {message}" in body
    assert ItemRelationship.objects.count() == 1


def test_supplier_cannot_add_or_remove_relationships(orgs, supplier_a, client_for, items):
    link = services.relationship_create(source=items["dugw"], kind="depends_on", target=items["dsp"])
    client = client_for(supplier_a)
    assert client.post(reverse("inventory:ci_relationship_add", args=["wan"]),
                       {"kind": "depends_on", "target": "dsp"}).status_code == 404
    assert client.post(reverse("inventory:relationship_delete", args=[link.pk])).status_code == 404
    assert list(ItemRelationship.objects.all()) == [link]


# --- Requirements ------------------------------------------------------------------------------

def test_requirement_add_and_edit(orgs, dcc_operator, client_for, items):
    client = client_for(dcc_operator)
    url = reverse("inventory:ci_requirement_add", args=["dsp"])
    response = client.post(url, {"reference": "DSP-GEN-01", "category": "general", "text": "Be available",
                                 "status": "draft", "document": "DSP spec 2.1"}, **HTMX)
    assert response.status_code == 200 and "DSP-GEN-01" in response.content.decode()
    requirement = Requirement.objects.get(item=items["dsp"])
    assert (requirement.status, requirement.document) == ("draft", "DSP spec 2.1")

    response = client.post(url, {"reference": "DSP-GEN-01", "category": "general", "text": "Again",
                                 "status": "draft"}, **HTMX)
    assert response.status_code == 422
    assert response.context["requirement_form"].errors["reference"] == ["DSP already has a requirement DSP-GEN-01."]
    response = client.post(url, {"reference": "DSP-GEN-02", "category": "bogus", "text": "", "status": "x"})
    assert response.status_code == 302
    assert Requirement.objects.count() == 1

    edit = reverse("inventory:requirement_edit", args=[requirement.pk])
    assert client.get(edit).status_code == 200
    response = client.post(edit, {"reference": "IGNORED", "category": "data", "text": "Be available 99.5%",
                                  "status": "agreed", "document": "DSP spec 2.2"})
    assert response.status_code == 302
    requirement.refresh_from_db()
    assert (requirement.reference, requirement.category, requirement.status, requirement.document) == (
        "DSP-GEN-01", "data", "agreed", "DSP spec 2.2")
    assert _entries(requirement).filter(action=LogEntry.Action.UPDATE, actor=dcc_operator).exists()
    response = client.post(edit, {"category": "data", "text": "", "status": "nope"})
    assert response.status_code == 400 and set(response.context["form"].errors) == {"text", "status"}


def test_supplier_cannot_add_or_edit_requirements(orgs, supplier_a, client_for, items):
    requirement = services.requirement_upsert(item=items["dsp"], reference="R1", category="general", text="t")
    client = client_for(supplier_a)
    assert client.post(reverse("inventory:ci_requirement_add", args=["dsp"]),
                       {"reference": "R2", "category": "general", "text": "t", "status": "draft"}).status_code == 404
    assert client.post(reverse("inventory:requirement_edit", args=[requirement.pk]),
                       {"category": "data", "text": "x", "status": "draft"}).status_code == 404
    assert Requirement.objects.get().text == "t"


# --- What a model or device relies on ----------------------------------------------------------

def test_link_model_and_device_to_items(orgs, dcc_operator, supplier_a, client_for, items):
    device_model = services.device_model_upsert(manufacturer_id="1234", model_id="E1", device_type="ESME")
    meter = device(orgs["SUPA"])
    client = client_for(dcc_operator)
    url = reverse("inventory:model_items", args=[device_model.pk])
    assert client.get(url).status_code == 200
    assert client.post(url, {"items": ["dsp", "wan"]}).status_code == 302
    assert set(device_model.items.values_list("key", flat=True)) == {"dsp", "wan"}
    url = reverse("inventory:device_items", args=[meter.device_id.replace("-", "").lower()])
    assert client.post(url, {"items": ["dugw"]}).status_code == 302
    assert list(meter.items.values_list("key", flat=True)) == ["dugw"]
    m2m = [e.changes_dict["items"] for e in _entries(meter).filter(actor=dcc_operator)]
    assert m2m == [{"type": "m2m", "operation": "add", "objects": ["DUGW"]}]
    # The audit trail shows the link (the m2m field is called "items").
    page = client.get(reverse("inventory:device_detail", args=[meter.device_id])).content.decode()
    assert "DUGW" in page and "<td>items</td>" in page
    assert "<td>items</td>" in client.get(reverse("inventory:model_detail", args=[device_model.pk])).content.decode()
    body = client.get(reverse("inventory:ci_detail", args=["dsp"])).content.decode()
    assert str(device_model) in body
    # An unknown item is refused and nothing changes.
    response = client.post(url, {"items": ["dugw", "nope"]})
    assert response.status_code == 200 and "nope" in str(response.context["form"].errors["items"])
    assert list(meter.items.values_list("key", flat=True)) == ["dugw"]

    supplier = client_for(supplier_a)
    assert supplier.post(reverse("inventory:model_items", args=[device_model.pk]), {"items": []}).status_code == 404
    # Even on its own device, a supplier does not edit DCC's catalogue links.
    assert supplier.post(url, {"items": []}).status_code == 403
    assert meter.items.count() == 1 and device_model.items.count() == 2


# --- Devices -----------------------------------------------------------------------------------

def _device_data(**extra):
    data = {"device_id": "00db1234567890a0", "device_type": "ESME", "supplier": "SUPA", "region": "north",
            "status": "pending", "mpxn": "2200012345671", "hub_id": "", "model": "", "firmware_version": "",
            "installed_at": "", "commissioned_at": ""}
    data.update(extra)
    return data


def test_dcc_registers_a_device_with_any_id_form(orgs, dcc_operator, client_for):
    hub = device(orgs["SUPA"], DeviceType.CHF)
    client = client_for(dcc_operator)
    assert client.get(reverse("inventory:device_create")).status_code == 200
    response = client.post(reverse("inventory:device_create"),
                           _device_data(hub_id=hub.device_id.replace("-", ":").lower()))
    assert response.status_code == 302 and response["Location"].endswith("/devices/00-DB-12-34-56-78-90-A0/")
    meter = Device.objects.get(device_id="00-DB-12-34-56-78-90-A0")
    assert meter.hub == hub and meter.supplier == orgs["SUPA"] and meter.mpxn == "2200012345671"
    assert meter.status_history.get().actor == dcc_operator
    assert _entries(meter).get(action=LogEntry.Action.CREATE).actor == dcc_operator


@pytest.mark.parametrize(("data", "field", "text"), [
    ({"device_id": "00db12"}, "device_id", "00db12"),
    ({"mpxn": "2200012345672"}, "mpxn", "wrong check digit: 2 given, 1 expected"),
    ({"mpxn": "12345"}, "mpxn", "is not an MPAN core"),
    ({"hub_id": "00-DB-FF-FF-FF-FF-FF-FF"}, "hub_id", "unknown hub 00-DB-FF-FF-FF-FF-FF-FF"),
    ({"hub_id": "not-a-hub"}, "hub_id", "not-a-hub"),
    ({"device_type": "CHF", "mpxn": ""}, "hub_id", "not joined to another device"),
    ({"supplier": "DCC"}, "supplier", "Select a valid choice"),
])
def test_device_create_refusals_name_the_field(orgs, dcc_operator, client_for, data, field, text):
    other_hub = device(orgs["SUPA"], DeviceType.CHF)
    if data.get("device_type") == "CHF":
        data = {**data, "hub_id": other_hub.device_id}
    response = client_for(dcc_operator).post(reverse("inventory:device_create"), _device_data(**data))
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert field in errors and text in " ".join(errors[field]), errors
    assert Device.objects.count() == 1


def test_device_create_refuses_duplicate_id_wrong_model_and_firmware(orgs, dcc_operator, client_for):
    gas_model = services.device_model_upsert(manufacturer_id="1", model_id="G1", device_type="GSME")
    meter_model = services.device_model_upsert(manufacturer_id="1", model_id="E1", device_type="ESME",
                                               firmware_versions=["1.0"])
    existing = device(orgs["SUPA"], device_id="00-DB-12-34-56-78-90-A0")
    client = client_for(dcc_operator)
    response = client.post(reverse("inventory:device_create"), _device_data())
    assert response.status_code == 400 and "device_id" in response.context["form"].errors
    response = client.post(reverse("inventory:device_create"), _device_data(device_id=eui(), model=gas_model.pk))
    assert "is a GSME model" in " ".join(response.context["form"].errors["model"])
    response = client.post(reverse("inventory:device_create"),
                           _device_data(device_id=eui(), model=meter_model.pk, firmware_version="9.9"))
    assert "not an approved firmware" in " ".join(response.context["form"].errors["firmware_version"])
    assert list(Device.objects.all()) == [existing]


def test_dcc_edits_a_device(orgs, dcc_operator, client_for):
    hub = device(orgs["SUPA"], DeviceType.CHF)
    wrong = device(orgs["SUPA"], DeviceType.IHD)
    meter = device(orgs["SUPA"], mpxn="2200012345671")
    client = client_for(dcc_operator)
    url = reverse("inventory:device_edit", args=[meter.device_id])
    assert client.get(url).status_code == 200
    data = _device_data(device_id="00-DB-00-00-00-00-00-99", device_type="GSME", supplier="SUPB",
                        status="commissioned", hub_id=hub.device_id.replace("-", ""), firmware_version="2.0",
                        installed_at="2024-05-01T10:00")
    assert client.post(url, data).status_code == 302
    meter.refresh_from_db()
    # Id, type, supplier and status are not edited here.
    assert (meter.device_type, meter.supplier, meter.status) == ("ESME", orgs["SUPA"], "pending")
    assert meter.hub == hub and meter.firmware_version == "2.0" and meter.installed_at.year == 2024
    assert _entries(meter).filter(action=LogEntry.Action.UPDATE, actor=dcc_operator).exists()

    response = client.post(url, _device_data(hub_id=wrong.device_id, mpxn="2200012345672"))
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert "check digit" in " ".join(errors["mpxn"])
    meter.refresh_from_db()
    assert meter.hub == hub and meter.mpxn == "2200012345671"
    response = client.post(url, _device_data(hub_id=wrong.device_id))
    assert "joins a communications hub" in " ".join(response.context["form"].errors["hub_id"])
    meter.refresh_from_db()
    assert meter.hub == hub


def test_suppliers_cannot_register_or_edit_devices_in_the_browser(orgs, supplier_a, client_for):
    mine, theirs = device(orgs["SUPA"]), device(orgs["SUPB"])
    client = client_for(supplier_a)
    assert client.get(reverse("inventory:device_create")).status_code == 403
    assert client.post(reverse("inventory:device_create"), _device_data()).status_code == 403
    assert client.post(reverse("inventory:device_edit", args=[theirs.device_id]),
                       _device_data(firmware_version="x")).status_code == 404
    assert client.post(reverse("inventory:device_edit", args=[mine.device_id]),
                       _device_data(firmware_version="x")).status_code == 403
    assert Device.objects.count() == 2 and not Device.objects.filter(firmware_version="x").exists()


# --- The device list's quick form renderer -----------------------------------------------------

def _both_ways(form_class, *args, **kwargs):
    """(QuickRenderer's as_p, Django's own as_p) of the same form."""
    from django.forms.renderers import get_default_renderer

    quick = form_class(*args, **kwargs).as_p()
    django = form_class(*args, renderer=get_default_renderer(), **kwargs).as_p()
    return quick, django


@pytest.mark.parametrize("data", [None, {}, {"status": "commissioned", "region": "north", "supplier": "SUPA"},
                                  {"q": '"><script>', "firmware_version": "1.<b>", "status": "bogus"}])
def test_quick_renderer_draws_the_filters_exactly_as_django_does(orgs, rf, supplier_a, dcc_operator, data):
    from inventory.filtersets import DeviceFilterSet

    services.device_model_upsert(manufacturer_id="1234", model_id="E470", device_type="ESME")
    services.device_model_upsert(manufacturer_id="ABCD", manufacturer_name="Acme & Sons", model_id="G<1>",
                                 device_type="GSME")
    for user in (dcc_operator, supplier_a):
        request = rf.get("/inventory/devices/", data or {})
        request.user = user
        form_class = DeviceFilterSet(data, request=request).get_form_class()
        quick, django = _both_ways(form_class, data, prefix=None)
        assert quick == django
        assert "Acme &amp; Sons G&lt;1&gt;" in quick and "1234 E470" in quick
        assert ("SUPB" in quick) == (user is dcc_operator)  # a supplier filters by itself only


def test_quick_renderer_draws_the_bulk_form_exactly_as_django_does(db):
    from inventory.forms import StatusForm

    for data in (None, {"status": "withdrawn", "reason": "<b>"}, {"status": "nope"}):
        quick, django = _both_ways(StatusForm, data)
        assert quick == django


def test_supplier_filter_choices_do_not_iterate_model_instances(orgs, rf, dcc_operator, supplier_a,
                                                                django_assert_num_queries):
    from inventory.filtersets import DeviceFilterSet

    request = rf.get("/inventory/devices/")
    request.user = dcc_operator
    form = DeviceFilterSet({}, request=request).form
    with django_assert_num_queries(1):
        choices = [choice for choice in form.fields["supplier"].choices]
    assert choices[0] == ("", "---------") and ("SUPA", orgs["SUPA"].name) in choices
    # a service user's options are its own scoped query, never the DCC's list
    request.user = supplier_a
    with django_assert_num_queries(1):
        theirs = [value for value, _label in DeviceFilterSet({}, request=request).form.fields["supplier"].choices]
    assert theirs == ["", "SUPA"]


def test_filter_choices_show_new_suppliers_and_models_at_once(orgs, rf, dcc_operator):
    """No minute-long staleness: the next page's <select> has a supplier or model written just now."""
    from inventory import services as inventory_services
    from inventory.filtersets import DeviceFilterSet
    from portal import services as portal_services
    from portal.choices import OrganisationKind

    request = rf.get("/inventory/devices/")
    request.user = dcc_operator

    def options(name):
        return [value for value, _label in DeviceFilterSet({}, request=request).form.fields[name].choices]

    assert "NEWCO" not in options("supplier")
    models_before = options("model")
    portal_services.organisation_upsert(code="NEWCO", name="New Energy Co", kind=OrganisationKind.SERVICE_USER)
    model = inventory_services.device_model_upsert(manufacturer_id="ABCD", model_id="Z1", device_type="ESME")
    assert "NEWCO" in options("supplier")
    assert model.pk in options("model") and model.pk not in models_before
    labels = dict(DeviceFilterSet({}, request=request).form.fields["model"].choices)
    assert labels[model.pk].endswith("Z1")
    # and the new supplier filters at once
    assert DeviceFilterSet({"supplier": "NEWCO"}, request=request).is_valid()


def test_quick_renderer_matches_django_with_hidden_fields_help_text_and_classes(db):
    from django import forms

    from inventory.forms import QuickForm

    class Sample(QuickForm):
        required_css_class, error_css_class = "req", "err"
        token = forms.CharField(widget=forms.HiddenInput)
        name = forms.CharField(max_length=5, help_text="At most <em>five</em>", label="Name?")
        count = forms.IntegerField(required=False, label="")
        kind = forms.ChoiceField(choices=[("a", "A & a"), ("Group", [("b", "B"), ("c", "C")])])

    for data in (None, {"token": "t", "name": "x", "count": "3", "kind": "c"}, {"name": "toolong", "kind": "z"}):
        quick, django = _both_ways(Sample, data)
        assert quick == django
