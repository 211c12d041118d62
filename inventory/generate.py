"""Fast generation of a realistic device population (demo data and benchmarks).

A premises gets a communications hub (CHF) with its GPF, an electricity meter (ESME, with a
valid MPAN) and usually a gas meter (GSME, with an MPRN) joined to the hub, an IHD joined to
the hub and sometimes a PPMID joined to the ESME. Each device gets its first status history
row. Rows are written with PostgreSQL COPY (psycopg 3) on PostgreSQL and bulk_create
elsewhere; ids are allocated up front so that hub links need no second pass.

Bulk-written rows bypass django-auditlog on purpose: the status history row records how each
device came to be ("generated").
"""
import datetime as dt
import random

from django.db import connection, transaction
from django.utils import timezone

from inventory.choices import DeviceType, SMIStatus
from inventory.models import Device, DeviceModel, DeviceStatusChange
from inventory.validators import mpan_check_digit

DEMO_BASE = 0x00DBDE0000000000
BENCH_BASE = 0x00DB200000000000
REGIONS = ("north", "central", "south")
# Distributor ids of the MPAN by CSP region (a plausible mapping for demo data).
DISTRIBUTORS = {"north": ("16", "17", "18"), "central": ("11", "13", "14"), "south": ("19", "20", "22")}
# Most of the estate is live; the rest shows every other status somewhere.
METER_STATUSES = ([SMIStatus.COMMISSIONED] * 80 + [SMIStatus.INSTALLED_NOT_COMMISSIONED] * 6
                  + [SMIStatus.WHITELISTED] * 4 + [SMIStatus.PENDING] * 3 + [SMIStatus.DECOMMISSIONED] * 3
                  + [SMIStatus.SUSPENDED] * 2 + [SMIStatus.RECOVERY, SMIStatus.RECOVERED])

DEVICE_COLUMNS = ("id", "device_id", "device_type", "status", "supplier_id", "region", "mpxn", "hub_id", "model_id",
                  "firmware_version", "installed_at", "commissioned_at", "status_changed_at", "created_at")


def eui(number):
    text = f"{number:016X}"
    return "-".join(text[i:i + 2] for i in range(0, 16, 2))


def mpan(rng, region):
    first12 = rng.choice(DISTRIBUTORS[region]) + f"{rng.randrange(10**10):010d}"
    return first12 + str(mpan_check_digit(first12))


def next_number(base):
    """The first free id number at or above ``base`` (so repeated runs add, never collide)."""
    top = (Device.objects.filter(device_id__gte=eui(base), device_id__lt=eui(base + 0x0000FFFFFFFFFFFF))
           .order_by("-device_id").values_list("device_id", flat=True).first())
    return int(top.replace("-", ""), 16) + 1 if top else base


def _models_by_type():
    models = {}
    for model in DeviceModel.objects.filter(status="approved").order_by("pk"):
        models.setdefault(model.device_type, []).append(model)
    return models


