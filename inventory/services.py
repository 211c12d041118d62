"""Writes of the inventory app. Every write checks the record (full_clean), runs in one
transaction and is attributed to its actor in the audit trail."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from auditlog.context import set_actor
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from inventory.choices import (
    DeviceModelStatus,
    DeviceType,
    ItemStatus,
    RequirementStatus,
    SMIStatus,
    allowed_transitions,
)
from inventory.models import (
    AuxiliarySwitch,
    ConfigurationItem,
    Device,
    DeviceModel,
    DeviceStatusChange,
    ItemRelationship,
    Requirement,
    list_of_text,
)
from inventory.validators import parse_mpan
from portal import events
from portal.access import require
from portal.ids import normalise_eui64
from portal.scoping import CHANGE, VIEW, scope
from portal.writes import refuse_unknown, save_validated, upsert

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from portal.models import Organisation
    from portal.types import Actor, Viewer

# One bulk change touches at most this many devices: larger changes go through an import so
# that a slip of the filter cannot rewrite the whole register.
BULK_LIMIT = 10_000


def _visible_hub(hub: Device | None, actor: Actor) -> Device | None:
    """A supplier may only join devices to hubs it can see, so hub ids of other suppliers
    cannot be probed through the join form (they answer "unknown hub")."""
    if hub is None or actor is None:
        return hub
    if not scope(actor, Device.objects.filter(pk=hub.pk), VIEW).exists():
        raise ValidationError({"hub": f"unknown hub {hub.device_id}"})
    return hub


def hub_from_id(value: str | None, *, actor: Actor = None, field: str = "hub_id") -> Device | None:
    """The hub named by ``value`` in any EUI-64 form, or a ValidationError naming the field."""
    if not value:
        return None
    try:
        canonical = normalise_eui64(value, field=field)
    except ValidationError as exc:
        raise ValidationError({field: exc.messages}) from None
    queryset = Device.objects.filter(device_id=canonical)
    if actor is not None:
        queryset = scope(actor, queryset, VIEW)
    hub = queryset.first()
    if hub is None:
        raise ValidationError({field: f"unknown hub {canonical}"})
    return hub


def _record_status(device: Device, from_status: str, to_status: str, reason: str, actor: Actor, at: datetime) -> None:
    DeviceStatusChange.objects.create(device=device, from_status=from_status, to_status=to_status,
                                      reason=reason[:300], actor=actor, changed_at=at)


@transaction.atomic
def device_create(*, device_id: str, device_type: str, supplier: Organisation, region: str,
                  status: str = SMIStatus.PENDING, mpxn: str | None = "", hub: Device | None = None,
                  model: DeviceModel | None = None, firmware_version: str | None = "",
                  installed_at: datetime | None = None, commissioned_at: datetime | None = None, actor: Actor = None,
                  reason: str = "registered") -> Device:
    """Register a device. Its first status history row records the status it starts in.
    One device at a time is DCC's (the page and the API alike); a supplier loads its devices
    through the device import, where every row is checked and previewed first."""
    _require(actor, "inventory.device.register", "register a device one at a time; a supplier loads its "
             "devices through the device import")
    now = timezone.now()
    with set_actor(actor):
        device = Device(device_id=device_id, device_type=device_type, supplier=supplier, region=region,
                        status=status, mpxn=mpxn or "", hub=_visible_hub(hub, actor), model=model,
                        firmware_version=firmware_version or "", installed_at=installed_at,
                        commissioned_at=commissioned_at, status_changed_at=now)
        device.full_clean()
        device.save()
        _record_status(device, "", status, reason, actor, now)
    return device


_EDITABLE = ("mpxn", "model", "firmware_version", "region", "installed_at", "commissioned_at", "hub")


@transaction.atomic
def device_update(*, device: Device, actor: Actor, **changes: Any) -> Device:
    """Change a device's descriptive fields (not its id, type, supplier or status: the status
    moves only through device_set_status so that its history stays true). These details are
    DCC's to change, on the page and through the API alike: a supplier changes a device's status
    and hub, never its region, MPAN, model, firmware or dates (the refusal names the fields)."""
    refuse_unknown("device_update", changes, _EDITABLE)
    if changes:
        _require(actor, "inventory.device.register", f"change {', '.join(sorted(changes))} of a registered "
                 "device; ask DCC's service desk")
    with set_actor(actor):
        device = Device.objects.select_for_update().get(pk=device.pk)
        for name, value in changes.items():
            if value is None and name in ("mpxn", "firmware_version"):
                value = ""
            if name == "hub":
                value = _visible_hub(value, actor)
            if name == "mpxn":
                _forget_stale_top_line(device, value)
            setattr(device, name, value)
        return save_validated(device)


def _forget_stale_top_line(device: Device, value: str) -> None:
    """A new MPAN core given without its top line leaves no top line: the old one described
    another supply point. The same core again keeps it."""
    if device.device_type != DeviceType.ESME or not value:
        return
    try:
        mpan = parse_mpan(value)
    except ValidationError:
        return  # full_clean reports it
    if not mpan.is_full and mpan.core != device.mpxn:
        device.mpan_profile_class = device.mpan_meter_timeswitch_code = device.mpan_line_loss_factor_class = ""


@transaction.atomic
def device_join_hub(*, device: Device, hub: Device | None, actor: Actor) -> Device:
    """Join ``device`` to ``hub`` (None: leave its hub). A meter or GPF joins a communications
    hub; a HAN device joins a meter or a hub; nothing joins itself."""
    with set_actor(actor):
        device = Device.objects.select_for_update().get(pk=device.pk)
        device.hub = _visible_hub(hub, actor)
        device.full_clean()
        device.save(update_fields=["hub"])
    return device


def transition_error(device: Device, status: str) -> str | None:
    """Why ``device`` cannot move to ``status`` (None when it can)."""
    try:
        target = SMIStatus(status)
    except ValueError:
        return f"{status!r} is not an SMI status"
    allowed = allowed_transitions(device.status)
    if target == device.status:
        return f"{device.device_id} is already {target.label}"
    if target not in allowed:
        names = ", ".join(SMIStatus(s).label for s in allowed) or "none (it is final)"
        return (f"{device.device_id} cannot go from {SMIStatus(device.status).label} to {target.label}; "
                f"allowed: {names}")
    return None


def _apply_status(device: Device, status: str, reason: str, actor: Actor, at: datetime) -> None:
    previous = device.status
    device.status = status
    device.status_changed_at = at
    fields = ["status", "status_changed_at"]
    if status == SMIStatus.INSTALLED_NOT_COMMISSIONED and device.installed_at is None:
        device.installed_at = at
        fields.append("installed_at")
    if status == SMIStatus.COMMISSIONED and device.commissioned_at is None:
        device.commissioned_at = at
        fields.append("commissioned_at")
    device.save(update_fields=fields)
    _record_status(device, previous, status, reason, actor, at)


@transaction.atomic
def device_set_status(*, device: Device, status: str, reason: str, actor: Actor, at: datetime | None = None) -> Device:
    """Move a device to another SMI status, refusing a transition the SMI rules do not allow
    (the message names the allowed ones: see inventory.choices). Recorded in the status history
    and the audit trail."""
    if not (reason or "").strip():
        raise ValidationError({"reason": "Give a reason for the status change."})
    at = at or timezone.now()
    with set_actor(actor):
        device = Device.objects.select_for_update().get(pk=device.pk)
        problem = transition_error(device, status)
        if problem:
            raise ValidationError({"status": problem})
        _apply_status(device, status, reason.strip(), actor, at)
    return device


@transaction.atomic
def device_bulk_set_status(*, devices: QuerySet[Device], status: str, reason: str, actor: Actor) -> int:
    """Move every device of ``devices`` (a queryset the caller has scoped for change) to
    ``status``. All or nothing: if any device may not make the transition, none changes and the
    error lists the first offenders. Returns the number of devices changed."""
    if not (reason or "").strip():
        raise ValidationError({"reason": "Give a reason for the status change."})
    if status not in SMIStatus.values:
        raise ValidationError({"status": f"{status!r} is not an SMI status"})
    ids = list(devices.order_by().values_list("pk", flat=True)[: BULK_LIMIT + 1])
    if not ids:
        raise ValidationError({"devices": "No devices match: nothing to change."})
    if len(ids) > BULK_LIMIT:
        raise ValidationError({"devices": f"More than {BULK_LIMIT:,} devices match: narrow the filter."})
    at = timezone.now()
    locked = list(Device.objects.select_for_update().filter(pk__in=ids).order_by("pk"))
    problems = [p for p in (transition_error(d, status) for d in locked) if p]
    if problems:
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        raise ValidationError({"status": [f"{len(problems)} of {len(locked)} devices cannot change, nothing "
                                          f"changed: " + "; ".join(problems[:5]) + more]})
    with set_actor(actor):
        for device in locked:
            _apply_status(device, status, reason.strip(), actor, at)
    return len(locked)


@transaction.atomic
def switch_set(*, device: Device, number: int, description: str | None = None, state: str | None = None,
               actor: Actor) -> AuxiliarySwitch:
    """Create or change auxiliary load control switch ``number`` (1 to 5) of an ESME."""
    given = {"description": description, "state": state}
    with set_actor(actor):
        return upsert(AuxiliarySwitch, {"device": device, "number": number},
                      **{name: value for name, value in given.items() if value is not None})


# --- Device models (Central Products List) ---------------------------------------------------

@transaction.atomic
def device_model_upsert(*, manufacturer_id: str, model_id: str, device_type: str, smets_version: str = "SMETS2",
                        firmware_versions: Iterable[str] = (), manufacturer_name: str = "",
                        actor: Actor = None) -> DeviceModel:
    with set_actor(actor):
        device_model = DeviceModel.objects.filter(manufacturer_id=manufacturer_id, model_id=model_id).first() \
            or DeviceModel(manufacturer_id=manufacturer_id, model_id=model_id)
        if device_model.pk and device_model.device_type != device_type and device_model.devices.exists():
            raise ValidationError({"device_type": "The model already has devices; its type cannot change."})
        device_model.device_type = device_type
        device_model.smets_version = smets_version
        firmware_versions = list(firmware_versions)
        try:  # checked before de-duplicating: an unhashable entry must be a message, not a TypeError
            list_of_text(firmware_versions)
        except ValidationError as error:
            raise ValidationError({"firmware_versions": error.messages}) from None
        device_model.firmware_versions = list(dict.fromkeys(firmware_versions))
        device_model.manufacturer_name = manufacturer_name
        device_model.full_clean()
        device_model.save()
    return device_model


@transaction.atomic
def device_model_withdraw(*, device_model: DeviceModel, reason: str, actor: Actor) -> QuerySet[Device]:
    """Withdraw a model from the Central Products List. Its devices keep their status (each
    needs its own decision, e.g. a bulk change to suspended); the returned queryset lists every
    affected device and the event tells whoever watches the model."""
    if not (reason or "").strip():
        raise ValidationError({"reason": "Give a reason for the withdrawal."})
    with set_actor(actor):
        device_model = DeviceModel.objects.select_for_update().get(pk=device_model.pk)
        if device_model.status == DeviceModelStatus.WITHDRAWN:
            raise ValidationError({"status": f"{device_model} is already withdrawn."})
        device_model.status = DeviceModelStatus.WITHDRAWN
        device_model.withdrawn_at = timezone.now()
        device_model.withdrawn_reason = reason.strip()[:300]
        device_model.full_clean()
        device_model.save()
    affected = Device.objects.filter(model=device_model)
    transaction.on_commit(lambda: events.publish(
        "device_model.withdrawn", obj=device_model, summary=f"Device model {device_model} withdrawn",
        body=reason, url=device_model.get_absolute_url(),
        payload={"model": device_model.pk, "reason": reason},
    ))
    return affected


def _require(actor: Actor, capability: str, what: str) -> None:
    # Which network items a model or device relies on is DCC's catalogue, and one device's register
    # entry is DCC's to write: suppliers read them only.
    # No actor is the system itself (demo data, imports run from the command line).
    if actor is not None:
        require(actor, capability, message=f"Only DCC operations may {what}.")


@transaction.atomic
def device_model_link_items(*, device_model: DeviceModel, items: Iterable[ConfigurationItem],
                            actor: Actor) -> DeviceModel:
    """Set the configuration items a device model relies on (recorded in its audit trail)."""
    _require(actor, "inventory.devicemodel.link", "link device models to configuration items")
    with set_actor(actor):
        device_model.items.set(items)
    return device_model


@transaction.atomic
def device_link_items(*, device: Device, items: Iterable[ConfigurationItem], actor: Actor) -> Device:
    """Set the configuration items a device relies on (recorded in its audit trail)."""
    _require(actor, "inventory.device.link", "link devices to configuration items")
    with set_actor(actor):
        device.items.set(items)
    return device


# --- Configuration items ---------------------------------------------------------------------

@transaction.atomic
def item_upsert(*, key: str, name: str, kind: str, owner: Organisation | None = None, version: str = "",
                status: str = ItemStatus.LIVE, description: str = "", documents: Iterable[str] = (),
                actor: Actor = None) -> ConfigurationItem:
    """Create or update a configuration item by its key (idempotent: the demo uses it)."""
    with set_actor(actor):
        return upsert(ConfigurationItem, {"key": key}, name=name, kind=kind, owner=owner, version=version,
                      status=status, description=description, documents=list(documents))


_ITEM_FIELDS = ("name", "kind", "owner", "version", "status", "description", "documents")


@transaction.atomic
def item_create(*, key: str, name: str, kind: str, owner: Organisation | None = None, version: str = "",
                status: str = ItemStatus.LIVE, description: str = "", documents: Iterable[str] = (),
                actor: Actor) -> ConfigurationItem:
    """Add a configuration item; a key already in the catalogue is refused (naming the key)."""
    if ConfigurationItem.objects.filter(key=key).exists():
        raise ValidationError({"key": f"An item with key {key!r} already exists."})
    with set_actor(actor):
        item = ConfigurationItem(key=key, name=name, kind=kind, owner=owner, version=version or "", status=status,
                                 description=description or "", documents=list(documents))
        item.full_clean()
        item.save()
    return item


@transaction.atomic
def item_update(*, item: ConfigurationItem, actor: Actor, **changes: Any) -> ConfigurationItem:
    """Change an item's descriptive fields. Its key stays: pages, links and documents cite it."""
    refuse_unknown("item_update", changes, _ITEM_FIELDS)
    with set_actor(actor):
        item = ConfigurationItem.objects.select_for_update().get(pk=item.pk)
        for name, value in changes.items():
            if name == "documents":
                value = list(value or ())
            elif value is None and name != "owner":
                value = ""
            setattr(item, name, value)
        return save_validated(item)


