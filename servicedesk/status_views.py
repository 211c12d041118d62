"""Pages of the service status part of the service desk: the status page (components, their
active alerts, a 90-day strip and the month's availability), service alerts, planned maintenance
(with its calendar feed), the self-service reports on screen and as CSV, the monthly report
deliveries and the forecasts behind the monthly transactions report.

Views parse, call a service (servicedesk.services) and render; who sees what is the models'
scope rules through portal.generic, and who may act is portal.access.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from itertools import islice
from typing import Any

import icalendar
from django import forms as django_forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import OuterRef, Prefetch, Q, Subquery
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from portal.access import may
from portal.errors import errors_to_form
from portal.generic import FORBIDDEN, ObjectDetailView, ObjectEditView, ObjectListView, session_or_token, view_of
from portal.scoping import get_scoped_or_404, scope
from portal.tabular import export_format
from servicedesk import reports, selectors, services
from servicedesk import status_forms as forms
from servicedesk.choices import ComponentStatus, MaintenanceStatus, ReportKind, colour
from servicedesk.clock import LONDON, london_midnight
from servicedesk.models import (
    ComponentStatusChange,
    DeskPolicy,
    Incident,
    Outage,
    PlannedMaintenance,
    SelfServiceReportDelivery,
    ServiceAlert,
    ServiceAlertUpdate,
    ServiceComponent,
    UsageForecast,
)

REPORTS = "servicedesk.report.read"  # service users their own; DCC any service user's (portal.access)
HISTORY_DAYS = 90
REPORT_PAGE_ROWS = 100

# The worse of two statuses a day held is the one its strip cell shows.
SEVERITY = {ComponentStatus.OPERATIONAL: 0, ComponentStatus.UNDER_MAINTENANCE: 1, ComponentStatus.DEGRADED: 2,
            ComponentStatus.PARTIAL_OUTAGE: 3, ComponentStatus.MAJOR_OUTAGE: 4}


def _badge(value: Any) -> dict[str, str]:
    return {"value": str(value), "colour": colour(value)}


# --- the status page -------------------------------------------------------------------------

@dataclass
class Day:
    date: dt.date
    status: str
    outage_minutes: int = 0
    maintenance: bool = False

    @property
    def colour(self) -> str:
        return colour(self.status)

    @property
    def title(self) -> str:
        text = f"{self.date:%a %d %b %Y}: {ComponentStatus(self.status).label}"
        if self.outage_minutes:
            text += f"; {self.outage_minutes} min unplanned outage"
        if self.maintenance:
            text += "; planned maintenance"
        return text


def _overlap_minutes(a: dt.datetime, b: dt.datetime, start: dt.datetime, end: dt.datetime) -> int:
    return max(0, int((min(b, end) - max(a, start)).total_seconds() // 60))


def status_history(components: list[ServiceComponent], *, now: dt.datetime,
                   days: int = HISTORY_DAYS) -> dict[int, list[Day]]:
    """Each component's last ``days`` London days, each the worst status it held that day (from
    its status changes), marked with unplanned outage minutes and agreed maintenance. Three
    queries whatever the number of components and days: the changes, the outages and the
    maintenance windows of the period (the status before it comes annotated on the components,
    ``status_before``)."""
    today = now.astimezone(LONDON).date()
    dates = [today - dt.timedelta(days=n) for n in range(days - 1, -1, -1)]
    start = london_midnight(dates[0])
    pks = [c.pk for c in components]
    changes: dict[int, list[tuple[dt.datetime, str, str]]] = {pk: [] for pk in pks}
    for pk, at, before, after in (ComponentStatusChange.objects.filter(component__in=pks, changed_at__gte=start)
                                  .order_by("changed_at", "id")
                                  .values_list("component_id", "changed_at", "from_status", "to_status")):
        changes[pk].append((at, before, after))
    outages: dict[int, list[tuple[dt.datetime, dt.datetime]]] = {pk: [] for pk in pks}
    for pk, a, b in (Outage.objects.filter(component__in=pks, started_at__lt=now)
                     .filter(Q(ended_at__isnull=True) | Q(ended_at__gt=start))
                     .values_list("component_id", "started_at", "ended_at")):
        outages[pk].append((a, b or now))
    windows: dict[int, list[tuple[dt.datetime, dt.datetime]]] = {pk: [] for pk in pks}
    through = PlannedMaintenance.components.through
    for pk, a, b in (through.objects.filter(
            servicecomponent_id__in=pks, plannedmaintenance__status__in=(MaintenanceStatus.APPROVED,
                                                                        MaintenanceStatus.ANNOUNCED),
            plannedmaintenance__start_at__lt=now, plannedmaintenance__end_at__gt=start)
            .values_list("servicecomponent_id", "plannedmaintenance__start_at", "plannedmaintenance__end_at")):
        windows[pk].append((a, b))

    history = {}
    for component in components:
        own = changes[component.pk]
        # The status at the start of the period: the last change before it, else what the first
        # change in it moved away from, else (no change ever) the current status.
        status = (getattr(component, "status_before", None) or (own[0][1] if own and own[0][1] else None)
                  or component.status)
        cells, pending = [], list(own)
        for date in dates:
            day_start, day_end = london_midnight(date), london_midnight(date + dt.timedelta(days=1))
            worst = status
            while pending and pending[0][0] < day_end:
                status = pending.pop(0)[2]
                if SEVERITY[ComponentStatus(status)] > SEVERITY[ComponentStatus(worst)]:
                    worst = status
            down = sum(_overlap_minutes(a, b, day_start, day_end) for a, b in outages[component.pk])
            if down and SEVERITY[ComponentStatus(worst)] < SEVERITY[ComponentStatus.MAJOR_OUTAGE]:
                worst = ComponentStatus.MAJOR_OUTAGE  # unplanned downtime the status did not show
            planned = any(a < day_end and b > day_start for a, b in windows[component.pk])
            if planned and worst == ComponentStatus.OPERATIONAL:
                worst = ComponentStatus.UNDER_MAINTENANCE
            cells.append(Day(date, str(worst), down, planned))
        history[component.pk] = cells
    return history


def _components_for_page(user: Any, now: dt.datetime) -> list[ServiceComponent]:
    start = london_midnight(now.astimezone(LONDON).date() - dt.timedelta(days=HISTORY_DAYS - 1))
    before = (ComponentStatusChange.objects.filter(component=OuterRef("pk"), changed_at__lt=start)
              .order_by("-changed_at", "-id").values("to_status")[:1])
    active = scope(user, ServiceAlert.objects.filter(closed_at__isnull=True)).order_by("-published_at", "-id")
    return list(scope(user, ServiceComponent.objects.filter(is_active=True)).annotate(status_before=Subquery(before))
                .prefetch_related(Prefetch("alerts", queryset=active, to_attr="active_alerts")))


@view_of(ServiceComponent, "servicedesk.servicecomponent.view")
def status_page(request):
    """Every logged-in person: each component's status, its active alerts, 90 days of history and
    this month's availability (planned maintenance excluded)."""
    now = timezone.now()
    components = _components_for_page(request.user, now)
    history = status_history(components, now=now)
    month = now.astimezone(LONDON).date().replace(day=1)
    availability = {a.component.pk: a for a in selectors.availability_month(month, now=now)}
    rows = [{"component": c, "badge": _badge(c.status), "alerts": c.active_alerts, "days": history[c.pk],
             "availability": availability.get(c.pk)} for c in components]
    upcoming = scope(request.user, PlannedMaintenance.objects.filter(
        status=MaintenanceStatus.ANNOUNCED, end_at__gt=now)).order_by("start_at")[:5]
    # htmx refreshes the board in place (every minute); a page load gets the whole page.
    template = "servicedesk/status_board.html" if request.htmx else "servicedesk/status.html"
    return render(request, template, {
        "rows": rows, "month": month, "upcoming": upcoming, "legend": [_badge(s) | {"label": s.label}
                                                                        for s in ComponentStatus],
        "days": HISTORY_DAYS, "can_change": may(request.user, "servicedesk.servicecomponent.change"),
        "status_form": forms.ComponentStatusForm(),
    })


