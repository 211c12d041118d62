"""Serializers of the service desk API (servicedesk/api.py): what each record looks like to the
person reading it, and the bodies each action accepts.

Output serializers only render; the bodies only parse and bound what comes in (lengths, types,
choices), so a service sees well-typed arguments and every refusal names its field. Who may see
which related record is the view's question: it passes what the reader may see in the context
(``clocks``, ``timeline``, ``attachments``, ``reports``), never a serializer's own query.
"""
from __future__ import annotations

import datetime as dt

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from adapter.models import ServiceRequestVariant
from portal.api import InstantField
from portal.choices import Region
from servicedesk import models
from servicedesk.choices import (
    WORK_STATUSES,
    ComponentStatus,
    IncidentCategory,
    ProblemStatus,
    ReportKind,
    TargetBasis,
    UpdateKind,
    Visibility,
)

# Bounds of free text and lists coming in: generous for people, small enough that a hostile body
# cannot make the service or the database carry megabytes.
TEXT_MAX = 20_000
LIST_MAX = 100


def _code(**kwargs):
    return serializers.SlugRelatedField(slug_field="code", read_only=True, **kwargs)


def _username(**kwargs):
    return serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True, **kwargs)


def _text(max_length=TEXT_MAX, **kwargs):
    return serializers.CharField(max_length=max_length, **kwargs)


def _codes(max_length=20, **kwargs):
    return serializers.ListField(child=serializers.CharField(max_length=max_length), max_length=LIST_MAX,
                                 required=False, default=list, **kwargs)


def _viewer(serializer):
    request = serializer.context.get("request")
    return getattr(request, "user", None)


def _is_dcc(serializer):
    user = _viewer(serializer)
    return bool(user is not None and user.is_dcc)


def _known_reference(serializer, incident, organisation_id):
    """An incident's reference where the reader may know of it: DCC always, anyone else only
    when the incident is of ``organisation_id``; otherwise None."""
    if incident is None:
        return None
    if _is_dcc(serializer) or (organisation_id is not None and incident.organisation_id == organisation_id):
        return incident.reference
    return None


class MonthText(serializers.Field):
    """A calendar month as 'YYYY-MM' (stored as its first day)."""

    default_error_messages = {"invalid": "give the month as YYYY-MM, e.g. 2026-03"}

    def to_representation(self, value):
        return f"{value:%Y-%m}"

    def to_internal_value(self, data):
        if not isinstance(data, str) or len(data) != 7:
            self.fail("invalid")
        try:
            return dt.datetime.strptime(data, "%Y-%m").date()
        except ValueError:
            self.fail("invalid")


extend_schema_field({"type": "string", "pattern": r"^\d{4}-(0[1-9]|1[0-2])$", "example": "2026-03"})(MonthText)


# --- incidents: what is read -------------------------------------------------------------------

class ClockFields(serializers.Serializer):
    """The incident clock of each row (servicedesk.selectors.with_clocks), from ``context["clocks"]``."""

    response_due = serializers.SerializerMethodField(help_text="When DCC's response is due (null: paused or "
                                                                "responded)")
    resolution_due = serializers.SerializerMethodField(help_text="When the resolution is due (null: paused or "
                                                                  "resolved)")
    response_left_seconds = serializers.SerializerMethodField(
        help_text="Clock time left to respond (working seconds for a working-hours target); negative once breached")
    resolution_left_seconds = serializers.SerializerMethodField(help_text="Clock time left to resolve")
    response_breached = serializers.SerializerMethodField()
    resolution_breached = serializers.SerializerMethodField()
    breached = serializers.SerializerMethodField(help_text="Either clock breached")
    paused = serializers.SerializerMethodField(help_text="The clock stands still (awaiting the user)")

    def _clock(self, incident):
        from servicedesk import selectors

        clocks = self.context.setdefault("clocks", {})
        if incident.pk not in clocks:
            clocks[incident.pk] = selectors.incident_clock(incident)
        return clocks[incident.pk]

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_response_due(self, incident):
        due = self._clock(incident).response.due_at
        return serializers.DateTimeField().to_representation(due) if due else None

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_resolution_due(self, incident):
        due = self._clock(incident).resolution.due_at
        return serializers.DateTimeField().to_representation(due) if due else None

    def get_response_left_seconds(self, incident) -> int:
        return int(self._clock(incident).response.left.total_seconds())

    def get_resolution_left_seconds(self, incident) -> int:
        return int(self._clock(incident).resolution.left.total_seconds())

    def get_response_breached(self, incident) -> bool:
        return self._clock(incident).response.breached

    def get_resolution_breached(self, incident) -> bool:
        return self._clock(incident).resolution.breached

    def get_breached(self, incident) -> bool:
        return self._clock(incident).breached

    def get_paused(self, incident) -> bool:
        return self._clock(incident).resolution.paused


