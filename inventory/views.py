"""Pages of the inventory app: devices, device models and configuration items.
Every queryset passes portal.scoping.scope; views parse, call a service and render."""
from typing import NamedTuple
from urllib.parse import quote

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import RFC3986_SUBDELIMS

from inventory import importers, selectors, services
from inventory.choices import BADGES, SMIStatus, SwitchState, allowed_transitions
from inventory.filtersets import DeviceFilterSet, DeviceModelFilterSet, ItemFilterSet
from inventory.forms import (
    CHOOSE,
    DeviceForm,
    HubForm,
    ImportForm,
    ItemForm,
    ItemLinksForm,
    RelationshipForm,
    RequirementForm,
    StatusForm,
    SwitchForm,
    WithdrawForm,
)
from inventory.models import ConfigurationItem, Device, DeviceModel, ItemRelationship, Requirement
from inventory.tables import DeviceModelTable, DeviceTable, ItemTable
from portal.access import may
from portal.choices import BADGES as PORTAL_BADGES
from portal.choices import Region
from portal.dbrouter import reading_from_replica
from portal.errors import error_text, errors_to_form
from portal.generic import POST, ObjectEditView, ObjectListView, view_of
from portal.ids import normalise_eui64
from portal.imports import import_page
from portal.lists.tables import bulk_ids, selected
from portal.pagination import keyset_page
from portal.scoping import CHANGE, VIEW, get_scoped_or_404, scope

# Exports stream the filtered list; beyond this many rows use the API (keyset pages) instead.
EXPORT_LIMIT = 100_000


def _device_by_param(request, device_id, action=VIEW):
    """The device named in the URL in any EUI-64 form; anything else, or another supplier's, is 404."""
    try:
        canonical = normalise_eui64(device_id)
    except ValidationError:
        raise Http404("No such device") from None
    return get_scoped_or_404(request.user, Device.objects.for_list(), action, device_id=canonical)


DEVICE_EXPORT_COLUMNS = ["device_id", "device_type", "manufacturer", "model", "firmware_version", "status",
                         "supplier", "mpxn", "region", "hub_id", "installed_at", "commissioned_at"]


def _device_rows(queryset, user):
    # hub_seen: the hub's id only where the person may see the hub (inventory.selectors).
    values = selectors.with_hub_seen_by(queryset, user).values_list(
        "device_id", "device_type", "model__manufacturer_id", "model__model_id", "firmware_version", "status",
        "supplier__code", "mpxn", "region", "hub_seen", "installed_at", "commissioned_at",
    )[:EXPORT_LIMIT]
    for row in values.iterator(chunk_size=2000):
        yield ["" if v is None else v for v in row]


class DeviceRow(NamedTuple):
    """One row of the device list, its cells computed in Python (a {% url %}, a badge inclusion tag
    and three related objects per row were most of the list's rendering time)."""

    pk: int
    device_id: str
    url: str
    device_type: str
    status: str
    status_label: str
    status_colour: str
    supplier: str
    region: str
    model: str
    firmware_version: str
    mpxn: str
    hub: str
    hub_hidden: bool  # joined to a hub whose id the person may not see (another supplier's)


_LIST_COLUMNS = ("id", "device_id", "device_type", "status", "supplier__code", "region", "model__model_id",
                 "firmware_version", "mpxn", "hub_id", "hub_seen")
_STATUS_LABELS = dict(SMIStatus.choices)
_REGION_LABELS = dict(Region.choices)


def _detail_url_maker():
    """device_id -> its page's URL, with one reverse() per list page rather than one per row
    (reverse quotes the id the same way)."""
    marker = "DEVICE-ID"
    head, tail = reverse("inventory:device_detail", args=[marker]).split(marker)
    return lambda device_id: f"{head}{quote(device_id, safe=RFC3986_SUBDELIMS + '/~:@')}{tail}"