@transaction.atomic
def relationship_create(*, source: ConfigurationItem, kind: str, target: ConfigurationItem, note: str = "",
                        actor: Actor = None) -> ItemRelationship:
    """Link two items. A self-link or an edge that already exists is refused with a message."""
    if source.pk == target.pk:
        raise ValidationError({"target": f"{source} cannot be related to itself."})
    if ItemRelationship.objects.filter(source=source, kind=kind, target=target).exists():
        label = ItemRelationship(kind=kind).get_kind_display()
        raise ValidationError({"target": f"{source} already {label} {target}."})
    with set_actor(actor):
        relationship = ItemRelationship(source=source, kind=kind, target=target, note=note)
        relationship.full_clean(validate_constraints=False)
        try:
            with transaction.atomic():
                relationship.save()
        except IntegrityError:
            # Two people adding the same link at once: the constraint decides, the message is the same.
            raise ValidationError({"target": f"{source} is already linked to {target} that way."}) from None
    return relationship


@transaction.atomic
def relationship_delete(*, relationship: ItemRelationship, actor: Actor) -> None:
    with set_actor(actor):
        relationship.delete()


@transaction.atomic
def requirement_create(*, item: ConfigurationItem, reference: str, category: str, text: str,
                       status: str = RequirementStatus.DRAFT, document: str = "", actor: Actor) -> Requirement:
    """Add a requirement to an item; a reference the item already has is refused."""
    if Requirement.objects.filter(item=item, reference=reference).exists():
        raise ValidationError({"reference": f"{item} already has a requirement {reference}."})
    return requirement_upsert(item=item, reference=reference, category=category, text=text, status=status,
                              document=document, actor=actor)


@transaction.atomic
def requirement_update(*, requirement: Requirement, actor: Actor, **changes: str | None) -> Requirement:
    """Change a requirement's category, text, status or stating document (its reference stays)."""
    refuse_unknown("requirement_update", changes, ("category", "text", "status", "document"))
    with set_actor(actor):
        requirement = Requirement.objects.select_for_update().get(pk=requirement.pk)
        return save_validated(requirement, **{name: value if value is not None else ""
                                              for name, value in changes.items()})


@transaction.atomic
def requirement_upsert(*, item: ConfigurationItem, reference: str, category: str, text: str,
                       status: str = RequirementStatus.DRAFT, document: str = "", actor: Actor = None) -> Requirement:
    with set_actor(actor):
        return upsert(Requirement, {"item": item, "reference": reference}, category=category, text=text,
                      status=status, document=document)


def can_change_device(actor: Viewer, device: Device) -> bool:
    return scope(actor, Device.objects.filter(pk=device.pk), CHANGE).exists()