class IncidentSerializer(ClockFields, serializers.ModelSerializer):
    """An incident as listed: who raised it, where it stands and its clock."""

    organisation = _code()
    resolver = _code(allow_null=True)
    raised_by = _username()
    assignee = _username()
    repeat_of = serializers.SerializerMethodField(help_text="The earlier incident it repeats (its reference), "
                                                             "where the reader may know of it")
    problem = serializers.SerializerMethodField(help_text="The problem record it is grouped under (DCC only)")

    class Meta:
        model = models.Incident
        fields = ["id", "reference", "summary", "organisation", "raised_by", "caller", "channel",
                  "proposed_category", "category", "resolver", "assignee", "status", "is_major", "regions",
                  "raised_at", "responded_at", "resolved_at", "closed_at", "repeat_of", "problem",
                  "reopened_count", "updated_at", *ClockFields._declared_fields]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_repeat_of(self, incident):
        # The link between two organisations' incidents is DCC's (services.incident_link_repeat).
        return _known_reference(self, incident.repeat_of, incident.organisation_id)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_problem(self, incident):
        return incident.problem.reference if incident.problem_id and _is_dcc(self) else None


class TimelineEntrySerializer(serializers.ModelSerializer):
    author = _username()
    data = serializers.JSONField(read_only=True)

    class Meta:
        model = models.IncidentUpdate
        fields = ["id", "kind", "visibility", "text", "data", "author", "created_at"]
        read_only_fields = fields


class IncidentAttachmentSerializer(serializers.ModelSerializer):
    incident = serializers.SlugRelatedField(slug_field="reference", read_only=True)
    uploaded_by = _username()
    download = serializers.SerializerMethodField(help_text="Where to download the file (always as an attachment)")

    class Meta:
        model = models.IncidentAttachment
        fields = ["id", "incident", "filename", "content_type", "size", "sha256", "visibility", "update",
                  "uploaded_by", "uploaded_at", "download"]
        read_only_fields = fields

    def get_download(self, attachment) -> str:
        return reverse("servicedesk-attachment-download", args=[attachment.pk])


class MajorReportSerializer(serializers.ModelSerializer):
    incident = serializers.SlugRelatedField(slug_field="reference", read_only=True)
    author = _username()
    pdf = serializers.SerializerMethodField(help_text="Where to download this version as PDF")

    class Meta:
        model = models.MajorIncidentReport
        fields = ["id", "incident", "version", "summary", "timeline", "impact", "root_cause", "actions", "reason",
                  "author", "created_at", "pdf"]
        read_only_fields = fields

    def get_pdf(self, report) -> str:
        return reverse("servicedesk-major-report-pdf", args=[report.pk])


class IncidentDetailSerializer(IncidentSerializer):
    """One incident with what it affects, who follows it and its timeline as the reader may see it."""

    description = serializers.CharField(read_only=True)
    logged_by = _username()
    affected_items = serializers.SlugRelatedField(slug_field="key", many=True, read_only=True)
    devices = serializers.SerializerMethodField(help_text="EUI-64s of the devices it affects")
    service_requests = serializers.SerializerMethodField(help_text="Request ids it affects")
    interested_parties = _code(many=True)
    timeline = serializers.SerializerMethodField()
    attachments = serializers.SerializerMethodField()
    major_reports = serializers.SerializerMethodField()

    class Meta(IncidentSerializer.Meta):
        fields = [*IncidentSerializer.Meta.fields, "description", "logged_by", "affected_items", "devices",
                  "service_requests", "interested_parties", "major_at", "major_report_due_at", "timeline",
                  "attachments", "major_reports"]
        read_only_fields = fields

    def _references(self, incident, kind):
        return [ref.value for ref in incident.references.all() if ref.kind == kind]

    def get_devices(self, incident) -> list[str]:
        return self._references(incident, "device")

    def get_service_requests(self, incident) -> list[str]:
        return self._references(incident, "service_request")

    @extend_schema_field(TimelineEntrySerializer(many=True))
    def get_timeline(self, incident):
        return TimelineEntrySerializer(self.context.get("timeline", []), many=True).data

    @extend_schema_field(IncidentAttachmentSerializer(many=True))
    def get_attachments(self, incident):
        return IncidentAttachmentSerializer(self.context.get("attachments", []), many=True).data

    @extend_schema_field(MajorReportSerializer(many=True))
    def get_major_reports(self, incident):
        return MajorReportSerializer(self.context.get("reports", []), many=True).data


