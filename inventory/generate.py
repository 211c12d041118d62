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
    return f"{text[0:2]}-{text[2:4]}-{text[4:6]}-{text[6:8]}-{text[8:10]}-{text[10:12]}-{text[12:14]}-{text[14:16]}"


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


_UNINSTALLED = frozenset({SMIStatus.PENDING, SMIStatus.WHITELISTED})
_ID, _STATUS, _STATUS_CHANGED_AT = 0, 3, 12


def premises_rows(count, *, suppliers, models, start_number, start_id, seed=1, now=None):
    """Yield device rows (tuples in DEVICE_COLUMNS order) for about ``count`` devices. Runs no
    query: on PostgreSQL it is consumed inside a COPY, when the connection can do nothing else.

    Tuples, not dicts, and choices looked up once per type: this loop is the Python half of
    every generated row (a million rows: a few seconds saved per microsecond)."""
    rng = random.Random(seed)
    now = now or timezone.now()
    number, pk, made = start_number, start_id, 0
    # Per device type: [(model pk, firmware versions)] (or [(None, ())] when no model).
    choices_by_type = {
        device_type: [(m.pk, tuple(m.firmware_versions)) for m in models.get(device_type, ())] or [(None, ())]
        for device_type in DeviceType.values
    }
    choice, randrange, timedelta = rng.choice, rng.randrange, dt.timedelta

    def row(device_type, supplier_pk, region, status, hub=None, mpxn=""):
        nonlocal number, pk, made
        model_pk, firmware_versions = choice(choices_by_type[device_type])
        firmware = choice(firmware_versions) if firmware_versions else ""
        installed = commissioned = None
        if status not in _UNINSTALLED:
            installed = now - timedelta(days=randrange(30, 900), minutes=randrange(1440))
            if status != SMIStatus.INSTALLED_NOT_COMMISSIONED:
                commissioned = installed + timedelta(minutes=randrange(5, 600))
        data = (pk, eui(number), device_type, status, supplier_pk, region, mpxn, hub, model_pk, firmware,
                installed, commissioned, commissioned or installed or now, now)
        number += 1
        pk += 1
        made += 1
        return data

    index = 0
    suppliers = [s.pk for s in suppliers]
    while made < count:
        supplier = suppliers[index % len(suppliers)]
        region = REGIONS[(index // len(suppliers)) % len(REGIONS)]
        index += 1
        status = choice(METER_STATUSES)
        hub_status = SMIStatus.COMMISSIONED if status != SMIStatus.PENDING else SMIStatus.WHITELISTED
        hub = row(DeviceType.CHF, supplier, region, hub_status)
        yield hub
        hub_pk = hub[_ID]
        yield row(DeviceType.GPF, supplier, region, hub_status, hub=hub_pk)
        esme = row(DeviceType.ESME, supplier, region, status, hub=hub_pk, mpxn=mpan(rng, region))
        yield esme
        if rng.random() < 0.7:
            yield row(DeviceType.GSME, supplier, region, choice(METER_STATUSES), hub=hub_pk,
                      mpxn=str(randrange(10**6, 10**10)))
        yield row(DeviceType.IHD, supplier, region, SMIStatus.NOT_APPLICABLE, hub=hub_pk)
        if rng.random() < 0.1:
            yield row(DeviceType.PPMID, supplier, region, SMIStatus.COMMISSIONED, hub=esme[_ID])


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


def _copy_text(rows):
    """COPY text-format lines for ``rows``, in blocks of about 1 MB. Every value is a number, a
    timestamp or a string this module made (hex ids, digits, choice values, firmware names from
    the products list): none holds a tab, newline or backslash, so no escaping is needed and
    the per-value adaptation of write_row (most of the client's time) is skipped."""
    block, size = [], 0
    for data in rows:
        line = "\t".join("\\N" if v is None else v if isinstance(v, str) else
                         v.isoformat(" ") if isinstance(v, dt.datetime) else str(v) for v in data) + "\n"
        block.append(line)
        size += len(line)
        if size >= 1 << 20:
            yield "".join(block).encode()
            block, size = [], 0
    if block:
        yield "".join(block).encode()


def _safe(rows):
    # Firmware versions come from the products list, typed by people: refuse (rather than
    # corrupt the COPY) a value the unescaped text format cannot carry.
    for data in rows:
        firmware = data[9]
        if "\t" in firmware or "\n" in firmware or "\\" in firmware or "\r" in firmware:
            raise ValueError(f"firmware version {firmware!r} holds a tab, newline or backslash")
        yield data


def _write_copy(rows, reason, first_id):
    """Devices by one COPY; their first status history rows by one INSERT ... SELECT over the
    id range just written (no second pass of Python over the rows)."""
    written = 0

    def counted(rows):
        nonlocal written
        for data in rows:
            written += 1
            yield data

    with connection.cursor() as wrapper:
        cursor = wrapper.cursor  # the psycopg 3 cursor under Django's wrapper
        with cursor.copy(f"COPY inventory_device ({', '.join(DEVICE_COLUMNS)}) FROM STDIN") as copy:
            for block in _copy_text(_safe(counted(rows))):
                copy.write(block)
        cursor.execute(
            "INSERT INTO inventory_devicestatuschange (device_id, from_status, to_status, reason, changed_at) "
            "SELECT id, '', status, %s, status_changed_at FROM inventory_device WHERE id >= %s AND id < %s "
            "ORDER BY id", [reason, first_id, first_id + written])
    return written


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
        devices.append(Device(**dict(zip(DEVICE_COLUMNS, data, strict=True))))
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
        return _write_copy(rows, reason, start_id)
    return _write_orm(rows, reason)
