"""The service desk: the Incident Management Log (SEC H9), problems, the target times, service
components and their status, service alerts, planned maintenance, outages, major incident
reports, the users' forecasts and the monthly self-service report deliveries.

Writes go through servicedesk.services; who sees what is each model's ``scope_rule``: an
incident belongs to the organisation that raised it (or on whose behalf DCC logged it) and is
also seen, not changed, by its interested parties; DCC-internal updates are DCC's alone.
"""
from auditlog.registry import auditlog
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.urls import reverse

from portal.choices import OrganisationKind, Region
from portal.scoping import Domain, ScopeRule
from servicedesk import choices
from servicedesk.defaults import DEFAULT_POLICY, DEFAULTS_NOTE


def _incident_child(outsiders_see: models.Q | None = None) -> ScopeRule:
    """The rule of an incident's own records: owned by the incident's organisation, seen by its
    interested parties (and, with ``outsiders_see``, only partly by anyone outside DCC)."""
    return ScopeRule(Domain.OPERATIONAL, org_path="incident__organisation",
                     viewer_paths=("incident__interested_parties",), outsiders_see=outsiders_see)


def validate_regions(value):
    if not isinstance(value, list) or any(region not in Region.values for region in value):
        raise ValidationError(f"regions must be a list of {', '.join(Region.values)}")
    if len(set(value)) != len(value):
        raise ValidationError("a region is named twice")


class ReferenceCounter(models.Model):
    """The last number given out for one kind of reference (incident, problem, service alert,
    maintenance). Services lock the row (SELECT ... FOR UPDATE) in the transaction that writes
    the record, so numbers are gapless and never given twice: a rolled-back write gives its
    number back with it."""

    scope_rule = ScopeRule(Domain.OPERATIONAL)  # no owner: DCC's alone

    name = models.CharField(max_length=20, unique=True)
    value = models.PositiveBigIntegerField(default=0)

    def __str__(self):
        return f"{self.name}: {self.value}"


class DeskPolicy(models.Model):
    """The service desk's settings that DCC administrators edit (one row): when resolved
    incidents close, when a major incident report is due, the minimum notice of planned
    maintenance and the largest attachment. Shipped with defaults to be set by DCC."""

    scope_rule = ScopeRule(Domain.CONFIGURATION)

    auto_close_working_days = models.PositiveSmallIntegerField(
        default=DEFAULT_POLICY["auto_close_working_days"], validators=[MinValueValidator(1)],
        help_text="A resolved incident closes after this many working days unless the raiser re-opens it")
    major_report_working_days = models.PositiveSmallIntegerField(
        default=DEFAULT_POLICY["major_report_working_days"], validators=[MinValueValidator(1)],
        help_text="A major incident report is due this many working days after the incident is flagged major")
    maintenance_notice_working_days = models.PositiveSmallIntegerField(
        default=DEFAULT_POLICY["maintenance_notice_working_days"],
        help_text="Planned maintenance announced with less notice needs a recorded reason")
    attachment_max_bytes = models.PositiveIntegerField(
        default=DEFAULT_POLICY["attachment_max_bytes"], validators=[MinValueValidator(1024)])
    note = models.CharField(max_length=200, default=DEFAULTS_NOTE, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "desk policy"

    def __str__(self):
        return "Service desk policy"

    @classmethod
    def current(cls):
        """The policy row (an unsaved row of defaults if it was never written)."""
        return cls.objects.filter(pk=1).first() or cls(pk=1)


class TargetTime(models.Model):
    """DCC's target response and resolution time for one Incident Category, counted around the
    clock or in working hours (09:00-17:00 on UK working days). DCC administrators edit it; the
    audit trail keeps every change. The shipped rows are defaults to be set by DCC, not
    regulation (``note`` says so until it is edited)."""

    scope_rule = ScopeRule(Domain.CONFIGURATION)

    category = models.PositiveSmallIntegerField(choices=choices.IncidentCategory.choices, unique=True)
    response_minutes = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    resolution_minutes = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    basis = models.CharField(max_length=16, choices=choices.TargetBasis.choices)
    note = models.CharField(max_length=200, blank=True, default=DEFAULTS_NOTE)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["category"]

    def __str__(self):
        return f"Category {self.category}: respond {self.response_minutes} min, resolve {self.resolution_minutes} min"

    def clean(self):
        if self.response_minutes and self.resolution_minutes and self.response_minutes > self.resolution_minutes:
            raise ValidationError({"response_minutes": "the response target cannot be longer than the resolution one"})

    @property
    def working_hours(self):
        return self.basis == choices.TargetBasis.WORKING_HOURS


class Problem(models.Model):
    """A problem record: the common cause behind one or more incidents, its root cause once
    found and the fix. Incidents of many organisations may share one, so problems are DCC's."""

    scope_rule = ScopeRule(Domain.OPERATIONAL)  # no owner: DCC's alone

    reference = models.CharField(max_length=12, unique=True)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    root_cause = models.TextField(blank=True)
    fix = models.TextField(blank=True, help_text="The workaround or permanent fix")
    status = models.CharField(max_length=12, choices=choices.ProblemStatus.choices, default=choices.ProblemStatus.OPEN)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    created_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.reference} {self.title}"

    def get_absolute_url(self):
        return reverse("servicedesk:problem_detail", args=[self.reference])