def _list_row(row, detail_url):
    status = row.status
    return DeviceRow(
        pk=row.id, device_id=row.device_id, url=detail_url(row.device_id),
        device_type=row.device_type, status=status, status_label=_STATUS_LABELS.get(status, status),
        status_colour=BADGES.get(status) or PORTAL_BADGES.get(status, "grey"), supplier=row.supplier__code,
        region=_REGION_LABELS.get(row.region, row.region), model=row.model__model_id or "",
        firmware_version=row.firmware_version, mpxn=row.mpxn, hub=row.hub_seen or "",
        hub_hidden=row.hub_id is not None and not row.hub_seen,
    )


class DeviceList(ObjectListView):
    """The Smart Metering Inventory: keyset pages (``?after=<id>``, no OFFSET), newest first or by
    device id, a count that is the planner's estimate on millions of rows, rows read as named
    values (no model instances) and drawn by inventory.tables.DeviceTable; the selected rows'
    status changes in one go (device_bulk_status)."""

    model = Device
    capability = "inventory.device.view_list"
    filterset_class = DeviceFilterSet
    template_name = "inventory/device_list.html"
    pagination = "keyset"
    keyset_param = "after"
    context_object_name = "devices"
    table_class = DeviceTable
    count_estimated = True
    bulk_template = "inventory/partials/device_bulk.html"
    bulk_capability = "inventory.device.change"
    export_name = "devices"
    export_columns = tuple(DEVICE_EXPORT_COLUMNS)

    def get_queryset(self):
        return scope(self.request.user, Device.objects.for_list())

    def page_queryset(self, queryset):
        return selectors.with_hub_seen_by(queryset, self.request.user).values_list(*_LIST_COLUMNS, named=True)

    def page_rows(self, rows):
        detail_url = _detail_url_maker()
        return [_list_row(row, detail_url) for row in rows]

    def export(self, queryset):
        with reading_from_replica():  # an export is reading work: the list itself reads the primary
            return super().export(queryset)

    def export_rows(self, queryset):
        return _device_rows(queryset, self.request.user)

    def bulk_context(self):
        return {"form": StatusForm(auto_id="selected_%s"), "action": reverse("inventory:device_bulk_status")}

    def extra_context(self, filterset):
        query = self.querystring_without("after")
        return {
            "query": query, "paged": bool(self.request.GET.get("after")),
            "next_after": self.next_key,
            # its own ids: the filter form above has a "status" field too (one id, two labels before)
            "bulk_form": StatusForm(auto_id="bulk_%s"), "can_import": self.may("inventory.device.add"),
        }


device_list = DeviceList.as_view()


@view_of(Device, "inventory.device.change", methods=POST)
def device_bulk_status(request):
    """Change the status of every device the list's filters select (the filters travel in the
    query string so the user changes exactly what they saw)."""
    devices = scope(request.user, Device.objects.all(), CHANGE)
    filterset = DeviceFilterSet(request.GET, queryset=devices, request=request)
    form = StatusForm(request.POST)
    back = reverse("inventory:device_list") + ("?" + request.GET.urlencode() if request.GET else "")
    if "pk" in request.POST:
        return _bulk_status_of_selected(request, form, back)
    if not form.is_valid():
        messages.error(request, "Bulk change: choose a status and give a reason.")
        return redirect(back)
    if not any(v for k, v in request.GET.items() if k in filterset.filters):
        messages.error(request, "Bulk change: filter the list first; the whole register is never changed at once.")
        return redirect(back)
    try:
        count = services.device_bulk_set_status(devices=filterset.qs, status=form.cleaned_data["status"],
                                                reason=form.cleaned_data["reason"], actor=request.user)
    except ValidationError as exc:
        messages.error(request, f"Bulk change refused: {error_text(exc)}")
    else:
        messages.success(request, f"{count} device{'s' if count != 1 else ''} changed to "
                                  f"{form.cleaned_data['status'].replace('_', ' ')}.")
    return redirect(back)


