"""Service measures, the facts they are computed from, rollups, charges, credits and statements,
and the burn-rate rules that warn when a measure spends its error budget too fast."""
import datetime as dt
from decimal import Decimal

from auditlog.registry import auditlog
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone

from portal.choices import ProviderCode, Region
from portal.scoping import Domain, ScopeRule
from slas.choices import EpisodeState, FactKind, Interval, MeasurementType, ProviderKind

PCT = dict(max_digits=6, decimal_places=2, validators=[MinValueValidator(Decimal("0"))])


class MeasureQuerySet(models.QuerySet):
    def of_facts(self):
        """The measures timed from request and alert facts (every one but the incident measures,
        which the service desk's incident clock times: slas.incidents)."""
        return self.exclude(measurement_type=MeasurementType.INCIDENT)

    def of_incidents(self):
        return self.filter(measurement_type=MeasurementType.INCIDENT)


class Measure(models.Model):
    """One service measure of the seed's table: which provider it holds to account, which kind of
    request (measurement type) it applies to, which interval of the timestamps it times and the
    targets. The same code can appear for several types (SM1.2 times the DSP leg of firmware and
    of every future response); code + measurement type is the key.

    Incident measures (type ``incident``) time one Incident Category's response or resolution
    with the service desk's incident clock; their ``target_seconds`` mirrors the desk's target
    table (servicedesk TargetTime, which DCC edits), copied in whenever they are counted."""

    scope_rule = ScopeRule(Domain.CONFIGURATION)

    code = models.CharField(max_length=10)
    name = models.CharField(max_length=200)
    provider = models.CharField(max_length=3, choices=ProviderKind.choices)
    measurement_type = models.CharField(max_length=30, choices=MeasurementType.choices)
    interval = models.CharField(max_length=30, choices=Interval.choices)
    target_seconds = models.DecimalField(max_digits=12, decimal_places=3, validators=[MinValueValidator(0)])
    target_pct = models.DecimalField(default=Decimal("99.00"), **PCT)
    minimum_pct = models.DecimalField(default=Decimal("96.00"), **PCT)
    weight = models.DecimalField(max_digits=6, decimal_places=2, default=Decimal("1"), **{
        "validators": [MinValueValidator(Decimal("0"))]})
    position = models.PositiveSmallIntegerField(default=0)
    category = models.PositiveSmallIntegerField(null=True, blank=True,
                                                help_text="Incident measures: the Incident Category (1-5) timed")
    updated_at = models.DateTimeField(auto_now=True)

    objects = MeasureQuerySet.as_manager()

    class Meta:
        ordering = ["position", "code"]
        constraints = [models.UniqueConstraint(fields=["code", "measurement_type"], name="slas_measure_code_type")]

    def __str__(self):
        return f"{self.code} {self.get_measurement_type_display()}"

    def clean(self):
        if self.minimum_pct is not None and self.target_pct is not None and self.minimum_pct >= self.target_pct:
            raise ValidationError({"minimum_pct": "The minimum service level must be below the target."})
        if self.target_pct is not None and self.target_pct > 100:
            raise ValidationError({"target_pct": "A service level cannot exceed 100%."})

    @property
    def target_us(self):
        return int(self.target_seconds * 1_000_000)

    @property
    def is_alert(self):
        return self.measurement_type == MeasurementType.ALERT

    @property
    def is_incident(self):
        return self.measurement_type == MeasurementType.INCIDENT


class ProviderTerms(models.Model):
    """The credit terms of one provider: credit percent per point and the cap on the credit."""

    scope_rule = ScopeRule(Domain.CONFIGURATION)

    provider = models.CharField(max_length=20, choices=ProviderCode.choices, unique=True)
    percent_per_point = models.DecimalField(default=Decimal("1.00"), **PCT)
    cap_pct = models.DecimalField(default=Decimal("10.00"), **PCT)

    class Meta:
        ordering = ["provider"]
        verbose_name_plural = "provider terms"

    def __str__(self):
        return f"{self.provider}: {self.percent_per_point}%/point, cap {self.cap_pct}%"