class ComponentDetail(ObjectDetailView):
    """One component: its status changes, its outages (DCC records and ends them here)."""

    model = ServiceComponent
    capability = "servicedesk.servicecomponent.view"
    template_name = "servicedesk/status_component.html"

    def extra_context(self, component):
        user, now = self.request.user, timezone.now()
        month = now.astimezone(LONDON).date().replace(day=1)
        outages = list(scope(user, component.outages.all())[:50])
        # The incident an outage was recorded under is named only to those who may see it.
        visible = set(scope(user, Incident.objects.filter(pk__in={o.incident_id for o in outages if o.incident_id}))
                      .values_list("pk", "reference"))
        references = dict(visible)
        return {"badge": _badge(component.status),
                "changes": scope(user, component.status_changes.select_related("actor"))[:50],
                "outages": [(o, references.get(o.incident_id, "")) for o in outages],
                "availability": selectors.availability(component, month, now=now), "month": month,
                "status_form": forms.ComponentStatusForm(initial={"status": component.status}),
                "outage_form": forms.OutageForm(), "end_form": forms.OutageEndForm(initial={"ended_at": now})}


component_detail = ComponentDetail.as_view()


class ActionView(ObjectEditView):
    """A DCC action on one object (or a new one): a small form (GET shows it alone, the detail page
    shows it inline), a service call, back to the object's page.

    Declared by ``as_view(...)``: ``service`` (called as ``service(actor=person,
    <service_object>=obj, **form.cleaned_data)``), ``done`` (the flash message, formatted with the
    ``result``; none when empty), ``back(obj)`` (the object's page: the form's cancel link and
    where a success goes; default the object's own page) and ``ahead(result)`` (where a success
    goes when it is not ``back``)."""

    template_name = "servicedesk/status_action.html"
    invalid_status = 400
    title = ""
    done = ""
    back: Callable[[Any], str] | None = None
    ahead: Callable[[Any], str] | None = None

    def success_message(self, result, form):
        return self.done.format(result=result) or None

    def form_kwargs(self, obj):
        # A POST is bound even when empty: an approval's form is only its button.
        return {"data": self.request.POST if self.request.method == "POST" else None}

    def context(self, form, obj):
        return {"form": form, "object": obj, "title": self.title, "cancel": self.object_url(obj)}

    def object_url(self, obj):
        if self.back is not None:
            return self.back(obj)
        return obj.get_absolute_url() if hasattr(obj, "get_absolute_url") else reverse("servicedesk:status")

    def success_url(self, result, obj):
        return self.ahead(result) if self.ahead is not None else self.object_url(obj)