def _bulk_status_of_selected(request, form, back):
    """The rows ticked on the list (at most portal.lists.tables.BULK_LIMIT): every one must be a
    device the person may change (else 404, nothing changes), and the service changes all or
    none, recording each device's history."""
    try:
        ids = bulk_ids(request.POST)
    except ValidationError as exc:
        messages.error(request, f"Bulk change: {error_text(exc)}")
        return redirect(back)
    devices = selected(request.user, Device.objects.all(), ids)
    if not form.is_valid():
        messages.error(request, "Bulk change: choose a status and give a reason.")
        return redirect(back)
    try:
        count = services.device_bulk_set_status(devices=devices, status=form.cleaned_data["status"],
                                                reason=form.cleaned_data["reason"], actor=request.user)
    except ValidationError as exc:
        messages.error(request, f"Bulk change refused: {error_text(exc)}")
    else:
        messages.success(request, f"{count} device{'s' if count != 1 else ''} changed to "
                                  f"{SMIStatus(form.cleaned_data['status']).label}.")
    return redirect(back)


@view_of(Device, "inventory.device.view")
def device_detail(request, device_id):
    device = _device_by_param(request, device_id)
    if device.device_id != device_id:
        return redirect(device)
    visible = scope(request.user, Device.objects.all())
    hub = visible.filter(pk=device.hub_id).first() if device.hub_id else None
    neighbours = list(visible.filter(hub=device).select_related("model").order_by("device_type", "device_id")[:100])
    siblings = []
    if hub is not None:
        siblings = list(visible.filter(hub=hub).exclude(pk=device.pk).order_by("device_type", "device_id")[:100])
    can_change = services.can_change_device(request.user, device)
    return render(request, "inventory/device_detail.html", {
        "device": device, "hub": hub, "hub_hidden": device.hub_id and hub is None, "neighbours": neighbours,
        "siblings": siblings, "switches": list(device.switches.all()),
        "history": list(device.status_history.select_related("actor")[:50]),
        "items": list(device.items.all()), "badges": BADGES, "can_change": can_change,
        "can_edit": can_change and may(request.user, "inventory.device.register"),
    })


class Confirmation(NamedTuple):
    """What a change on the device's Edit page will do, said before it is done: the lines shown,
    and the form (address and fields) whose Confirm button does it."""

    title: str
    lines: list[str]
    action: str
    fields: dict[str, str]


def _confirm_status(request, device, form):
    allowed = allowed_transitions(device.status)
    status, reason = form.cleaned_data["status"], form.cleaned_data["reason"]
    if status not in allowed:
        form.add_error("status", f"From {device.get_status_display()} the device may go to: "
                                 f"{', '.join(SMIStatus(s).label for s in allowed) or 'nothing (final)'}.")
        return None
    return Confirmation(
        "Change the status", [f"From {device.get_status_display()} to {SMIStatus(status).label}.",
                              f"Reason: {reason}"],
        reverse("inventory:device_status", args=[device.device_id]), {"status": status, "reason": reason})


def _confirm_hub(request, device, form):
    value = form.cleaned_data["hub_id"]
    try:
        hub = services.hub_from_id(value, actor=request.user)
    except ValidationError as exc:
        form.add_error("hub_id", error_text(exc))
        return None
    current = scope(request.user, Device.objects.all()).filter(pk=device.hub_id).first() if device.hub_id else None
    was = f"joined to {current.device_id}" if current else ("joined to a hub of another supplier" if device.hub_id
                                                              else "on no hub")
    line = f"Join it to hub {hub.device_id}." if hub else "Leave its hub: the device will be on no hub."
    return Confirmation("Change the hub", [f"Now {was}.", line],
                        reverse("inventory:device_hub", args=[device.device_id]),
                        {"hub_id": hub.device_id if hub else ""})


def _confirm_switch(request, device, form):
    data = form.cleaned_data
    current = device.switches.filter(number=data["number"]).first()
    state = SwitchState(data["state"]).label
    if current is None:
        lines = [f"Record switch {data['number']} ({data['description'] or 'no description'}), {state.lower()}."]
    else:
        lines = [f"Switch {data['number']} ({current.description or 'no description'}): from "
                 f"{current.get_state_display().lower()} to {state.lower()}."]
        if data["description"] and data["description"] != current.description:
            lines.append(f"Its description becomes: {data['description']}")
    # An empty description keeps the one recorded (the switch service would clear it).
    description = data["description"] or (current.description if current else "")
    return Confirmation("Change a switch", lines, reverse("inventory:device_switch", args=[device.device_id]),
                        {"number": str(data["number"]), "description": description, "state": data["state"]})