class ReliefEvent(models.Model):
    """An approved relief window: requests (or alerts) whose clock started inside [starts_at,
    ends_at) are excluded from the provider's measures (and the report lists them)."""

    scope_rule = ScopeRule(Domain.CONFIGURATION)

    provider = models.CharField(max_length=20, choices=ProviderCode.choices)
    region = models.CharField(max_length=10, choices=Region.choices, blank=True,
                              help_text="blank: every region (CSP windows imply their own region)")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    reason = models.TextField()
    recorded_by = models.ForeignKey("portal.User", on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-starts_at"]

    def __str__(self):
        return f"{self.provider} {self.starts_at:%Y-%m-%d %H:%M}"

    # Relief is recorded for outages of hours or days: a window outside these years is a typing slip
    # (and one that long would have every month between rebuilt), as is one longer than a year.
    YEARS = (1970, 2999)
    LONGEST = dt.timedelta(days=366)

    def clean(self):
        for name in ("starts_at", "ends_at"):
            value = getattr(self, name)
            if value and not self.YEARS[0] <= value.year <= self.YEARS[1]:
                raise ValidationError({name: f"Give a time between {self.YEARS[0]} and {self.YEARS[1]}."})
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": "The window must end after it starts."})
        if self.starts_at and self.ends_at and self.ends_at - self.starts_at > self.LONGEST:
            raise ValidationError({"ends_at": "A relief window lasts at most 366 days; record longer ones in parts."})

    def applies(self, provider_code, region, start_at):
        return (self.provider == provider_code and (not self.region or self.region == region)
                and self.starts_at <= start_at < self.ends_at)


class Fact(models.Model):
    """What every fact has: the service user it counts for and the device and region it came from
    (the fields of RequestFact and AlertFact that the loaders and the fold fill alike)."""

    scope_rule = ScopeRule(Domain.OPERATIONAL, org_path="organisation")

    # No database constraint: a per-row deferred check at COMMIT was a fifth of a file load's time.
    # Every writer resolves the organisation first (the loader by a join on its code, the fold from
    # the adapter's own foreign key) and PROTECT still guards deletes in the ORM.
    organisation = models.ForeignKey("portal.Organisation", on_delete=models.PROTECT, related_name="+",
                                     db_constraint=False, db_index=False)
    device_id = models.CharField(max_length=23, blank=True)
    region = models.CharField(max_length=10, blank=True)

    class Meta:
        abstract = True


class RequestFact(Fact):
    """One completed service request as measured: its timestamps, frozen when it completed (or as
    loaded from another system), and the interval durations derived from them in microseconds
    (NULL: the interval never started, so not measured; -1: started but never ended, a miss)."""

    request_id = models.CharField(max_length=120)
    srv = models.CharField(max_length=12, blank=True)
    measurement_type = models.CharField(max_length=30, choices=MeasurementType.choices)
    start_at = models.DateTimeField()
    received_at = models.DateTimeField(null=True, blank=True)
    dsp_sent_at = models.DateTimeField(null=True, blank=True)
    wan_delivered_at = models.DateTimeField(null=True, blank=True)
    device_responded_at = models.DateTimeField(null=True, blank=True)
    wan_returned_at = models.DateTimeField(null=True, blank=True)
    responded_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=8, blank=True)
    measured = models.BooleanField(default=True, help_text="false: never left DCC (rejected, quarantined, cancelled)")
    day = models.DateField(help_text="London date of start_at: the day and month it counts in")
    dsp_outbound_us = models.BigIntegerField(null=True)
    csp_us = models.BigIntegerField(null=True)
    dsp_inbound_us = models.BigIntegerField(null=True)
    dsp_total_us = models.BigIntegerField(null=True)
    end_to_end_us = models.BigIntegerField(null=True)

    class Meta:
        # The indexes a month's load maintains, and no others: the key; start_at, which the
        # dashboards and burn rates read by range (a btree: a file need not be in time order, and
        # with BRIN the planner scanned the whole table for "the last hour" of a month loaded
        # unsorted); day as BRIN on PostgreSQL (rebuilds read whole months; a few pages instead of
        # a btree entry per row; migration 0006, SQLite has no BRIN). No index on organisation:
        # every reader narrows by time first. A UniqueConstraint, not unique=True, which would add
        # a second (varchar_pattern_ops) btree no query uses. On PostgreSQL the table is partitioned
        # by month on day (slas.partitions, migration 0012), and a partitioned table's unique keys
        # must hold the partition key: the key is unique per (request_id, day) there, the primary
        # key is (id, day), and the loader checks a request_id against the other months itself.
        constraints = [models.UniqueConstraint(fields=["request_id", "day"], name="slas_reqfact_request_id")]
        indexes = [models.Index(fields=["start_at"], name="slas_reqfact_start_at")]

    def __str__(self):
        return self.request_id


