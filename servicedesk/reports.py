"""The self-service reports of DCC's SSI Reporting Specification, over one service user's own
data, as selectors: each returns a ``Report`` (headers and rows, rows as tuples) that a page shows
with its filters and ``csv`` turns into a file through portal.tabular.

Who may read which organisation's reports is decided once (``report_scope``): a service user
its own, DCC any organisation it names, nobody else any; the rows come from querysets that pass
``portal.scoping.scope`` for that person. The monthly delivery task reads them for the
organisation itself (``for_organisation``).

They read indexes, never whole tables: the device reports scan one supplier's slice of the
register (inv_device_supplier_id, inv_device_supplier_report: index-only for the counts), the
monthly transactions count one organisation-month of the request index that carries the SRV
(adapter_sr_org_received), and one device's transactions read that device's index range.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Count, QuerySet
from django.db.models.functions import TruncDate
from django.http import StreamingHttpResponse

from adapter.models import Alert, ServiceRequest, ServiceRequestVariant
from inventory.choices import HUB_TYPES, METER_TYPES
from inventory.models import Device, DeviceModel
from portal.models import Organisation
from portal.scoping import VIEW, scope
from portal.tabular import FORMULA_START, neutralise
from servicedesk.choices import ReportKind
from servicedesk.clock import LONDON
from servicedesk.models import UsageForecast
from servicedesk.selectors import month_bounds


@dataclass(frozen=True)
class Section:
    """A further table of a report (RSAT_001's service metrics): on screen below the main one, in
    the CSV after it, past an empty line and a line with its title."""

    title: str
    headers: tuple[str, ...]
    rows: list[tuple]


@dataclass
class Report:
    kind: str
    title: str
    headers: tuple[str, ...]
    rows: Iterable[tuple]
    filters: dict[str, Any] = field(default_factory=dict)
    sections: tuple[Section, ...] = ()

    def csv_chunks(self, rows_per_chunk: int = 2000) -> Iterator[bytes]:
        """The report as CSV, a chunk of rows at a time (a download streams it, never holding a
        large report in memory): UTF-8 with a BOM, cells as portal.tabular writes them, text that
        looks like a formula neutralised, then each further section past an empty line and a
        line with its title. Written by the csv module straight from the rows: building a tablib
        Dataset first took two thirds of the time of a large RSMI_001 (bench/README.md)."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        out.write("\ufeff")

        def flush() -> bytes:
            text = out.getvalue()
            out.seek(0)
            out.truncate()
            return text.encode("utf-8")

        for title, headers, rows in ((None, self.headers, self.rows),
                                     *((s.title, s.headers, s.rows) for s in self.sections)):
            if title is not None:
                writer.writerow(())
                writer.writerow((title,))
            writer.writerow(headers)
            for chunk in _chunked(rows, rows_per_chunk):
                writer.writerows([_cell(value) for value in row] for row in chunk)
                yield flush()
        yield flush()

    def csv(self) -> bytes:
        """The whole CSV at once (the monthly delivery keeps it as a file)."""
        return b"".join(self.csv_chunks())

    def response(self, organisation: Organisation) -> StreamingHttpResponse:
        """The CSV as a streamed download named after the report, its organisation and filters."""
        response = StreamingHttpResponse(self.csv_chunks(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{self.filename(organisation)}.csv"'
        return response

    def filename(self, organisation: Organisation) -> str:
        suffix = "_".join(str(v) for v in self.filters.values() if v not in (None, ""))
        return f"{self.kind}_{organisation.code}" + (f"_{suffix}" if suffix else "")


@dataclass(frozen=True)
class Source:
    """The querysets a report reads, already narrowed to one organisation (and a person's scope)."""

    organisation: Organisation
    devices: QuerySet[Device]
    requests: QuerySet[ServiceRequest]
    alerts: QuerySet[Alert]
    forecasts: QuerySet[UsageForecast]


def report_scope(user: Any, organisation: Organisation | None = None) -> Source:
    """The report source for ``user``: its own organisation, or (DCC) the one it names."""
    if user is None or not user.is_authenticated:
        raise PermissionDenied("Log in to read reports.")
    if user.is_dcc:
        if organisation is None:
            raise PermissionDenied("Name the service user whose report DCC reads.")
    elif user.is_service_user and user.organisation_id is not None:
        if organisation is not None and organisation.pk != user.organisation_id:
            raise PermissionDenied("A service user reads its own organisation's reports.")
        organisation = user.organisation
    else:
        raise PermissionDenied("Self-service reports are for service users and DCC.")
    return Source(organisation=organisation,
                  devices=scope(user, Device.objects.filter(supplier=organisation), VIEW),
                  requests=scope(user, ServiceRequest.objects.filter(organisation=organisation), VIEW),
                  alerts=scope(user, Alert.objects.filter(organisation=organisation), VIEW),
                  forecasts=scope(user, UsageForecast.objects.filter(organisation=organisation), VIEW))


def for_organisation(organisation: Organisation) -> Source:
    """The report source of the monthly delivery: the organisation's own records, read by the
    task on its behalf (what it would see itself)."""
    return Source(organisation=organisation, devices=Device.objects.filter(supplier=organisation),
                  requests=ServiceRequest.objects.filter(organisation=organisation),
                  alerts=Alert.objects.filter(organisation=organisation),
                  forecasts=UsageForecast.objects.filter(organisation=organisation))


def _cell(value: Any) -> Any:
    """A CSV cell as portal.tabular.export_bytes writes it."""
    if value.__class__ is str:  # most cells: neutralise() inlined, it is called for every cell
        return "'" + value if value.startswith(FORMULA_START) else value
    if value is None:
        return ""
    if isinstance(value, (int, float, Decimal)):
        return value
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return neutralise(str(value))


def _time(value: dt.datetime | None) -> str:
    return value.astimezone(LONDON).isoformat(timespec="seconds") if value else ""


def _chunked(rows: Iterable[tuple], size: int) -> Iterable[list[tuple]]:
    chunk: list[tuple] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _models() -> dict[int, DeviceModel]:
    return {m.pk: m for m in DeviceModel.objects.all()}  # the products list: hundreds of rows


# --- RSMI_001 installation status of smart meters --------------------------------------------

def installation_status(source: Source, *, status: str = "", device_type: str = "", region: str = "") -> Report:
    """RSMI_001: every smart meter of the organisation with its type, id, model (and firmware),
    SMI status and the date it took it, MPAN/MPRN and its hub."""
    devices = source.devices.filter(device_type__in=METER_TYPES)
    if status:
        devices = devices.filter(status=status)
    if device_type:
        devices = devices.filter(device_type=device_type)
    if region:
        devices = devices.filter(region=region)
    models = _models()
    # The London date of the status change is the database's to work out: parsing a timestamp
    # per row and converting it to London time was a fifth of a large report's Python time.
    rows = devices.order_by("id").values_list(
        "device_type", "device_id", "model_id", "firmware_version", "status",
        TruncDate("status_changed_at", tzinfo=LONDON), "mpxn", "hub_id", "region")

    def generate() -> Iterator[tuple[Any, ...]]:
        # Hub ids are looked up a chunk at a time by primary key: joining the register to itself
        # made PostgreSQL hash every device of every supplier for one supplier's report. Only the
        # organisation's own hubs are named: another supplier's hub id is that supplier's (a meter
        # joined to it shows an empty hub_id, as in the device register).
        for chunk in _chunked(rows.iterator(2000), 2000):
            hub_ids = dict(source.devices.filter(pk__in={row[7] for row in chunk if row[7]})
                           .values_list("pk", "device_id"))
            for device_type_, device_id, model_id, firmware, status_, changed, mpxn, hub, region_ in chunk:
                model = models.get(model_id)
                yield (device_type_, device_id, model.manufacturer_id if model else "",
                       model.model_id if model else "", firmware, status_, changed or "", mpxn,
                       hub_ids.get(hub, ""), region_)

    return Report(ReportKind.RSMI_001, ReportKind.RSMI_001.label,
                  ("device_type", "device_id", "manufacturer", "model", "firmware_version", "smi_status",
                   "status_date", "mpxn", "hub_id", "region"),
                  generate(), {"status": status, "device_type": device_type, "region": region})


# --- RSMI_002 / RSMI_003 counts by status -----------------------------------------------------

def _counts(source: Source, group: tuple[str, ...], device_type: str) -> list[dict[str, Any]]:
    devices = source.devices
    if device_type:
        devices = devices.filter(device_type=device_type)
    # Count("*") and only indexed columns: an index-only scan of inv_device_supplier_report.
    return list(devices.order_by().values(*group).annotate(devices=Count("*")))


def by_firmware(source: Source, *, device_type: str = "") -> Report:
    """RSMI_002: the organisation's devices counted by type, model, firmware version and status."""
    models = _models()
    rows = []
    for row in _counts(source, ("device_type", "model_id", "firmware_version", "status"), device_type):
        model = models.get(row["model_id"])
        rows.append((row["device_type"], model.manufacturer_id if model else "", model.model_id if model else "",
                     row["firmware_version"], row["status"], row["devices"]))
    rows.sort(key=lambda r: tuple(str(v) for v in r[:5]))
    return Report(ReportKind.RSMI_002, ReportKind.RSMI_002.label,
                  ("device_type", "manufacturer", "model", "firmware_version", "smi_status", "devices"),
                  rows, {"device_type": device_type})


def by_model(source: Source, *, device_type: str = "") -> Report:
    """RSMI_003: the organisation's devices counted by type, model and status."""
    models = _models()
    rows = []
    for row in _counts(source, ("device_type", "model_id", "status"), device_type):
        model = models.get(row["model_id"])
        rows.append((row["device_type"], model.manufacturer_id if model else "", model.model_id if model else "",
                     row["status"], row["devices"]))
    rows.sort(key=lambda r: tuple(str(v) for v in r[:4]))
    return Report(ReportKind.RSMI_003, ReportKind.RSMI_003.label,
                  ("device_type", "manufacturer", "model", "smi_status", "devices"), rows,
                  {"device_type": device_type})


# --- RSMI_004 communications hubs ------------------------------------------------------------

def hubs(source: Source, *, region: str = "") -> Report:
    """RSMI_004: each communications hub of the organisation and the devices joined to it (one
    row per joined device; a hub with none has one row with empty device columns). Devices of
    other organisations on the same hub are not this organisation's to see."""
    hubs_of = source.devices.filter(device_type__in=HUB_TYPES)
    if region:
        hubs_of = hubs_of.filter(region=region)
    hub_rows = hubs_of.order_by("id").values_list("id", "device_id", "status", "region")
    members_of = source.devices.filter(hub__supplier=source.organisation, hub__device_type__in=HUB_TYPES)
    if region:
        members_of = members_of.filter(hub__region=region)
    joined = members_of.order_by("hub_id", "id").values_list("hub_id", "device_id", "device_type", "status")

    def generate() -> Iterator[tuple[Any, ...]]:
        members = iter(joined.iterator(2000))
        pending = next(members, None)
        for hub_pk, hub_id, hub_status, hub_region in hub_rows.iterator(2000):
            while pending is not None and pending[0] < hub_pk:
                pending = next(members, None)  # joined to a hub outside the filter
            found = False
            while pending is not None and pending[0] == hub_pk:
                found = True
                yield (hub_id, hub_status, hub_region, pending[1], pending[2], pending[3])
                pending = next(members, None)
            if not found:
                yield (hub_id, hub_status, hub_region, "", "", "")

    return Report(ReportKind.RSMI_004, ReportKind.RSMI_004.label,
                  ("hub_id", "hub_status", "region", "device_id", "device_type", "smi_status"), generate(),
                  {"region": region})


# --- RSAT_001 monthly transactions -----------------------------------------------------------

# SEC H3.24 puts each monthly service metric against its threshold beside the month's requests.
# The metrics are slas's, and slas stands above the service desk (it may import servicedesk, not
# the other way), so slas registers the section's maker here (slas/reports.py, in ready()).
MetricsSection = Callable[[Organisation, dt.date], Section]
_METRIC_SECTIONS: list[MetricsSection] = []


def register_metrics_section(maker: MetricsSection) -> MetricsSection:
    """Add a maker of a further RSAT_001 table, called with the organisation and the month."""
    if maker not in _METRIC_SECTIONS:
        _METRIC_SECTIONS.append(maker)
    return maker


def monthly_transactions(source: Source, *, month: dt.date) -> Report:
    """RSAT_001 (SEC H3.24): the organisation's service requests received in the London month,
    in total and by SRV, against its own forecast (an SRV forecast but not sent shows 0)."""
    month = month.replace(day=1)
    start, end = month_bounds(month)
    counts = dict(source.requests.filter(received_at__gte=start, received_at__lt=end).order_by()
                  .values_list("srv_id").annotate(n=Count("*")))
    forecasts = dict(source.forecasts.filter(month=month).values_list("srv_id", "forecast"))
    variants = {v.pk: v for v in ServiceRequestVariant.objects.filter(pk__in=set(counts) | set(forecasts))}
    rows = []
    for pk in sorted(variants, key=lambda pk: (variants[pk].sort_order, variants[pk].code)):
        actual, forecast = counts.get(pk, 0), forecasts.get(pk)
        rows.append((variants[pk].code, variants[pk].name, actual, "" if forecast is None else forecast,
                     "" if forecast is None else actual - forecast, _percent(actual, forecast)))
    total, total_forecast = sum(counts.values()), sum(forecasts.values()) if forecasts else None
    rows.append(("TOTAL", "All service requests", total, "" if total_forecast is None else total_forecast,
                 "" if total_forecast is None else total - total_forecast, _percent(total, total_forecast)))
    return Report(ReportKind.RSAT_001, ReportKind.RSAT_001.label,
                  ("srv", "name", "requests", "forecast", "difference", "percent_of_forecast"), rows,
                  {"month": f"{month:%Y-%m}"},
                  sections=tuple(maker(source.organisation, month) for maker in _METRIC_SECTIONS))


def _percent(actual: int, forecast: int | None) -> str:
    if not forecast:
        return ""
    return f"{actual * 100 / forecast:.1f}"


# --- RSAT_002 one device's transactions ------------------------------------------------------

def device_transactions(source: Source, *, device: Device, start: dt.datetime, end: dt.datetime) -> Report:
    """RSAT_002: every service request the organisation sent to one of its devices, and every
    alert from it, received in [start, end), with outcomes, oldest first."""
    if not source.devices.filter(pk=device.pk).exists():
        raise PermissionDenied("That device is not one of this organisation's.")
    requests = (source.requests.filter(device=device, received_at__gte=start, received_at__lt=end)
                .values_list("received_at", "request_id", "srv__code", "state", "outcome", "responded_at"))
    alerts = (source.alerts.filter(device=device, raised_at__gte=start, raised_at__lt=end)
              .values_list("raised_at", "alert_id", "alert_code", "delivered_at"))
    rows = [(_time(at), "request", request_id, srv, state, outcome, _time(responded))
            for at, request_id, srv, state, outcome, responded in requests]
    rows += [(_time(at), "alert", alert_id, code, "delivered" if delivered else "pending", "", _time(delivered))
             for at, alert_id, code, delivered in alerts]
    rows.sort()
    return Report(ReportKind.RSAT_002, ReportKind.RSAT_002.label,
                  ("at", "kind", "id", "srv_or_alert_code", "state", "outcome", "completed_at"), rows,
                  {"device": device.device_id, "from": f"{start.astimezone(LONDON):%Y-%m-%d}",
                   "to": f"{end.astimezone(LONDON):%Y-%m-%d}"})


# The reports delivered monthly, by kind: each takes the source and the month.
MONTHLY = {
    ReportKind.RSMI_001: lambda source, month: installation_status(source),
    ReportKind.RSMI_002: lambda source, month: by_firmware(source),
    ReportKind.RSMI_003: lambda source, month: by_model(source),
    ReportKind.RSMI_004: lambda source, month: hubs(source),
    ReportKind.RSAT_001: lambda source, month: monthly_transactions(source, month=month),
}