# --- incidents: what comes in ------------------------------------------------------------------

class IncidentRaiseSerializer(serializers.Serializer):
    summary = _text(200)
    description = _text()
    proposed_category = serializers.ChoiceField(choices=IncidentCategory.choices,
                                                help_text="1 most severe to 5 least (DCC sets the category)")
    organisation = serializers.CharField(max_length=20, required=False, default="",
                                         help_text="Organisation code: DCC logs an incident on behalf of it")
    raised_by = serializers.CharField(max_length=150, required=False, default="",
                                      help_text="Username of the person of that organisation (DCC on behalf)")
    caller = serializers.CharField(max_length=200, required=False, allow_blank=True, default="",
                                   help_text="Who called, when they have no login (DCC on behalf)")
    affected_items = _codes(64, help_text="Configuration item keys")
    devices = _codes(40, help_text="EUI-64s, e.g. 00-DB-12-34-56-78-9A-BC")
    service_requests = _codes(80, help_text="Request ids")
    regions = serializers.ListField(child=serializers.ChoiceField(choices=Region.choices), max_length=len(Region),
                                    required=False, default=list)
    interested_parties = _codes(help_text="Organisation codes that may see and follow it")


class IncidentNoteSerializer(serializers.Serializer):
    text = _text()
    kind = serializers.ChoiceField(choices=[(k.value, k.label) for k in (UpdateKind.NOTE, UpdateKind.WORKAROUND)],
                                   required=False, default=UpdateKind.NOTE.value)
    visibility = serializers.ChoiceField(choices=Visibility.choices, required=False, default=Visibility.PARTIES.value)


class IncidentTextSerializer(serializers.Serializer):
    text = _text()


class IncidentAssignSerializer(serializers.Serializer):
    resolver = serializers.CharField(max_length=20, help_text="Organisation code of DCC or a service provider")
    assignee = serializers.CharField(max_length=150, required=False, allow_null=True, default=None,
                                     help_text="Username of the person working on it")
    note = _text(required=False, allow_blank=True, default="")


class IncidentStatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=sorted(WORK_STATUSES))
    note = _text(required=False, allow_blank=True, default="")


class IncidentCategorySerializer(serializers.Serializer):
    category = serializers.ChoiceField(choices=IncidentCategory.choices)
    reason = _text(2000)


class IncidentResolveSerializer(serializers.Serializer):
    resolution = _text()


class IncidentCloseSerializer(serializers.Serializer):
    note = _text(required=False, allow_blank=True, default="")


class DeskReasonSerializer(serializers.Serializer):
    reason = _text(2000)


class IncidentAttachmentUploadSerializer(serializers.Serializer):
    file = serializers.FileField(allow_empty_file=True, use_url=False)
    visibility = serializers.ChoiceField(choices=Visibility.choices, required=False, default=Visibility.PARTIES.value)


class IncidentRepeatSerializer(serializers.Serializer):
    earlier = serializers.CharField(max_length=12, help_text="Reference of the earlier incident, e.g. INC000042")


class ProblemLinkSerializer(serializers.Serializer):
    problem = serializers.CharField(max_length=12, allow_null=True,
                                    help_text="Problem reference, e.g. PRB000007; null takes it out")


class IncidentPartiesSerializer(serializers.Serializer):
    parties = serializers.ListField(child=serializers.CharField(max_length=20), max_length=LIST_MAX,
                                    help_text="Organisation codes (the whole list: others are taken off)")


class FlagMajorSerializer(serializers.Serializer):
    alert_title = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    alert_description = _text(required=False, allow_blank=True, default="")
    components = _codes(64, help_text="Service component keys (default: those of its configuration items)")
    expected_resolution_at = InstantField(required=False, allow_null=True, default=None)


class MajorReportWriteSerializer(serializers.Serializer):
    summary = _text()
    timeline = _text()
    impact = _text()
    root_cause = _text()
    actions = _text()
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="",
                                   help_text="Why this version replaces the last (needed from version 2)")