# The Edit page's three changes: each a form (prefixed, so that every element id is unique on the
# page) and what its confirmation says.
CHANGES = {"status": (StatusForm, _confirm_status), "hub": (HubForm, _confirm_hub),
           "switch": (SwitchForm, _confirm_switch)}


@view_of(Device, "inventory.device.change", methods=("GET", "POST"))
def device_change(request, device_id):
    """A device's Edit page for its status, hub and switches. Each form leads to a confirmation
    that says what will change (from what to what); its Confirm button posts to device_status,
    device_hub or device_switch, which do it. Nothing changes on this page itself, and no form
    starts on a choice (a status or switch state is always picked)."""
    device = _device_by_param(request, device_id, CHANGE)
    allowed = [SMIStatus(s) for s in allowed_transitions(device.status)]
    hub = scope(request.user, Device.objects.all()).filter(pk=device.hub_id).first() if device.hub_id else None
    forms = {name: form_class(prefix=name) for name, (form_class, _) in CHANGES.items()}
    forms["hub"].initial = {"hub_id": hub.device_id if hub else ""}  # keeping the hub is the default
    status = 200
    if request.method == "POST":
        which = request.POST.get("change", "")
        if which not in CHANGES:
            raise Http404("no such change")
        form_class, confirm = CHANGES[which]
        forms[which] = form = form_class(request.POST, prefix=which)
        confirmation = confirm(request, device, form) if form.is_valid() else None
        if confirmation is not None:
            return render(request, "inventory/device_change_confirm.html",
                          {"device": device, "confirmation": confirmation})
        status = 400
    # Only the statuses the device may go to are offered, after the empty "Choose…".
    forms["status"].fields["status"].choices = [CHOOSE, *((s.value, s.label) for s in allowed)]
    return render(request, "inventory/device_change.html", {
        "device": device, "forms": forms, "badges": BADGES, "switches": list(device.switches.all()),
        "allowed": allowed, "hub": hub,
    }, status=status)


def _device_action(request, device_id, action):
    device = _device_by_param(request, device_id, CHANGE)
    try:
        action(device)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    return redirect(device)


def _device_form(request, device_id, form_class, invalid, act):
    """A small form of the device page: ``invalid`` is the message when the form does not parse;
    ``act(device, cleaned_data)`` calls the service and says what it did."""
    form = form_class(request.POST)

    def action(device):
        if not form.is_valid():
            raise ValidationError(invalid)
        messages.success(request, act(device, form.cleaned_data))

    return _device_action(request, device_id, action)


@view_of(Device, "inventory.device.change", methods=POST)
def device_status(request, device_id):
    def act(device, data):
        services.device_set_status(device=device, status=data["status"], reason=data["reason"], actor=request.user)
        return f"Status changed to {data['status'].replace('_', ' ')}."

    return _device_form(request, device_id, StatusForm, "Choose a status and give a reason.", act)


@view_of(Device, "inventory.device.change", methods=POST)
def device_hub(request, device_id):
    def act(device, data):
        hub = services.hub_from_id(data["hub_id"], actor=request.user)
        services.device_join_hub(device=device, hub=hub, actor=request.user)
        return f"Joined to {hub.device_id}." if hub else "Left its hub."

    return _device_form(request, device_id, HubForm, "Give the hub's device id.", act)


@view_of(Device, "inventory.device.change", methods=POST)
def device_switch(request, device_id):
    def act(device, data):
        services.switch_set(device=device, actor=request.user, **data)
        return f"Switch {data['number']} saved."

    return _device_form(request, device_id, SwitchForm, "Switch: give a number from 1 to 5 and a state.", act)