class AlertFact(Fact):
    """One alert as measured: raised at the hub (a1), received at the WAN gateway (a2), delivered
    to the service user (a3), with its leg durations in microseconds (as for RequestFact)."""

    alert_id = models.CharField(max_length=120)
    alert_code = models.CharField(max_length=16, blank=True)
    raised_at = models.DateTimeField()
    wan_received_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    day = models.DateField()
    csp_us = models.BigIntegerField(null=True)
    dsp_us = models.BigIntegerField(null=True)
    end_to_end_us = models.BigIntegerField(null=True)

    class Meta:
        # As RequestFact: the key (with day: partitioned by month), a btree on raised_at (burn
        # rates), BRIN on day (migration 0006).
        constraints = [models.UniqueConstraint(fields=["alert_id", "day"], name="slas_alertfact_alert_id")]
        indexes = [models.Index(fields=["raised_at"], name="slas_alertfact_raised_at")]

    def __str__(self):
        return self.alert_id


class FactArchive(models.Model):
    """One month of one kind of fact taken out of the database (PostgreSQL: its partition detached
    and dropped) into a gzip CSV file, with the file's SHA-256 (also written beside it) and row
    count, checked when it is restored. The month's rollups and report summary stay, so its
    reports still answer. restored_at: put back (slas_restore_facts); a later archive is a new row."""

    month = models.DateField(help_text="first day of the London month")
    kind = models.CharField(max_length=10, choices=FactKind.choices)
    path = models.CharField(max_length=500, help_text="the gzip CSV file")
    rows = models.BigIntegerField()
    sha256 = models.CharField(max_length=64)
    archived_at = models.DateTimeField(default=timezone.now)
    restored_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["month", "kind"]
        constraints = [models.UniqueConstraint(fields=["month", "kind"], condition=models.Q(restored_at__isnull=True),
                                               name="slas_factarchive_one_live")]

    def __str__(self):
        return f"{self.month:%Y-%m} {self.kind} ({self.rows} rows)"


class Rollup(models.Model):
    """The counts of one measure, provider, region and service user over a period (a day for
    DailyRollup, a month for MonthRollup, each naming its period in its own key field)."""

    scope_rule = ScopeRule(Domain.OPERATIONAL, org_path="organisation")

    measure = models.ForeignKey(Measure, on_delete=models.CASCADE, related_name="+")
    provider = models.CharField(max_length=20)
    # The region for CSP measures; for incident measures the resolver's organisation code (as
    # long as an organisation code), "" for unassigned; blank for the others.
    region = models.CharField(max_length=32, blank=True)
    organisation = models.ForeignKey("portal.Organisation", on_delete=models.PROTECT, related_name="+")
    measured = models.BigIntegerField(default=0)
    within = models.BigIntegerField(default=0)
    excluded = models.BigIntegerField(default=0)

    class Meta:
        abstract = True


class DailyRollup(Rollup):
    """Exact counts for one London day, measure, region and service user: measured, within target
    and excluded by relief. Kept as facts arrive; rebuilt per month by slas_rebuild_rollups."""

    day = models.DateField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "measure", "region", "organisation"],
                                               name="slas_dailyrollup_key")]

    def __str__(self):
        return f"{self.day} {self.measure_id} {self.region} {self.organisation_id}"


class MonthRollup(Rollup):
    """The month's counts for one measure, region and service user, plus the latency histogram
    (log-spaced buckets, slas.metrics) of the intervals that ended. Reports read these."""

    month = models.DateField(help_text="first day of the London month")
    histogram = models.JSONField(default=dict)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["month", "measure", "region", "organisation"],
                                               name="slas_monthrollup_key")]

    def __str__(self):
        return f"{self.month:%Y-%m} {self.measure_id} {self.region} {self.organisation_id}"