class IncidentImportSerializer(serializers.Serializer):
    file = serializers.FileField(use_url=False, help_text="CSV or XLSX: summary, description, category; devices, "
                                 "service_requests, regions, organisation, caller")
    commit = serializers.BooleanField(required=False, default=False,
                                      help_text="false: check and preview only; true: raise every incident, or none")


class IncidentImportRowSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text="Row number as in the file (the header is row 1)")
    key = serializers.CharField(help_text="The row's summary (shortened)")
    error = serializers.CharField(help_text="What is wrong, field by field; empty when the row is fine")
    change = serializers.CharField(help_text="create, or empty for a refused row")


class IncidentImportResultSerializer(serializers.Serializer):
    committed = serializers.BooleanField()
    clean = serializers.BooleanField(help_text="Every row can be raised")
    errors = serializers.IntegerField(help_text="How many rows are refused")
    rows = IncidentImportRowSerializer(many=True)


# --- problems --------------------------------------------------------------------------------

class ProblemSerializer(serializers.ModelSerializer):
    created_by = _username()
    incidents = serializers.SlugRelatedField(slug_field="reference", many=True, read_only=True)

    class Meta:
        model = models.Problem
        fields = ["id", "reference", "title", "description", "root_cause", "fix", "status", "created_by",
                  "created_at", "resolved_at", "incidents"]
        read_only_fields = fields


class ProblemCreateSerializer(serializers.Serializer):
    title = _text(200)
    description = _text(required=False, allow_blank=True, default="")
    incidents = _codes(12, help_text="Incident references to group under it")


class ProblemUpdateSerializer(serializers.Serializer):
    root_cause = _text(required=False, allow_blank=True)
    fix = _text(required=False, allow_blank=True)
    status = serializers.ChoiceField(choices=ProblemStatus.choices, required=False)


# --- service status --------------------------------------------------------------------------

class ServiceComponentSerializer(serializers.ModelSerializer):
    item = serializers.SlugRelatedField(slug_field="key", read_only=True)
    active_alerts = serializers.IntegerField(read_only=True, help_text="Service alerts still open on it")

    class Meta:
        model = models.ServiceComponent
        fields = ["id", "key", "name", "item", "status", "description", "sort_order", "is_active", "active_alerts"]
        read_only_fields = fields


class ServiceComponentStatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=ComponentStatus.choices)
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class AlertUpdateSerializer(serializers.ModelSerializer):
    author = _username()

    class Meta:
        model = models.ServiceAlertUpdate
        fields = ["id", "text", "expected_resolution_at", "author", "created_at"]
        read_only_fields = fields


class ServiceAlertSerializer(serializers.ModelSerializer):
    components = serializers.SlugRelatedField(slug_field="key", many=True, read_only=True)
    incident = serializers.SerializerMethodField(help_text="The major incident it announces, where the reader "
                                                            "may know of it")
    is_active = serializers.BooleanField(read_only=True)
    updates = AlertUpdateSerializer(many=True, read_only=True)

    class Meta:
        model = models.ServiceAlert
        fields = ["id", "reference", "title", "description", "components", "regions", "incident", "published_at",
                  "expected_resolution_at", "closed_at", "is_active", "updates"]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_incident(self, alert):
        return _known_reference(self, alert.incident, getattr(_viewer(self), "organisation_id", None))


class AlertPublishSerializer(serializers.Serializer):
    title = _text(200)
    description = _text()
    components = _codes(64, help_text="Service component keys")
    regions = serializers.ListField(child=serializers.ChoiceField(choices=Region.choices), max_length=len(Region),
                                    required=False, default=list)
    expected_resolution_at = InstantField(required=False, allow_null=True, default=None)


class AlertNewUpdateSerializer(serializers.Serializer):
    text = _text()
    expected_resolution_at = InstantField(required=False, allow_null=True, default=None)


class AlertCloseSerializer(serializers.Serializer):
    text = _text(required=False, allow_blank=True, default="")


class MaintenanceSerializer(serializers.ModelSerializer):
    components = serializers.SlugRelatedField(slug_field="key", many=True, read_only=True)
    alert = serializers.SlugRelatedField(slug_field="reference", read_only=True, allow_null=True)
    scheduled_by = _username()
    approved_by = _username()

    class Meta:
        model = models.PlannedMaintenance
        fields = ["id", "reference", "title", "description", "components", "regions", "start_at", "end_at",
                  "status", "scheduled_at", "scheduled_by", "notice_working_days", "short_notice_reason",
                  "approved_by", "approved_at", "alert"]
        read_only_fields = fields