@view_of(Device, "inventory.device.add")
def device_import(request):
    """Upload -> preview every row -> commit the same file (portal.imports.import_page: the file
    is kept under a token remembered in the uploader's session)."""
    return import_page(request, run=importers.run, form_class=ImportForm, template="inventory/device_import.html",
                       key="devices", success_url=reverse("inventory:device_list"),
                       done=lambda preview: f"{len(preview.results)} devices imported.",
                       context={"columns": importers.COLUMNS})


# --- Device models -----------------------------------------------------------------------------

class ModelList(ObjectListView):
    model = DeviceModel
    capability = "inventory.devicemodel.view"
    filterset_class = DeviceModelFilterSet
    filterset_takes_request = False
    template_name = "inventory/model_list.html"
    context_object_name = "models"
    table_class = DeviceModelTable

    def get_queryset(self):
        return super().get_queryset().prefetch_related("items")

    export_name = "device-models"
    export_columns = ("manufacturer_id", "manufacturer_name", "model_id", "device_type", "smets_version",
                      "firmware_versions", "status")

    def export_row(self, m):
        return [m.manufacturer_id, m.manufacturer_name, m.model_id, m.device_type, m.smets_version,
                " ".join(m.firmware_versions), m.status]

    def extra_context(self, filterset):
        return {"badges": BADGES}


model_list = ModelList.as_view()


@view_of(DeviceModel, "inventory.devicemodel.view")
def model_detail(request, pk):
    device_model = get_scoped_or_404(request.user, DeviceModel.objects.prefetch_related("items"), pk=pk)
    devices = scope(request.user, Device.objects.filter(model=device_model)).select_related("supplier")
    rows, next_after = keyset_page(devices, before=request.GET.get("after"))
    can_change = scope(request.user, DeviceModel.objects.filter(pk=pk), CHANGE).exists()
    return render(request, "inventory/model_detail.html", {
        "model": device_model, "devices": rows, "next_after": next_after, "badges": BADGES,
        "can_change": can_change, "withdraw_form": WithdrawForm(),
        "can_link": can_change and may(request.user, "inventory.device.link"),
    })


@view_of(DeviceModel, "inventory.devicemodel.change", methods=POST)
def model_withdraw(request, pk):
    device_model = get_scoped_or_404(request.user, DeviceModel.objects.all(), CHANGE, pk=pk)
    form = WithdrawForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give a reason for the withdrawal.")
        return redirect(device_model)
    try:
        services.device_model_withdraw(device_model=device_model, reason=form.cleaned_data["reason"],
                                       actor=request.user)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, f"{device_model} withdrawn; the devices of this model are listed below.")
    return redirect(device_model)


# --- Configuration items -----------------------------------------------------------------------

class ItemList(ObjectListView):
    model = ConfigurationItem
    capability = "inventory.configurationitem.view"
    filterset_class = ItemFilterSet
    filterset_takes_request = False
    template_name = "inventory/ci_list.html"
    context_object_name = "items"
    table_class = ItemTable

    def get_queryset(self):
        return super().get_queryset().select_related("owner")

    export_name = "configuration-items"
    export_columns = ("key", "name", "kind", "owner", "version", "status")

    def export_row(self, i):
        return [i.key, i.name, i.kind, i.owner.code if i.owner else "", i.version, i.status]

    def extra_context(self, filterset):
        return {"badges": BADGES, "can_create": self.may("inventory.configurationitem.add")}


ci_list = ItemList.as_view()


@view_of(ConfigurationItem, "inventory.configurationitem.view")
def ci_detail(request, key):
    item = get_scoped_or_404(request.user, ConfigurationItem.objects.select_related("owner"), key=key)
    results = selectors.impact_of(item)
    figure = selectors.impact_figure(item, results).to_json() if results else None
    return render(request, "inventory/ci_detail.html", {
        "item": item, "impact": results, "figure": figure, "badges": BADGES,
        "device_models": list(item.device_models.all()),
        **_relationships_context(request, item), **_requirements_context(request, item),
    })