class MonthSummary(models.Model):
    """One group of the monthly report, precomputed from the month's MonthRollup rows: a measure
    nationally (organisation empty; per region for CSP measures) or for one service user, with
    its counts and the p50/p95/p99 latencies of the merged histogram. The report reads these
    (~1,500 rows a month) instead of merging ~3,000 histograms on every read; each row keeps its
    merged histogram (the charts draw it). Recomputed whenever the month's rollups change
    (slas.rollups.refresh_summaries, checked against MonthSummaryStamp)."""

    scope_rule = ScopeRule(Domain.OPERATIONAL, org_path="organisation")

    month = models.DateField(help_text="first day of the London month")
    measure = models.ForeignKey(Measure, on_delete=models.CASCADE, related_name="+")
    region = models.CharField(max_length=32, blank=True,
                              help_text="CSP measures: the region; incident measures: the resolver; others blank")
    organisation = models.ForeignKey("portal.Organisation", on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+", help_text="empty: every service user")
    measured = models.BigIntegerField(default=0)
    within = models.BigIntegerField(default=0)
    excluded = models.BigIntegerField(default=0)
    # Percentiles as PostgreSQL's percentile_cont defines them (interpolated between order
    # statistics), each order statistic read from its histogram bucket (slas.metrics).
    p50_seconds = models.FloatField(null=True)
    p95_seconds = models.FloatField(null=True)
    p99_seconds = models.FloatField(null=True)
    histogram = models.JSONField(default=dict, blank=True, help_text="the merged latency histogram")

    class Meta:
        indexes = [models.Index(fields=["month", "organisation"], name="slas_summary_month_org")]

    def __str__(self):
        return f"{self.month:%Y-%m} {self.measure_id} {self.region} {self.organisation_id or 'all'}"


class MonthSummaryStamp(models.Model):
    """Which state of a month's rollups its MonthSummary rows were computed from: a fingerprint
    (row count, sums of the counts, highest id) that changes whenever a rollup row is added,
    incremented or rebuilt. A reader finding a different fingerprint recomputes the summary."""

    month = models.DateField(unique=True)
    fingerprint = models.CharField(max_length=200)
    refreshed_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"{self.month:%Y-%m} {self.fingerprint}"


class Charge(models.Model):
    """A month's charge: a provider's operational charge (provider set) or a service user's
    monthly charges (organisation set), in pounds."""

    scope_rule = ScopeRule(Domain.OPERATIONAL, org_path="organisation")

    month = models.DateField(help_text="first day of the month")
    provider = models.CharField(max_length=20, choices=ProviderCode.choices, blank=True)
    organisation = models.ForeignKey("portal.Organisation", on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+")
    amount = models.DecimalField(max_digits=14, decimal_places=2, validators=[MinValueValidator(Decimal("0"))])
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["month", "provider", "organisation__code"]
        constraints = [
            models.UniqueConstraint(fields=["month", "provider"], condition=~models.Q(provider=""),
                                    name="slas_charge_provider_month"),
            models.UniqueConstraint(fields=["month", "organisation"], condition=models.Q(organisation__isnull=False),
                                    name="slas_charge_org_month"),
            models.CheckConstraint(
                condition=(models.Q(provider="", organisation__isnull=False)
                           | (~models.Q(provider="") & models.Q(organisation__isnull=True))),
                name="slas_charge_one_party"),
        ]

    def __str__(self):
        return f"{self.month:%Y-%m} {self.party}: £{self.amount}"

    @property
    def party(self):
        return self.provider or (self.organisation.code if self.organisation_id else "")

    def clean(self):
        if bool(self.provider) == bool(self.organisation_id):
            raise ValidationError("A charge belongs to exactly one party: a provider or a service user.")


class CreditRun(models.Model):
    """A frozen month: the measure results, each provider's credit calculation and the pool, with
    every input needed to recompute them. Version 1 is the scheduled freeze; later versions are
    restatements (with a reason)."""

    scope_rule = ScopeRule(Domain.OPERATIONAL)

    month = models.DateField()
    version = models.PositiveIntegerField(default=1)
    reason = models.TextField(blank=True)
    data = models.JSONField(default=dict)
    pool = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey("portal.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["-month", "-version"]
        constraints = [models.UniqueConstraint(fields=["month", "version"], name="slas_creditrun_month_version")]

    def __str__(self):
        return f"{self.month:%Y-%m} v{self.version}"


class Statement(models.Model):
    """One service user's credit statement for a month, in one version. Issued statements never
    change: a restatement issues a new version (with its reason); the latest version is current and
    every earlier one stays readable."""

    scope_rule = ScopeRule(Domain.OPERATIONAL, org_path="organisation")

    organisation = models.ForeignKey("portal.Organisation", on_delete=models.PROTECT, related_name="+")
    month = models.DateField()
    version = models.PositiveIntegerField(default=1)
    run = models.ForeignKey(CreditRun, on_delete=models.PROTECT, related_name="statements")
    reason = models.TextField(blank=True)
    charges = models.DecimalField(max_digits=14, decimal_places=2)
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    data = models.JSONField(default=dict)
    issued_at = models.DateTimeField()
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-month", "organisation__code", "-version"]
        constraints = [models.UniqueConstraint(fields=["organisation", "month", "version"],
                                               name="slas_statement_version")]

    def __str__(self):
        return f"{self.organisation.code} {self.month:%Y-%m} v{self.version}"

    def get_absolute_url(self):
        """The statement's page (this version)."""
        return reverse("slas:statement_detail", args=[self.pk])

    @property
    def reference(self):
        return f"{self.organisation.code}-{self.month:%Y-%m}-v{self.version}"


class FoldState(models.Model):
    """Where the fold of adapter records has got to (a completed_at/created_at watermark)."""

    name = models.CharField(max_length=40, unique=True)
    watermark = models.DateTimeField(null=True)
    last_pk = models.BigIntegerField(default=0)

    def __str__(self):
        return self.name


class BurnRateRule(models.Model):
    """When to warn that a service measure spends its monthly error budget too fast: the miss
    rate over a short and a long window, each divided by the rate the budget allows, must both
    reach ``threshold`` (the multi-window burn-rate rule of SLO practice)."""

    scope_rule = ScopeRule(Domain.CONFIGURATION)

    name = models.CharField(max_length=100, unique=True)
    measure_code = models.CharField(max_length=40, blank=True,
                                    help_text="Service measure code (e.g. PM1.1); blank: every measure")
    short_window_minutes = models.PositiveIntegerField(default=60)
    long_window_minutes = models.PositiveIntegerField(default=360)
    threshold = models.DecimalField(max_digits=6, decimal_places=2, default=14.4,
                                    help_text="Burn rate (multiple of the budgeted miss rate) that warns")
    min_requests = models.PositiveIntegerField(default=20, help_text="Ignore windows with fewer measured requests")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class BurnRateEpisode(models.Model):
    """A stretch of time during which a rule fired for one measure (and region). DCC operations
    are warned once when it opens; it closes when the short window recovers."""

    scope_rule = ScopeRule(Domain.OPERATIONAL)  # no owner: DCC's alone

    rule = models.ForeignKey(BurnRateRule, on_delete=models.CASCADE, related_name="episodes")
    measure_code = models.CharField(max_length=40)
    region = models.CharField(max_length=10, blank=True)
    state = models.CharField(max_length=8, choices=EpisodeState.choices, default=EpisodeState.OPEN)
    opened_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    short_rate = models.DecimalField(max_digits=10, decimal_places=2)
    long_rate = models.DecimalField(max_digits=10, decimal_places=2)
    details = models.JSONField(default=dict, blank=True, help_text="Misses and counts per window when it opened")

    class Meta:
        ordering = ["-opened_at"]
        constraints = [
            models.UniqueConstraint(fields=["rule", "measure_code", "region"], condition=models.Q(state="open"),
                                    name="burnrate_one_open_episode")
        ]

    def __str__(self):
        return f"{self.measure_code} burning since {self.opened_at:%d %b %H:%M}"


auditlog.register(Measure)
auditlog.register(ProviderTerms)
auditlog.register(ReliefEvent)
auditlog.register(Charge)
auditlog.register(FactArchive)
auditlog.register(CreditRun, exclude_fields=["data"])
auditlog.register(Statement, exclude_fields=["data"])
auditlog.register(BurnRateRule)