def _component_url(component):
    return component.get_absolute_url()


class ComponentSetStatus(ActionView):
    def success_message(self, result, form):
        return f"{result} is now {result.get_status_display().lower()}."

    def success_url(self, result, obj):
        # The status page's inline form comes back to the status page; the component's page to itself.
        if self.request.POST.get("next") == "status":
            return reverse("servicedesk:status")
        return super().success_url(result, obj)


component_set_status = ComponentSetStatus.as_view(
    model=ServiceComponent, capability="servicedesk.servicecomponent.change", form_class=forms.ComponentStatusForm,
    title="Change a component's status", service=services.component_set_status, service_object="component",
    back=_component_url)
outage_record = ActionView.as_view(
    model=ServiceComponent, capability="servicedesk.outage.add", form_class=forms.OutageForm, title="Record an outage",
    service=services.outage_record, service_object="component", done="Outage of {result.component} recorded.",
    back=_component_url)
outage_end = ActionView.as_view(
    model=Outage, capability="servicedesk.outage.change", form_class=forms.OutageEndForm, title="End an outage",
    service=services.outage_end, back=lambda outage: _component_url(outage.component))


# --- service alerts --------------------------------------------------------------------------

class AlertList(ObjectListView):
    model = ServiceAlert
    capability = "servicedesk.servicealert.view"
    filterset_class = forms.AlertFilterSet
    filterset_takes_request = False
    template_name = "servicedesk/alert_list.html"
    page_size = 50

    def get_queryset(self):
        return scope(self.request.user, ServiceAlert.objects.prefetch_related("components"))

    def extra_context(self, filterset):
        return {"can_publish": may(self.request.user, "servicedesk.servicealert.add")}


