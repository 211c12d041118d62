"""Forms of the service status pages: component status and outages, service alerts, planned
maintenance, the self-service reports' filters and the forecasts. They only parse (times are
London wall-clock times, the portal's time zone, stored in UTC); the writes and every rule of
the record are servicedesk.services."""
from __future__ import annotations

import datetime as dt

import django_filters
from django import forms
from django.utils import timezone

from inventory.choices import METER_TYPES, DeviceType, SMIStatus
from portal.choices import OrganisationKind, Region
from portal.forms import LOCAL_DATETIME, WindowForm
from portal.ids import normalise_eui64
from portal.models import Organisation
from portal.scoping import scope
from servicedesk.choices import ComponentStatus, MaintenanceStatus
from servicedesk.clock import LONDON
from servicedesk.models import Incident, PlannedMaintenance, ServiceAlert, ServiceComponent

REGIONS = forms.MultipleChoiceField(choices=Region.choices, required=False, widget=forms.CheckboxSelectMultiple,
                                    help_text="None ticked: national")


def _components() -> forms.ModelMultipleChoiceField:
    return forms.ModelMultipleChoiceField(queryset=ServiceComponent.objects.filter(is_active=True),
                                          widget=forms.CheckboxSelectMultiple)


def _local(field_label: str, required: bool = True) -> forms.DateTimeField:
    return forms.DateTimeField(label=f"{field_label} (UK time)", widget=LOCAL_DATETIME, required=required)


# --- component status and outages ------------------------------------------------------------

class ComponentStatusForm(forms.Form):
    status = forms.ChoiceField(choices=ComponentStatus.choices)
    reason = forms.CharField(max_length=300, required=False)


class OutageForm(forms.Form):
    started_at = _local("Down from")
    ended_at = _local("Back at", required=False)
    incident = forms.CharField(max_length=12, required=False, label="Incident reference",
                               help_text="e.g. INC000123: the incident the outage is recorded under")
    description = forms.CharField(max_length=300, required=False)

    def clean_incident(self) -> Incident | None:
        reference = self.cleaned_data["incident"].strip().upper()
        if not reference:
            return None
        incident = Incident.objects.filter(reference=reference).first()
        if incident is None:
            raise forms.ValidationError(f"There is no incident {reference}.")
        return incident


class OutageEndForm(forms.Form):
    ended_at = _local("Back at")


# --- service alerts --------------------------------------------------------------------------

class AlertFilterSet(django_filters.FilterSet):
    """Active alerts by default; closed ones, or all, on request."""

    state = django_filters.ChoiceFilter(choices=[("active", "Active"), ("closed", "Closed"), ("all", "All")],
                                        method="filter_state", empty_label=None)

    class Meta:
        model = ServiceAlert
        fields: list[str] = []

    def __init__(self, data=None, *args, **kwargs):
        data = data.copy() if data is not None else {}
        data.setdefault("state", "active")
        super().__init__(data, *args, **kwargs)

    def filter_state(self, queryset, name, value):
        if value == "active":
            return queryset.filter(closed_at__isnull=True)
        if value == "closed":
            return queryset.filter(closed_at__isnull=False)
        return queryset


class AlertPublishForm(forms.Form):
    title = forms.CharField(max_length=200)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}))
    components = _components()
    regions = REGIONS
    expected_resolution_at = _local("Expected resolution", required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["components"].required = False


class AlertUpdateForm(forms.Form):
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), label="Update")
    expected_resolution_at = _local("New expected resolution", required=False)


class AlertCloseForm(forms.Form):
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False, label="Closing word")


# --- planned maintenance ---------------------------------------------------------------------

class MaintenanceFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=MaintenanceStatus.choices)
    upcoming = django_filters.BooleanFilter(method="filter_upcoming", label="Not yet over")

    class Meta:
        model = PlannedMaintenance
        fields: list[str] = []

    def filter_upcoming(self, queryset, name, value):
        if value is None:
            return queryset
        now = timezone.now()
        return queryset.filter(end_at__gt=now) if value else queryset.filter(end_at__lte=now)


class MaintenanceScheduleForm(WindowForm):
    """The window in UK time; notice shorter than the desk policy's minimum needs a reason (the
    service counts the working days and says how many)."""

    title = forms.CharField(max_length=200)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}))
    start_at = _local("Starts")
    end_at = _local("Ends")
    components = _components()
    regions = REGIONS
    window = ("start_at", "end_at")
    short_notice_reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False,
                                          label="Reason for short notice",
                                          help_text="Needed when the notice is shorter than the minimum")


class MaintenanceCancelForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)


# --- self-service reports --------------------------------------------------------------------

def _service_users() -> forms.ModelChoiceField:
    return forms.ModelChoiceField(
        queryset=Organisation.objects.filter(kind=OrganisationKind.SERVICE_USER).order_by("name"),
        to_field_name="code", required=False, empty_label="Choose a service user",
        help_text="DCC reads the report of the service user it names")