class Incident(models.Model):
    """One entry of the Incident Management Log: what went wrong, who raised it (a person and
    their organisation, or DCC on behalf of an organisation or a caller), its category (the
    raiser proposes, DCC sets), who resolves it and who works on it, what it affects, who else
    may follow it, and where it stands. The clock (servicedesk.clock) runs from ``raised_at``
    against the category's TargetTime; ``response_due_at`` and ``resolution_due_at`` are kept
    up to date by the services (None while the clock is paused)."""

    scope_rule = ScopeRule(Domain.OPERATIONAL, org_path="organisation", viewer_paths=("interested_parties",))

    number = models.PositiveIntegerField(unique=True, editable=False)
    reference = models.CharField(max_length=12, unique=True, editable=False, help_text="e.g. INC000123")
    summary = models.CharField(max_length=200)
    description = models.TextField()
    organisation = models.ForeignKey("portal.Organisation", on_delete=models.PROTECT, related_name="incidents",
                                     help_text="Whose incident it is: the raiser's organisation")
    raised_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                  related_name="incidents_raised")
    logged_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                  related_name="+", help_text="The DCC person who logged it on someone's behalf")
    caller = models.CharField(max_length=200, blank=True,
                              help_text="Name and contact of a caller without a login (Service Desk calls)")
    channel = models.CharField(max_length=16, choices=choices.Channel.choices, default=choices.Channel.PORTAL)
    proposed_category = models.PositiveSmallIntegerField(choices=choices.IncidentCategory.choices)
    category = models.PositiveSmallIntegerField(choices=choices.IncidentCategory.choices,
                                                help_text="As set by DCC (the proposed one until DCC sets it)")
    category_set_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                        blank=True, related_name="+")
    resolver = models.ForeignKey(
        "portal.Organisation", on_delete=models.PROTECT, null=True, blank=True, related_name="incidents_resolving",
        limit_choices_to={"kind__in": [OrganisationKind.DCC, OrganisationKind.PROVIDER]},
        help_text="Who is responsible for resolving it: DCC, DSP, a CSP or another provider")
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="incidents_assigned")
    status = models.CharField(max_length=16, choices=choices.IncidentStatus.choices, default=choices.IncidentStatus.NEW)
    affected_items = models.ManyToManyField("inventory.ConfigurationItem", blank=True, related_name="incidents")
    regions = models.JSONField(default=list, blank=True, validators=[validate_regions])
    interested_parties = models.ManyToManyField("portal.Organisation", blank=True,
                                                related_name="incidents_interested")
    repeat_of = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="repeats",
                                  help_text="The earlier incident this one repeats")
    problem = models.ForeignKey(Problem, on_delete=models.PROTECT, null=True, blank=True, related_name="incidents")
    is_major = models.BooleanField(default=False)
    major_at = models.DateTimeField(null=True, blank=True)
    major_report_due_at = models.DateTimeField(null=True, blank=True)
    raised_at = models.DateTimeField(help_text="When the clock started")
    responded_at = models.DateTimeField(null=True, blank=True, help_text="DCC's first response")
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    response_due_at = models.DateTimeField(null=True, blank=True)
    resolution_due_at = models.DateTimeField(null=True, blank=True)
    reopened_count = models.PositiveSmallIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-number"]
        indexes = [
            models.Index(fields=["organisation", "-number"], name="sd_incident_org_number"),
            models.Index(fields=["status", "resolution_due_at"], name="sd_incident_status_due"),
            models.Index(fields=["status", "resolved_at"], name="sd_incident_status_resolved"),
        ]

    def __str__(self):
        return f"{self.reference} {self.summary}"

    def get_absolute_url(self):
        return reverse("servicedesk:incident_detail", args=[self.reference])

    def clean(self):
        errors = {}
        if self.resolver_id and self.resolver.kind not in (OrganisationKind.DCC, OrganisationKind.PROVIDER):
            errors["resolver"] = f"{self.resolver} is not DCC or a service provider"
        if self.organisation_id and self.organisation.kind not in (OrganisationKind.SERVICE_USER,
                                                                   OrganisationKind.DCC):
            errors["organisation"] = ("only DCC and service users raise incidents (SEC H9); a party that is not "
                                      "a user calls the Service Desk, which logs it for DCC")
        if self.repeat_of_id and self.repeat_of_id == self.pk:
            errors["repeat_of"] = "an incident cannot repeat itself"
        if errors:
            raise ValidationError(errors)

    @property
    def is_open(self):
        return self.status not in (choices.IncidentStatus.RESOLVED, choices.IncidentStatus.CLOSED)