def _can_change_item(user, item):
    return scope(user, ConfigurationItem.objects.filter(pk=item.pk), CHANGE).exists()


class InventoryEditView(ObjectEditView):
    """The inventory's forms: a refused save shows the form again with 400."""

    invalid_status = 400


class ItemEdit(InventoryEditView):
    """Add a configuration item to the catalogue, or edit one (its key stays)."""

    model = ConfigurationItem
    form_class = ItemForm
    template_name = "inventory/item_form.html"
    context_object_name = "item"

    def get_form(self, item):
        if item is None:
            return ItemForm(self.request.POST or None)
        initial = {"key": item.key, "name": item.name, "kind": item.kind, "owner": item.owner,
                   "version": item.version, "status": item.status, "description": item.description,
                   "documents": "\n".join(item.documents)}
        return ItemForm(self.request.POST or None, initial=initial, editing=True)

    def save(self, form, item):
        if item is None:
            return services.item_create(actor=self.request.user, **form.cleaned_data)
        changes = {k: v for k, v in form.cleaned_data.items() if k != "key"}
        services.item_update(item=item, actor=self.request.user, **changes)
        return item

    def success_message(self, item, form):
        if self.names_object():
            return f"{form.cleaned_data['name']} saved."
        return f"{item.name} added to the catalogue."


ci_create, ci_edit = ItemEdit.create_and_edit()


def _relationships_context(request, item, form=None):
    return {"item": item, "can_change": _can_change_item(request.user, item),
            "outgoing": list(item.outgoing.select_related("target")),
            "incoming": list(item.incoming.select_related("source")),
            "relationship_form": form or RelationshipForm()}


def _requirements_context(request, item, form=None):
    return {"item": item, "can_change": _can_change_item(request.user, item), "badges": BADGES,
            "requirements": list(item.requirements.all()), "requirement_form": form or RequirementForm()}


def _after_item_change(request, item, partial, context):
    """htmx swaps the section in place; a plain form post goes back to the item's page (errors
    as messages there, since the form's own page is the item page)."""
    if request.htmx:
        form = context.get("relationship_form") or context.get("requirement_form")
        return render(request, partial, context, status=422 if form.errors else 200)
    form = context.get("relationship_form") if "relationship_form" in context else context.get("requirement_form")
    if form.errors:
        for field, errors in form.errors.items():
            label = "" if field == "__all__" else (form.fields[field].label or field.replace("_", " ").capitalize())
            messages.error(request, (f"{label}: " if label else "") + " ".join(errors))
    return redirect(item)


def _add_to_item(request, key, form_class, add, added, partial, context):
    """The item page's add forms (a relationship, a requirement): the form, then the service
    ``add(item, cleaned_data)``; its refusal lands on the form, and the section answers."""
    item = get_scoped_or_404(request.user, ConfigurationItem.objects.all(), CHANGE, key=key)
    form = form_class(request.POST)
    if form.is_valid():
        try:
            add(item, form.cleaned_data)
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            form = None
            if not request.htmx:
                messages.success(request, added)
    return _after_item_change(request, item, partial, context(request, item, form))


@view_of(ConfigurationItem, "inventory.configurationitem.change", methods=POST)
def ci_relationship_add(request, key):
    return _add_to_item(
        request, key, RelationshipForm,
        lambda item, data: services.relationship_create(source=item, actor=request.user, **data),
        "Relationship added.", "inventory/partials/ci_relationships.html", _relationships_context)


@view_of(ItemRelationship, "inventory.itemrelationship.change", methods=POST)
def relationship_delete(request, pk):
    relationship = get_scoped_or_404(request.user, ItemRelationship.objects.select_related("source"), CHANGE, pk=pk)
    item = relationship.source
    services.relationship_delete(relationship=relationship, actor=request.user)
    if not request.htmx:
        messages.success(request, "Relationship removed.")
    return _after_item_change(request, item, "inventory/partials/ci_relationships.html",
                              _relationships_context(request, item))