class ReportFilterForm(forms.Form):
    """Filters of a report page (GET). DCC also names the organisation; anyone else reads their
    own organisation's, and the field is not offered."""

    organisation = _service_users()
    FILTERS: tuple[str, ...] = ()

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        if user is None or not user.is_dcc:
            del self.fields["organisation"]
        else:
            self.fields["organisation"].queryset = scope(user, self.fields["organisation"].queryset)
        for name, field in self.fields.items():
            if name != "organisation":
                field.required = False

    def arguments(self) -> dict:
        """The filters as keyword arguments of the report function."""
        return {name: self.cleaned_data.get(name) or "" for name in self.FILTERS}


def _choices(values, everything: str) -> list[tuple[str, str]]:
    return [("", everything), *values]


class InstallationStatusForm(ReportFilterForm):
    status = forms.ChoiceField(choices=_choices(SMIStatus.choices, "Every status"), label="SMI status")
    device_type = forms.ChoiceField(choices=_choices([c for c in DeviceType.choices if c[0] in METER_TYPES],
                                                     "Every meter type"))
    region = forms.ChoiceField(choices=_choices(Region.choices, "Every region"))
    FILTERS = ("status", "device_type", "region")


class DeviceCountsForm(ReportFilterForm):
    device_type = forms.ChoiceField(choices=_choices(DeviceType.choices, "Every device type"))
    FILTERS = ("device_type",)


class HubsForm(ReportFilterForm):
    region = forms.ChoiceField(choices=_choices(Region.choices, "Every region"))
    FILTERS = ("region",)


def _month_field() -> forms.DateField:
    return forms.DateField(input_formats=["%Y-%m"], widget=forms.DateInput(attrs={"type": "month"}, format="%Y-%m"),
                           help_text="YYYY-MM")


def this_month() -> dt.date:
    return timezone.localdate().replace(day=1)


class MonthlyTransactionsForm(ReportFilterForm):
    month = _month_field()

    def arguments(self) -> dict:
        month = self.cleaned_data.get("month") or this_month()
        return {"month": month.replace(day=1)}


class DeviceTransactionsForm(ReportFilterForm):
    """One device (EUI-64) over [from, to] London days; the device must be the organisation's
    (the page looks it up through the report's scope)."""

    device = forms.CharField(max_length=40, label="Device (EUI-64)")
    start = forms.DateField(label="From", widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label="To (inclusive)", widget=forms.DateInput(attrs={"type": "date"}))

    def clean_device(self) -> str:
        value = self.cleaned_data.get("device", "").strip()
        if not value:
            return ""
        try:
            return normalise_eui64(value, field="device")
        except forms.ValidationError as exc:
            raise forms.ValidationError(exc.messages) from None

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and end < start:
            self.add_error("end", "The period must end on or after its first day.")
        if start and end and (end - start).days > 366:
            self.add_error("end", "Ask for a year at most.")
        return cleaned

    def period(self) -> tuple[dt.datetime, dt.datetime]:
        """London midnight of the first day to London midnight after the last, in UTC."""
        today = timezone.localdate()
        start = self.cleaned_data.get("start") or today.replace(day=1)
        end = self.cleaned_data.get("end") or today
        return (dt.datetime.combine(start, dt.time(0), tzinfo=LONDON).astimezone(dt.UTC),
                dt.datetime.combine(end + dt.timedelta(days=1), dt.time(0), tzinfo=LONDON).astimezone(dt.UTC))


# --- forecasts -------------------------------------------------------------------------------

class ForecastMonthForm(forms.Form):
    """Which month's forecasts (and, for DCC, whose) the page shows."""

    organisation = _service_users()
    month = _month_field()

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["month"].required = False
        if user is None or not user.is_dcc:
            del self.fields["organisation"]
        else:
            self.fields["organisation"].queryset = scope(user, self.fields["organisation"].queryset)


class ForecastForm(forms.Form):
    """One whole number per SRV (blank: no forecast). Built for the variants the page lists."""

    def __init__(self, *args, variants=(), current=None, **kwargs):
        super().__init__(*args, **kwargs)
        current = current or {}
        self.variants = list(variants)
        for variant in self.variants:
            self.fields[self.field_name(variant)] = forms.IntegerField(
                min_value=0, max_value=2_000_000_000, required=False, label=f"{variant.code} {variant.name}",
                initial=current.get(variant.pk),
                error_messages={"invalid": f"{variant.code}: give a whole number of requests",
                                "min_value": f"{variant.code}: a forecast cannot be negative"})

    @staticmethod
    def field_name(variant) -> str:
        return f"forecast_{variant.code}"

    def values(self) -> list[tuple[object, int]]:
        """(variant, forecast) for each SRV given a number."""
        return [(v, self.cleaned_data[self.field_name(v)]) for v in self.variants
                if self.cleaned_data.get(self.field_name(v)) is not None]