class IncidentReference(models.Model):
    """Something outside the catalogue an incident affects, by its key: a device by its EUI-64 or
    a service request by its request id. Kept as text (an incident may name a device the
    register does not hold yet) and indexed, so incidents are found by either."""

    class Kind(models.TextChoices):
        DEVICE = "device", "Device (EUI-64)"
        SERVICE_REQUEST = "service_request", "Service request (request id)"

    scope_rule = _incident_child()

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="references")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    value = models.CharField(max_length=80)

    class Meta:
        ordering = ["kind", "value"]
        constraints = [models.UniqueConstraint(fields=["incident", "kind", "value"], name="sd_reference_unique")]
        indexes = [models.Index(fields=["kind", "value"], name="sd_reference_lookup")]

    def __str__(self):
        return f"{self.incident.reference}: {self.kind} {self.value}"


class IncidentUpdate(models.Model):
    """One entry of an incident's timeline: a note, a request for information and the user's
    response, a workaround, the resolution, or a change of status, category or assignment
    written by the services (``data`` keeps from/to). Visible to the incident's parties or
    internal to DCC; internal entries are never in anyone else's scope."""

    scope_rule = _incident_child(outsiders_see=models.Q(visibility="parties"))

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="updates")
    kind = models.CharField(max_length=24, choices=choices.UpdateKind.choices)
    visibility = models.CharField(max_length=10, choices=choices.Visibility.choices, default=choices.Visibility.PARTIES)
    text = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True, help_text='e.g. {"from": "new", "to": "assigned"}')
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                               related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["incident", "created_at"], name="sd_update_incident")]

    def __str__(self):
        return f"{self.incident.reference} {self.get_kind_display()} at {self.created_at:%Y-%m-%d %H:%M}"


