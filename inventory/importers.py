"""Device import (CSV or XLSX): every row is checked and previewed; a clean file is written in
one transaction. The upload page and ``manage.py import_devices`` both call ``run``.

Rows create devices; a device id already in the register is an error (status changes go
through the status service so that the transition rules and history hold). ``hub_id`` may name
a hub already registered or one on an earlier row of the same file.
"""
from auditlog.context import set_actor
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from inventory.choices import DeviceType, SMIStatus
from inventory.models import Device, DeviceModel, DeviceStatusChange
from portal.choices import Region
from portal.ids import normalise_eui64
from portal.imports import RowResult, read_for_preview
from portal.models import Organisation
from portal.scoping import VIEW, scope

REQUIRED = ("device_id", "device_type", "supplier", "region")
OPTIONAL = ("manufacturer", "model", "firmware_version", "status", "mpxn", "hub_id")
COLUMNS = ("device_id", "device_type", "manufacturer", "model", "firmware_version", "status", "supplier", "mpxn",
           "region", "hub_id")


def _chunks(values, size=500):
    values = list(values)
    for start in range(0, len(values), size):
        yield values[start:start + size]


class _Context:
    """Everything the rows refer to, loaded once (not one query per row)."""

    def __init__(self, table, actor):
        self.actor = actor
        suppliers = Organisation.objects.filter(kind="service_user")
        if actor is not None:
            # A supplier imports only its own devices; other codes read as unknown.
            suppliers = scope(actor, suppliers, VIEW)
        self.suppliers = {o.code.upper(): o for o in suppliers}
        self.models = {(m.manufacturer_id.upper(), m.model_id.upper()): m for m in DeviceModel.objects.all()}
        ids, hub_ids = set(), set()
        for _number, row in table.rows:
            for value, bucket in ((row.get("device_id", ""), ids), (row.get("hub_id", ""), hub_ids)):
                try:
                    bucket.add(normalise_eui64(value))
                except ValidationError:
                    pass
        self.existing = set()
        for chunk in _chunks(ids):
            self.existing.update(Device.objects.filter(device_id__in=chunk).values_list("device_id", flat=True))
        self.hubs = {}
        for chunk in _chunks(hub_ids):
            hubs = Device.objects.filter(device_id__in=chunk)
            if actor is not None:
                hubs = scope(actor, hubs, VIEW)
            self.hubs.update({h.device_id: h for h in hubs})


def _build(row, context, in_file):
    """An unsaved Device for one row, or ValidationError naming the field."""
    errors = {}
    try:
        device_id = normalise_eui64(row.get("device_id", ""), field="device_id")
    except ValidationError as exc:
        raise ValidationError({"device_id": exc.messages}) from None
    if device_id in context.existing:
        raise ValidationError({"device_id": f"{device_id} is already in the register"})
    if device_id in in_file:
        raise ValidationError({"device_id": f"{device_id} appears on row {in_file[device_id][0]} already"})
    device_type = row.get("device_type", "").upper()
    if device_type not in DeviceType.values:
        errors["device_type"] = f"{row.get('device_type')!r} is not one of {', '.join(DeviceType.values)}"
    status = (row.get("status") or SMIStatus.PENDING).lower().replace(" ", "_")
    if status not in SMIStatus.values:
        errors["status"] = f"{row.get('status')!r} is not an SMI status ({', '.join(SMIStatus.values)})"
    region = row.get("region", "").lower()
    if region not in Region.values:
        errors["region"] = f"{row.get('region')!r} is not one of {', '.join(Region.values)}"
    supplier = context.suppliers.get(row.get("supplier", "").upper())
    if supplier is None:
        errors["supplier"] = f"unknown supplier {row.get('supplier')!r} (give the organisation code, e.g. SUPA)"
    device_model = None
    manufacturer, model_id = row.get("manufacturer", ""), row.get("model", "")
    if manufacturer or model_id:
        device_model = context.models.get((manufacturer.upper(), model_id.upper()))
        if device_model is None:
            errors["model"] = f"no device model {model_id!r} of manufacturer {manufacturer!r} on the products list"
    firmware = row.get("firmware_version", "")
    if device_model and firmware and device_model.firmware_versions and firmware not in device_model.firmware_versions:
        errors["firmware_version"] = (f"{firmware!r} is not an approved firmware of {device_model.model_id} "
                                      f"(approved: {', '.join(device_model.firmware_versions)})")
    hub = None
    if row.get("hub_id"):
        try:
            hub_id = normalise_eui64(row["hub_id"], field="hub_id")
        except ValidationError as exc:
            errors["hub_id"] = " ".join(exc.messages)
        else:
            hub = context.hubs.get(hub_id) or (in_file[hub_id][1] if hub_id in in_file else None)
            if hub is None:
                errors["hub_id"] = f"unknown hub {hub_id} (not registered and not on an earlier row)"
    device = Device(device_id=device_id, device_type=device_type, status=status, region=region, supplier=supplier,
                    model=device_model, firmware_version=firmware, mpxn=row.get("mpxn", ""))
    if "device_type" not in errors:
        # Report every problem of the row at once: the record's own checks too.
        try:
            device.clean()
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                errors.setdefault(field, " ".join(messages))
        if hub is not None and "region" not in errors:
            problem = device.hub_problem(hub)
            if problem:
                errors["hub_id"] = problem
    if errors:
        raise ValidationError(errors)
    device.hub = hub
    return device


def run(data, *, filename="", commit=False, actor=None):
    """Check every row; when ``commit`` and the file is clean, write all rows in one transaction."""
    preview, table = read_for_preview(data, filename=filename, required=REQUIRED, optional=OPTIONAL)
    if table is None:
        return preview
    context = _Context(table, actor)
    in_file = {}  # device id -> (row number, unsaved Device)
    devices = []
    for number, key, row in preview.fresh_rows(table, key=lambda row: row.get("device_id", "")):
        try:
            device = _build(row, context, in_file)
        except ValidationError as exc:
            preview.refuse(number, key, exc)
            continue
        in_file[device.device_id] = (number, device)
        devices.append(device)
        preview.results.append(RowResult(number, device.device_id, change="create"))
    if commit and preview.clean:
        _write(devices, actor, filename)
        preview.committed = True
    return preview


@transaction.atomic
def _write(devices, actor, filename):
    now = timezone.now()
    reason = f"imported from {filename.rsplit('/', 1)[-1]}"[:300] if filename else "imported"
    with set_actor(actor):
        for device in devices:
            # A hub on an earlier row is saved by now; Django takes its new pk on this save.
            device.status_changed_at = now
            device.save()
    DeviceStatusChange.objects.bulk_create(
        DeviceStatusChange(device=d, from_status="", to_status=d.status, reason=reason, actor=actor, changed_at=now)
        for d in devices
    )