class MaintenanceScheduleSerializer(serializers.Serializer):
    title = _text(200)
    description = _text()
    start_at = InstantField()
    end_at = InstantField()
    components = serializers.ListField(child=serializers.CharField(max_length=64), min_length=1, max_length=LIST_MAX,
                                       help_text="Service component keys")
    regions = serializers.ListField(child=serializers.ChoiceField(choices=Region.choices), max_length=len(Region),
                                    required=False, default=list)
    short_notice_reason = _text(required=False, allow_blank=True, default="")

    def validate(self, attrs):
        if attrs["end_at"] <= attrs["start_at"]:
            raise serializers.ValidationError({"end_at": "the window must end after it starts"})
        return attrs


# --- the desk's tables -----------------------------------------------------------------------

class TargetTimeSerializer(serializers.ModelSerializer):
    updated_by = _username()
    updated_at = InstantField(read_only=True, allow_null=True, help_text="null: never saved")
    is_default = serializers.SerializerMethodField(help_text="A shipped default: never set by a DCC administrator")

    class Meta:
        model = models.TargetTime
        fields = ["category", "response_minutes", "resolution_minutes", "basis", "note", "updated_by", "updated_at",
                  "is_default"]
        read_only_fields = fields

    def get_is_default(self, row) -> bool:
        return row.pk is None or row.updated_by_id is None


class TargetTimeWriteSerializer(serializers.Serializer):
    response_minutes = serializers.IntegerField(min_value=1, max_value=525_600, required=False)
    resolution_minutes = serializers.IntegerField(min_value=1, max_value=525_600, required=False)
    basis = serializers.ChoiceField(choices=TargetBasis.choices, required=False)
    note = serializers.CharField(max_length=200, required=False, allow_blank=True)


class DeskPolicySerializer(serializers.ModelSerializer):
    updated_at = InstantField(read_only=True, allow_null=True, help_text="null: never saved")

    class Meta:
        model = models.DeskPolicy
        fields = ["auto_close_working_days", "major_report_working_days", "maintenance_notice_working_days",
                  "attachment_max_bytes", "note", "updated_at"]
        read_only_fields = ["updated_at"]
        extra_kwargs = {"auto_close_working_days": {"max_value": 60},
                        "major_report_working_days": {"max_value": 60},
                        "maintenance_notice_working_days": {"max_value": 60},
                        "attachment_max_bytes": {"max_value": 100 * 1024 * 1024}}


# --- forecasts, reports, deliveries ----------------------------------------------------------

class ForecastSerializer(serializers.ModelSerializer):
    organisation = _code()
    month = MonthText()
    srv = serializers.SlugRelatedField(slug_field="code", read_only=True)
    updated_by = _username()

    class Meta:
        model = models.UsageForecast
        fields = ["id", "organisation", "month", "srv", "forecast", "updated_by", "updated_at"]
        read_only_fields = fields


class ForecastWriteSerializer(serializers.Serializer):
    month = MonthText()
    srv = serializers.SlugRelatedField(slug_field="code", queryset=ServiceRequestVariant.objects.all(),
                                       help_text="SRV code, e.g. 4.1.1")
    forecast = serializers.IntegerField(min_value=0, max_value=2_000_000_000)
    organisation = serializers.CharField(max_length=20, required=False, default="",
                                         help_text="Organisation code (DCC enters a forecast for a service user)")


class DeliverySerializer(serializers.ModelSerializer):
    organisation = _code()
    month = MonthText()
    download = serializers.SerializerMethodField(help_text="Where to download the file (null until delivered)")

    class Meta:
        model = models.SelfServiceReportDelivery
        fields = ["id", "organisation", "kind", "month", "due_on", "state", "rows", "error", "delivered_at",
                  "download"]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_download(self, delivery):
        return reverse("servicedesk-delivery-download", args=[delivery.pk]) if delivery.file else None


class SelfServiceReportSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ReportKind.choices)
    title = serializers.CharField()
    organisation = serializers.CharField()
    headers = serializers.ListField(child=serializers.CharField())
    filters = serializers.DictField(child=serializers.CharField(allow_null=True))
    rows = serializers.ListField(child=serializers.DictField(), help_text="One object per row, keyed by header")
    page = serializers.IntegerField()
    has_more = serializers.BooleanField(help_text="Another page follows (the CSV holds every row)")