def attachment_path(instance, filename):
    return f"servicedesk/incidents/{instance.incident.reference}/{instance.sha256[:16]}-{filename}"


class IncidentAttachment(models.Model):
    """A file attached to an incident (a log, a screenshot, a spreadsheet), checked for size
    and, by its content, for type; stored under MEDIA_ROOT with the incident. It is as visible
    as the update it came with."""

    scope_rule = _incident_child(outsiders_see=models.Q(visibility="parties"))

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="attachments")
    update = models.ForeignKey(IncidentUpdate, on_delete=models.SET_NULL, null=True, blank=True,
                               related_name="attachments")
    file = models.FileField(upload_to=attachment_path, max_length=300)
    filename = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100, help_text="As found in the content, not as declared")
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    visibility = models.CharField(max_length=10, choices=choices.Visibility.choices, default=choices.Visibility.PARTIES)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+")
    uploaded_at = models.DateTimeField()

    class Meta:
        ordering = ["uploaded_at", "id"]

    def __str__(self):
        return f"{self.incident.reference}: {self.filename}"


class ClockPause(models.Model):
    """A stretch during which an incident's clock stood still: while it awaited the user (from
    the request for information to the answer), or while it lay resolved before it was
    re-opened. An open pause (no end) is the current one; there is at most one."""

    scope_rule = _incident_child()

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="pauses")
    reason = models.CharField(max_length=16, choices=choices.PauseReason.choices)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["started_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["incident"], condition=models.Q(ended_at__isnull=True),
                                    name="sd_one_open_pause"),
            models.CheckConstraint(condition=models.Q(ended_at__isnull=True)
                                   | models.Q(ended_at__gte=models.F("started_at")), name="sd_pause_ends_after_start"),
        ]

    def __str__(self):
        return f"{self.incident.reference} paused ({self.reason}) from {self.started_at:%Y-%m-%d %H:%M}"