alert_list = AlertList.as_view()


class AlertDetail(ObjectDetailView):
    model = ServiceAlert
    capability = "servicedesk.servicealert.view"
    template_name = "servicedesk/alert_detail.html"
    context_object_name = "alert"

    def extra_context(self, alert):
        updates = scope(self.request.user, ServiceAlertUpdate.objects.filter(alert=alert).select_related("author"))
        maintenance = scope(self.request.user, PlannedMaintenance.objects.filter(alert=alert)).first()
        return {"updates": updates, "maintenance": maintenance, "components": alert.components.all(),
                "can_change": alert.is_active and may(self.request.user, "servicedesk.servicealert.change"),
                "update_form": forms.AlertUpdateForm(), "close_form": forms.AlertCloseForm()}


alert_detail = AlertDetail.as_view()


def _alert_url(alert):
    return alert.get_absolute_url()


alert_publish = ActionView.as_view(
    model=ServiceAlert, capability="servicedesk.servicealert.add", form_class=forms.AlertPublishForm,
    template_name="servicedesk/alert_form.html", title="Publish a service alert",
    service=services.service_alert_publish, done="Service alert {result.reference} published.",
    back=lambda _: reverse("servicedesk:alert_list"), ahead=_alert_url)
alert_update = ActionView.as_view(
    model=ServiceAlert, capability="servicedesk.servicealert.change", form_class=forms.AlertUpdateForm,
    title="Add an update", service=services.service_alert_update, service_object="alert", back=_alert_url)
alert_close = ActionView.as_view(
    model=ServiceAlert, capability="servicedesk.servicealert.change", form_class=forms.AlertCloseForm,
    title="Close the alert", service=services.service_alert_close, service_object="alert",
    done="{result.reference} closed.", back=_alert_url)


# --- planned maintenance ---------------------------------------------------------------------

class MaintenanceList(ObjectListView):
    """Announced maintenance for everyone; DCC also sees what is proposed, approved and cancelled."""

    model = PlannedMaintenance
    capability = "servicedesk.plannedmaintenance.view"
    filterset_class = forms.MaintenanceFilterSet
    filterset_takes_request = False
    template_name = "servicedesk/maintenance_list.html"
    page_size = 50

    def get_queryset(self):
        return scope(self.request.user, PlannedMaintenance.objects.prefetch_related("components")
                     .order_by("-start_at", "-id"))

    def extra_context(self, filterset):
        return {"can_schedule": may(self.request.user, "servicedesk.plannedmaintenance.add"),
                "feed_url": reverse("servicedesk:maintenance_feed")}


maintenance_list = MaintenanceList.as_view()


def _maintenance_url(maintenance):
    return maintenance.get_absolute_url()


class MaintenanceDetail(ObjectDetailView):
    model = PlannedMaintenance
    capability = "servicedesk.plannedmaintenance.view"
    template_name = "servicedesk/maintenance_detail.html"
    context_object_name = "maintenance"

    def extra_context(self, maintenance):
        user = self.request.user
        minimum = DeskPolicy.current().maintenance_notice_working_days
        proposed = maintenance.status == MaintenanceStatus.PROPOSED
        return {
            "badge": _badge(maintenance.status), "components": maintenance.components.all(),
            "start": maintenance.start_at.astimezone(LONDON), "end": maintenance.end_at.astimezone(LONDON),
            "minimum_notice": minimum, "short_notice": maintenance.notice_working_days < minimum,
            "alert": scope(user, ServiceAlert.objects.filter(pk=maintenance.alert_id)).first(),
            "can_approve": proposed and may(user, "servicedesk.plannedmaintenance.approve"),
            "can_announce": (maintenance.status == MaintenanceStatus.APPROVED
                             and may(user, "servicedesk.plannedmaintenance.change")),
            "can_cancel": (maintenance.status != MaintenanceStatus.CANCELLED
                           and may(user, "servicedesk.plannedmaintenance.change")),
            "cancel_form": forms.MaintenanceCancelForm(),
        }