def premises_rows(count, *, suppliers, models, start_number, start_id, seed=1, now=None):
    """Yield device row dicts (keys DEVICE_COLUMNS) for about ``count`` devices. Runs no query:
    on PostgreSQL it is consumed inside a COPY, when the connection can do nothing else."""
    rng = random.Random(seed)
    now = now or timezone.now()
    number, pk, made = start_number, start_id, 0

    def row(device_type, supplier, region, status, hub=None, mpxn=""):
        nonlocal number, pk, made
        choices = models.get(device_type) or [None]
        model = rng.choice(choices)
        firmware = rng.choice(model.firmware_versions) if model is not None and model.firmware_versions else ""
        installed = commissioned = None
        if status not in (SMIStatus.PENDING, SMIStatus.WHITELISTED):
            installed = now - dt.timedelta(days=rng.randrange(30, 900), minutes=rng.randrange(1440))
            if status != SMIStatus.INSTALLED_NOT_COMMISSIONED:
                commissioned = installed + dt.timedelta(minutes=rng.randrange(5, 600))
        data = {"id": pk, "device_id": eui(number), "device_type": device_type, "status": status,
                "supplier_id": supplier.pk, "region": region, "mpxn": mpxn, "hub_id": hub["id"] if hub else None,
                "model_id": model.pk if model else None, "firmware_version": firmware, "installed_at": installed,
                "commissioned_at": commissioned, "status_changed_at": commissioned or installed or now,
                "created_at": now}
        number += 1
        pk += 1
        made += 1
        return data

    index = 0
    while made < count:
        supplier = suppliers[index % len(suppliers)]
        region = REGIONS[(index // len(suppliers)) % len(REGIONS)]
        index += 1
        status = rng.choice(METER_STATUSES)
        hub_status = SMIStatus.COMMISSIONED if status != SMIStatus.PENDING else SMIStatus.WHITELISTED
        hub = row(DeviceType.CHF, supplier, region, hub_status)
        yield hub
        yield row(DeviceType.GPF, supplier, region, hub_status, hub=hub)
        esme = row(DeviceType.ESME, supplier, region, status, hub=hub, mpxn=mpan(rng, region))
        yield esme
        if rng.random() < 0.7:
            yield row(DeviceType.GSME, supplier, region, rng.choice(METER_STATUSES), hub=hub,
                      mpxn=str(rng.randrange(10**6, 10**10)))
        yield row(DeviceType.IHD, supplier, region, SMIStatus.NOT_APPLICABLE, hub=hub)
        if rng.random() < 0.1:
            yield row(DeviceType.PPMID, supplier, region, SMIStatus.COMMISSIONED, hub=esme)


def _reserve_ids(count):
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("LOCK TABLE inventory_device IN SHARE ROW EXCLUSIVE MODE")
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence('inventory_device', 'id'), "
                "(SELECT COALESCE(MAX(id), 0) FROM inventory_device) + %s)", [count])
            top = cursor.fetchone()[0]
        return top - count + 1
    top = Device.objects.order_by("-id").values_list("id", flat=True).first() or 0
    return top + 1


def _write_copy(rows, reason):
    history = []
    with connection.cursor() as wrapper:
        cursor = wrapper.cursor  # the psycopg 3 cursor under Django's wrapper
        with cursor.copy(f"COPY inventory_device ({', '.join(DEVICE_COLUMNS)}) FROM STDIN") as copy:
            for data in rows:
                copy.write_row([data[c] for c in DEVICE_COLUMNS])
                history.append((data["id"], data["status"], data["status_changed_at"]))
        with cursor.copy("COPY inventory_devicestatuschange (device_id, from_status, to_status, reason, changed_at) "
                         "FROM STDIN") as copy:
            for device_pk, status, at in history:
                copy.write_row([device_pk, "", status, reason, at])
    return len(history)


def _write_orm(rows, reason, batch=2000):
    written, devices = 0, []

    def flush():
        nonlocal written
        Device.objects.bulk_create(devices, batch_size=500)
        DeviceStatusChange.objects.bulk_create(
            [DeviceStatusChange(device_id=d.pk, from_status="", to_status=d.status, reason=reason,
                                changed_at=d.status_changed_at) for d in devices], batch_size=500)
        written += len(devices)
        devices.clear()

    for data in rows:
        devices.append(Device(**data))
        if len(devices) >= batch:
            flush()
    if devices:
        flush()
    return written


@transaction.atomic
def generate(count, *, suppliers, base=BENCH_BASE, seed=1, reason="generated"):
    """Write about ``count`` devices (whole premises, so up to five more) for ``suppliers``;
    returns the number written."""
    if not suppliers:
        raise ValueError("give at least one supplier")
    # Premises hold at most six devices: reserve enough ids for the last one to finish.
    start_id = _reserve_ids(count + 6)
    rows = premises_rows(count, suppliers=list(suppliers), models=_models_by_type(), start_number=next_number(base),
                         start_id=start_id, seed=seed)
    if connection.vendor == "postgresql":
        return _write_copy(rows, reason)
    return _write_orm(rows, reason)