class ServiceComponent(models.Model):
    """A part of DCC's service whose status users see on the service status page (DSP data
    service, CSP North/Central/South, DCC User Gateway, the portal...), named after its
    configuration item. ``status`` is the current one; its changes are kept as records."""

    scope_rule = ScopeRule(Domain.REFERENCE)

    key = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    item = models.OneToOneField("inventory.ConfigurationItem", on_delete=models.PROTECT,
                                related_name="service_component")
    status = models.CharField(max_length=20, choices=choices.ComponentStatus.choices,
                              default=choices.ComponentStatus.OPERATIONAL)
    description = models.TextField(blank=True)
    sort_order = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["sort_order", "name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("servicedesk:component_detail", args=[self.pk])


class ComponentStatusChange(models.Model):
    """One change of a component's status: the 90-day history strip is drawn from these."""

    scope_rule = ScopeRule(Domain.REFERENCE)

    component = models.ForeignKey(ServiceComponent, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=20, choices=choices.ComponentStatus.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=choices.ComponentStatus.choices)
    reason = models.CharField(max_length=300, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="+")
    changed_at = models.DateTimeField()

    class Meta:
        ordering = ["-changed_at", "-id"]
        indexes = [models.Index(fields=["component", "changed_at"], name="sd_component_change")]

    def __str__(self):
        return f"{self.component}: {self.from_status or '-'} -> {self.to_status}"


class ServiceAlert(models.Model):
    """A notice to every user about the service: the components and regions affected, when it
    was published, when it is expected to be resolved, its updates and when it closed.
    Published by DCC, automatically for a major incident, or to announce planned maintenance."""

    scope_rule = ScopeRule(Domain.REFERENCE)

    reference = models.CharField(max_length=12, unique=True, help_text="e.g. SA000042")
    title = models.CharField(max_length=200)
    description = models.TextField()
    components = models.ManyToManyField(ServiceComponent, blank=True, related_name="alerts")
    regions = models.JSONField(default=list, blank=True, validators=[validate_regions],
                               help_text="Geographic impact (empty: national)")
    incident = models.ForeignKey(Incident, on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="service_alerts", help_text="The major incident it announces")
    published_at = models.DateTimeField()
    expected_resolution_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")

    class Meta:
        ordering = ["-published_at", "-id"]
        indexes = [models.Index(fields=["closed_at", "published_at"], name="sd_alert_active")]

    def __str__(self):
        return f"{self.reference} {self.title}"

    def get_absolute_url(self):
        return reverse("servicedesk:alert_detail", args=[self.pk])

    @property
    def is_active(self):
        return self.closed_at is None


class ServiceAlertUpdate(models.Model):
    """A later word on a service alert (progress, a new expected resolution)."""

    scope_rule = ScopeRule(Domain.REFERENCE)

    alert = models.ForeignKey(ServiceAlert, on_delete=models.CASCADE, related_name="updates")
    text = models.TextField()
    expected_resolution_at = models.DateTimeField(null=True, blank=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                               related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.alert.reference} update at {self.created_at:%Y-%m-%d %H:%M}"


class PlannedMaintenance(models.Model):
    """A window of planned maintenance on some components (and regions): proposed, approved by
    DCC, then announced as a service alert. Notice is measured from when it was scheduled to
    its start; less than the policy's minimum needs a recorded reason. Its minutes do not count
    against availability. Users see it once announced."""

    scope_rule = ScopeRule(Domain.REFERENCE, outsiders_see=models.Q(status="announced"))

    reference = models.CharField(max_length=12, unique=True, help_text="e.g. PM000007")
    title = models.CharField(max_length=200)
    description = models.TextField()
    components = models.ManyToManyField(ServiceComponent, related_name="maintenance")
    regions = models.JSONField(default=list, blank=True, validators=[validate_regions])
    start_at = models.DateTimeField()
    end_at = models.DateTimeField()
    status = models.CharField(max_length=12, choices=choices.MaintenanceStatus.choices,
                              default=choices.MaintenanceStatus.PROPOSED)
    scheduled_at = models.DateTimeField()
    scheduled_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                     related_name="+")
    notice_working_days = models.PositiveSmallIntegerField(help_text="Working days from scheduling to the start")
    short_notice_reason = models.TextField(blank=True)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+")
    approved_at = models.DateTimeField(null=True, blank=True)
    alert = models.OneToOneField(ServiceAlert, on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="maintenance")

    class Meta:
        ordering = ["start_at", "id"]
        verbose_name_plural = "planned maintenance"
        constraints = [models.CheckConstraint(condition=models.Q(end_at__gt=models.F("start_at")),
                                              name="sd_maintenance_ends_after_start")]
        indexes = [models.Index(fields=["status", "start_at"], name="sd_maintenance_window")]

    def __str__(self):
        return f"{self.reference} {self.title}"

    def get_absolute_url(self):
        return reverse("servicedesk:maintenance_detail", args=[self.pk])

    def clean(self):
        if self.start_at and self.end_at and self.end_at <= self.start_at:
            raise ValidationError({"end_at": "the window must end after it starts"})