maintenance_detail = MaintenanceDetail.as_view()

class MaintenanceSchedule(ActionView):
    def context(self, form, obj):
        return {**super().context(form, obj),
                "minimum_notice": DeskPolicy.current().maintenance_notice_working_days}


maintenance_schedule = MaintenanceSchedule.as_view(
    model=PlannedMaintenance, capability="servicedesk.plannedmaintenance.add", form_class=forms.MaintenanceScheduleForm,
    template_name="servicedesk/maintenance_form.html", title="Schedule planned maintenance",
    service=services.maintenance_schedule,
    done="{result.reference} scheduled ({result.notice_working_days} working days' notice): it awaits approval.",
    back=lambda _: reverse("servicedesk:maintenance_list"), ahead=_maintenance_url)


class _Confirm(django_forms.Form):
    """An approval or announcement asks nothing but the button."""


def _approve(*, actor, maintenance):
    try:
        return services.maintenance_approve(actor=actor, maintenance=maintenance)
    except PermissionDenied as exc:
        # The second person rule: the page says it, rather than a bare 403.
        raise ValidationError(str(exc)) from None


maintenance_approve = ActionView.as_view(
    model=PlannedMaintenance, capability="servicedesk.plannedmaintenance.approve", form_class=_Confirm,
    title="Approve planned maintenance", service=_approve, service_object="maintenance",
    done="{result.reference} approved.", back=_maintenance_url)
maintenance_announce = ActionView.as_view(
    model=PlannedMaintenance, capability="servicedesk.plannedmaintenance.change", form_class=_Confirm,
    title="Announce planned maintenance", service=services.maintenance_announce, service_object="maintenance",
    done="{result.reference} announced as service alert {result.alert.reference}.", back=_maintenance_url)
maintenance_cancel = ActionView.as_view(
    model=PlannedMaintenance, capability="servicedesk.plannedmaintenance.change",
    form_class=forms.MaintenanceCancelForm, title="Cancel planned maintenance", service=services.maintenance_cancel,
    service_object="maintenance", done="{result.reference} cancelled.", back=_maintenance_url)


def _site_host() -> str:
    return settings.SITE_URL.split("://", 1)[-1].split("/", 1)[0]