@view_of(ConfigurationItem, "inventory.configurationitem.change", methods=POST)
def ci_requirement_add(request, key):
    return _add_to_item(
        request, key, RequirementForm,
        lambda item, data: services.requirement_create(item=item, actor=request.user, **data),
        "Requirement added.", "inventory/partials/ci_requirements.html", _requirements_context)


class RequirementEdit(InventoryEditView):
    model = Requirement
    capability = "inventory.requirement.change"
    queryset = Requirement.objects.select_related("item")
    template_name = "inventory/requirement_form.html"
    context_object_name = "requirement"

    def get_form(self, requirement):
        initial = {f: getattr(requirement, f) for f in ("reference", "category", "text", "status", "document")}
        return RequirementForm(self.request.POST or None, initial=initial, editing=True)

    def save(self, form, requirement):
        changes = {k: v for k, v in form.cleaned_data.items() if k != "reference"}
        services.requirement_update(requirement=requirement, actor=self.request.user, **changes)
        return requirement

    def success_message(self, requirement, form):
        return f"Requirement {requirement.reference} saved."

    def success_url(self, requirement, obj):
        return requirement.item.get_absolute_url()


requirement_edit = RequirementEdit.as_view()


class LinksEdit(ObjectEditView):
    """Which configuration items a device or a device model relies on (DCC only)."""

    capability = "inventory.device.link"
    form_class = ItemLinksForm
    template_name = "inventory/item_links_form.html"

    def get_form(self, owner):
        return ItemLinksForm(self.request.POST or None, initial={"items": list(owner.items.all())})

    def success_message(self, owner, form):
        return "Configuration items saved."

    def context(self, form, owner):
        return {"form": form, "owner": owner, "back": owner.get_absolute_url()}


class ModelItems(LinksEdit):
    model = DeviceModel

    def save(self, form, device_model):
        services.device_model_link_items(device_model=device_model, items=form.cleaned_data["items"],
                                         actor=self.request.user)
        return device_model


class DeviceObjectMixin:
    """The device named in the URL, in any EUI-64 form (``_device_by_param``)."""

    def get_object(self):
        return _device_by_param(self.request, self.kwargs["device_id"], self.fetch_action)


class DeviceItems(DeviceObjectMixin, LinksEdit):
    model = Device

    def save(self, form, device):
        services.device_link_items(device=device, items=form.cleaned_data["items"], actor=self.request.user)
        return device


model_items = ModelItems.as_view()
device_items = DeviceItems.as_view()


# --- Device create and edit (one device at a time; the importer does many) ---------------------

class DeviceEdit(DeviceObjectMixin, InventoryEditView):
    """DCC registers or edits one device here; suppliers use the import."""

    model = Device
    capability = "inventory.device.register"
    form_class = DeviceForm
    template_name = "inventory/device_form.html"
    context_object_name = "device"

    def get_form(self, device):
        if device is None:
            return DeviceForm(self.request.POST or None)
        initial = {name: getattr(device, name) for name in ("device_id", "device_type", "supplier", "region",
                                                            "status", "mpxn", "model", "firmware_version",
                                                            "installed_at", "commissioned_at")}
        initial["hub_id"] = device.hub.device_id if device.hub else ""
        return DeviceForm(self.request.POST or None, initial=initial, editing=True)

    def save(self, form, device):
        actor = self.request.user
        if device is None:
            data = dict(form.cleaned_data)
            with transaction.atomic():
                hub = services.hub_from_id(data.pop("hub_id"), actor=actor)
                return services.device_create(actor=actor, hub=hub, **data)
        changes = {name: form.cleaned_data[name] for name in DeviceForm.EDITABLE}
        with transaction.atomic():
            changes["hub"] = services.hub_from_id(changes.pop("hub_id"), actor=actor)
            services.device_update(device=device, actor=actor, **changes)
        return device

    def success_message(self, device, form):
        if self.names_object():
            return f"{device.device_id} saved."
        return f"{device.device_type} {device.device_id} registered."


device_create = DeviceEdit.as_view()
device_edit = DeviceEdit.as_view()