class Outage(models.Model):
    """Unplanned downtime of one component: from when to when (open while it lasts), and the
    incident it was recorded under. Availability subtracts these minutes."""

    scope_rule = ScopeRule(Domain.REFERENCE)

    component = models.ForeignKey(ServiceComponent, on_delete=models.PROTECT, related_name="outages")
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    incident = models.ForeignKey(Incident, on_delete=models.SET_NULL, null=True, blank=True, related_name="outages")
    description = models.CharField(max_length=300, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+")

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [models.CheckConstraint(condition=models.Q(ended_at__isnull=True)
                                              | models.Q(ended_at__gt=models.F("started_at")),
                                              name="sd_outage_ends_after_start")]
        indexes = [models.Index(fields=["component", "started_at"], name="sd_outage_component")]

    def __str__(self):
        return f"{self.component} down from {self.started_at:%Y-%m-%d %H:%M}"

    def clean(self):
        if self.started_at and self.ended_at and self.ended_at <= self.started_at:
            raise ValidationError({"ended_at": "an outage must end after it starts"})


class MajorIncidentReport(models.Model):
    """One version of the report DCC owes on a major incident: summary, timeline, impact, root
    cause and actions. A correction is a new version with a reason, never an edit; the PDF is
    rendered from the version's own text, so a version always prints the same."""

    scope_rule = _incident_child()

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="major_reports")
    version = models.PositiveSmallIntegerField()
    summary = models.TextField()
    timeline = models.TextField()
    impact = models.TextField()
    root_cause = models.TextField()
    actions = models.TextField()
    reason = models.CharField(max_length=300, blank=True, help_text="Why this version replaces the last")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                               related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["incident", "-version"]
        constraints = [models.UniqueConstraint(fields=["incident", "version"], name="sd_major_report_version")]

    def __str__(self):
        return f"{self.incident.reference} major incident report v{self.version}"


class UsageForecast(models.Model):
    """A service user's own forecast of how many service requests of one SRV it will send in a
    month (SEC H3.24: the monthly transactions report sets the actual count against it)."""

    scope_rule = ScopeRule(Domain.OPERATIONAL, org_path="organisation")

    organisation = models.ForeignKey("portal.Organisation", on_delete=models.CASCADE, related_name="forecasts")
    month = models.DateField(help_text="The first day of the month")
    srv = models.ForeignKey("adapter.ServiceRequestVariant", on_delete=models.PROTECT, related_name="+")
    forecast = models.PositiveIntegerField()
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["organisation", "-month", "srv"]
        constraints = [models.UniqueConstraint(fields=["organisation", "month", "srv"], name="sd_forecast_unique")]

    def __str__(self):
        return f"{self.organisation.code} {self.month:%Y-%m} {self.srv.code}: {self.forecast}"

    def clean(self):
        if self.month and self.month.day != 1:
            raise ValidationError({"month": "give the first day of the month"})


def delivery_path(instance, filename):
    return f"servicedesk/reports/{instance.organisation.code}/{instance.month:%Y-%m}/{filename}"


class SelfServiceReportDelivery(models.Model):
    """One monthly self-service report for one service user: due by the 10th working day after
    the month (SEC H3.24), e-mailed with the file and kept here for download."""

    scope_rule = ScopeRule(Domain.OPERATIONAL, org_path="organisation")

    organisation = models.ForeignKey("portal.Organisation", on_delete=models.CASCADE,
                                     related_name="report_deliveries")
    kind = models.CharField(max_length=10, choices=choices.ReportKind.choices)
    month = models.DateField(help_text="The month reported on (its first day)")
    due_on = models.DateField()
    state = models.CharField(max_length=10, choices=choices.DeliveryState.choices,
                             default=choices.DeliveryState.PENDING)
    file = models.FileField(upload_to=delivery_path, max_length=300, blank=True)
    rows = models.PositiveIntegerField(default=0)
    emailed_to = models.JSONField(default=list, blank=True)
    error = models.CharField(max_length=300, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-month", "organisation", "kind"]
        verbose_name_plural = "self-service report deliveries"
        constraints = [models.UniqueConstraint(fields=["organisation", "kind", "month"], name="sd_delivery_once")]

    def __str__(self):
        return f"{self.kind} {self.organisation.code} {self.month:%Y-%m}"


auditlog.register(DeskPolicy)
auditlog.register(TargetTime)
auditlog.register(Problem)
auditlog.register(Incident, m2m_fields={"affected_items", "interested_parties"},
                  exclude_fields=["updated_at", "response_due_at", "resolution_due_at"])
auditlog.register(ServiceComponent)
auditlog.register(ServiceAlert, m2m_fields={"components"})
auditlog.register(PlannedMaintenance, m2m_fields={"components"})
auditlog.register(Outage)
auditlog.register(UsageForecast)