def maintenance_calendar(windows) -> bytes:
    """An RFC 5545 calendar of maintenance windows (escaping, folding and VTIMEZONE by the
    icalendar library, as the meeting feeds)."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//DCC operations portal//planned maintenance//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", "DCC planned maintenance")
    for maintenance in windows:
        event = icalendar.Event()
        event.add("uid", f"maintenance-{maintenance.reference}@{_site_host()}")
        event.add("summary", f"{maintenance.reference} {maintenance.title}")
        # London wall-clock times with their TZID: right on both sides of a clock change.
        event.add("dtstart", maintenance.start_at.astimezone(LONDON))
        event.add("dtend", maintenance.end_at.astimezone(LONDON))
        event.add("dtstamp", timezone.now())
        parts = ", ".join(c.name for c in maintenance.components.all())
        regions = ", ".join(maintenance.regions) or "national"
        event.add("description", f"{maintenance.description}\n\nComponents: {parts}\nRegions: {regions}")
        event.add("url", f"{settings.SITE_URL}{_maintenance_url(maintenance)}")
        event.add("categories", ["Planned maintenance"])
        calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical()


@view_of(PlannedMaintenance, "servicedesk.plannedmaintenance.view", authenticate=session_or_token)
def maintenance_feed(request):
    """Subscribable calendar of announced maintenance (session or ``?token=``)."""
    windows = (scope(request.user, PlannedMaintenance.objects.filter(status=MaintenanceStatus.ANNOUNCED))
               .prefetch_related("components").order_by("start_at"))
    response = HttpResponse(maintenance_calendar(windows), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="dcc-planned-maintenance.ics"'
    return response


# --- self-service reports --------------------------------------------------------------------

@dataclass(frozen=True)
class ReportPage:
    kind: ReportKind
    slug: str
    form: type[forms.ReportFilterForm]
    description: str

    @property
    def url_name(self) -> str:
        return f"report_{self.slug}"


REPORT_PAGES = (
    ReportPage(ReportKind.RSMI_001, "installation-status", forms.InstallationStatusForm,
               "Every smart meter: type, id, model and firmware, SMI status and its date, MPAN/MPRN and hub."),
    ReportPage(ReportKind.RSMI_002, "firmware", forms.DeviceCountsForm,
               "Devices counted by type, model, firmware version and SMI status."),
    ReportPage(ReportKind.RSMI_003, "models", forms.DeviceCountsForm,
               "Devices counted by type, model and SMI status."),
    ReportPage(ReportKind.RSMI_004, "hubs", forms.HubsForm,
               "Each communications hub and the devices joined to it."),
    ReportPage(ReportKind.RSAT_001, "monthly-transactions", forms.MonthlyTransactionsForm,
               "Service requests of a month in total and by SRV, against the forecasts."),
    ReportPage(ReportKind.RSAT_002, "device-transactions", forms.DeviceTransactionsForm,
               "Every request to one device and every alert from it over a period, with outcomes."),
)


@view_of(None, REPORTS, refused=FORBIDDEN)
def report_index(request):
    return render(request, "servicedesk/report_index.html", {
        "pages": REPORT_PAGES,
        "can_forecast": may(request.user, "servicedesk.usageforecast.view"),
        "can_deliveries": may(request.user, "servicedesk.selfservicereportdelivery.view")})


def _build(page: ReportPage, form: forms.ReportFilterForm, source: reports.Source) -> reports.Report:
    arguments = form.arguments()
    if page.kind == ReportKind.RSMI_001:
        return reports.installation_status(source, **arguments)
    if page.kind == ReportKind.RSMI_002:
        return reports.by_firmware(source, **arguments)
    if page.kind == ReportKind.RSMI_003:
        return reports.by_model(source, **arguments)
    if page.kind == ReportKind.RSMI_004:
        return reports.hubs(source, **arguments)
    if page.kind == ReportKind.RSAT_001:
        return reports.monthly_transactions(source, **arguments)
    device_id = form.cleaned_data.get("device")
    # Through the report's scope: another organisation's device is as unknown as one that does not exist.
    device = source.devices.filter(device_id=device_id).first()
    if device is None:
        form.add_error("device", f"{device_id} is not one of {source.organisation.name}'s devices.")
        raise ValidationError("device")
    start, end = form.period()
    return reports.device_transactions(source, device=device, start=start, end=end)


def report_view(page: ReportPage):
    """The page of one report: its filters, a page of rows on screen, the whole as a streamed CSV
    (``?export=csv``)."""

    @view_of(None, REPORTS, refused=FORBIDDEN)
    def view(request):
        user = request.user
        # Bound even without a query: every filter is optional, so the first visit reads the defaults.
        form = page.form(request.GET, user=user)
        context: dict[str, Any] = {"page": page, "form": form, "pages": REPORT_PAGES}
        if not form.is_valid():
            return render(request, "servicedesk/report_page.html", context, status=400)
        organisation = form.cleaned_data.get("organisation") if user.is_dcc else None
        needs_input = page.kind == ReportKind.RSAT_002 and not form.cleaned_data.get("device")
        if (user.is_dcc and organisation is None) or needs_input:
            context["choose"] = True
            return render(request, "servicedesk/report_page.html", context)
        source = reports.report_scope(user, organisation)
        try:
            report = _build(page, form, source)
        except ValidationError:
            return render(request, "servicedesk/report_page.html", context, status=400)
        if export_format(request.GET.get("export"), ("csv",)):
            return report.response(source.organisation)
        try:
            number = max(1, int(request.GET.get("page", 1)))
        except ValueError:
            number = 1
        offset = (number - 1) * REPORT_PAGE_ROWS
        # One row more than the page tells whether there is a next one, without counting the report.
        rows = list(islice(iter(report.rows), offset, offset + REPORT_PAGE_ROWS + 1))
        query = request.GET.copy()
        query.pop("page", None)
        query.pop("export", None)
        context.update({"report": report, "rows": rows[:REPORT_PAGE_ROWS], "organisation": source.organisation,
                        "number": number, "has_next": len(rows) > REPORT_PAGE_ROWS,
                        "query": query.urlencode(), "first_row": offset + 1})
        return render(request, "servicedesk/report_page.html", context)

    view.__name__ = view.__qualname__ = f"report_{page.kind.value.lower()}"
    return view


REPORT_VIEWS = {page.slug: report_view(page) for page in REPORT_PAGES}


# --- monthly deliveries ----------------------------------------------------------------------

class DeliveryList(ObjectListView):
    """The monthly self-service reports of the person's organisation (DCC: every organisation's)."""

    model = SelfServiceReportDelivery
    capability = "servicedesk.selfservicereportdelivery.view"
    template_name = "servicedesk/delivery_list.html"
    page_size = 60

    def get_queryset(self):
        return scope(self.request.user, SelfServiceReportDelivery.objects.select_related("organisation"))


delivery_list = DeliveryList.as_view()


@view_of(SelfServiceReportDelivery, "servicedesk.selfservicereportdelivery.view")
def delivery_download(request, pk):
    delivery = get_scoped_or_404(request.user, SelfServiceReportDelivery, pk=pk)
    if not delivery.file:
        raise Http404("This report has not been delivered yet.")
    name = delivery.file.name.rsplit("/", 1)[-1]
    return FileResponse(delivery.file.open("rb"), as_attachment=True, filename=name, content_type="text/csv")


# --- forecasts -------------------------------------------------------------------------------

def _variants_for(organisation):
    from adapter.models import ServiceRequestVariant

    roles = set(organisation.duis_roles or [])
    return [v for v in ServiceRequestVariant.objects.order_by("sort_order", "code")
            if not v.roles or not roles or roles & set(v.roles)]


@view_of(UsageForecast, "servicedesk.usageforecast.view")
def forecast_page(request):
    """A service user's monthly forecast per SRV (DCC enters them for a service user it names).
    Every number is checked before any is written, and all are written in one transaction."""
    user = request.user
    chooser = forms.ForecastMonthForm(request.GET or None, user=user)
    if request.GET and not chooser.is_valid():
        return render(request, "servicedesk/forecast_page.html", {"chooser": chooser}, status=400)
    chosen = chooser.cleaned_data if chooser.is_bound else {}
    month = (chosen.get("month") or forms.this_month()).replace(day=1)
    organisation = chosen.get("organisation") if user.is_dcc else user.organisation
    if organisation is None:
        return render(request, "servicedesk/forecast_page.html", {"chooser": chooser, "choose": True})
    variants = _variants_for(organisation)
    current = dict(scope(user, UsageForecast.objects.filter(organisation=organisation, month=month))
                   .values_list("srv_id", "forecast"))
    form = forms.ForecastForm(request.POST or None, variants=variants, current=current)
    can_set = may(user, "servicedesk.usageforecast.add", organisation=organisation)
    if request.method == "POST":
        if not can_set:
            raise PermissionDenied("You may not set this organisation's forecasts.")
        if form.is_valid():
            try:
                with transaction.atomic():
                    changed = 0
                    for variant, value in form.values():
                        if current.get(variant.pk) != value:
                            services.forecast_set(actor=user, organisation=organisation, month=month, srv=variant,
                                                  forecast=value)
                            changed += 1
            except ValidationError as exc:
                errors_to_form(form, exc)
            else:
                messages.success(request, f"{changed} forecast{'s' if changed != 1 else ''} saved for "
                                          f"{month:%B %Y}.")
                return redirect(f"{request.path}?{request.GET.urlencode()}")
    rsat = next(p for p in REPORT_PAGES if p.kind == ReportKind.RSAT_001)
    report_query = f"month={month:%Y-%m}" + (f"&organisation={organisation.code}" if user.is_dcc else "")
    return render(request, "servicedesk/forecast_page.html", {
        "chooser": chooser, "form": form, "month": month, "organisation": organisation, "can_set": can_set,
        "report_url": f"{reverse('servicedesk:' + rsat.url_name)}?{report_query}",
    }, status=400 if form.errors else 200)

