"""Device commands: the SRV catalogue, service requests and their send attempts, batches,
alerts and anomaly thresholds, and the device simulator's per-device state."""
from auditlog.registry import auditlog
from django.conf import settings
from django.db import models
from django.urls import reverse

from adapter.choices import (
    AttemptState,
    BatchState,
    CertificateState,
    CertificateUsage,
    FuturePattern,
    MeasurementType,
    PopulationSource,
    RequestState,
    RolloutState,
    ThresholdChangeState,
    ThresholdPeriod,
    WaveSizeKind,
    WaveState,
)
from portal.choices import Region
from portal.scoping import Domain, ScopeRule


class ServiceRequestVariant(models.Model):
    """One DUIS service request variant (SRV), e.g. 7.5 Activate Auxiliary Load: who may send it,
    to which device types, how it is measured and which parameters it takes."""

    scope_rule = ScopeRule(Domain.REFERENCE)

    code = models.CharField(max_length=12, unique=True)
    name = models.CharField(max_length=120)
    critical = models.BooleanField(default=False, help_text="Signed by the user as a pre-command before sending")
    on_demand = models.BooleanField(default=True)
    future_dated_pattern = models.CharField(max_length=16, choices=FuturePattern.choices, default=FuturePattern.NONE)
    dcc_scheduled = models.BooleanField(default=False)
    non_device = models.BooleanField(default=False)
    roles = models.JSONField(default=list, blank=True, help_text="DUIS user roles that may send it")
    device_types = models.JSONField(default=list, blank=True)
    measurement_type = models.CharField(max_length=20, choices=MeasurementType.choices,
                                        default=MeasurementType.ON_DEMAND)
    param_schema = models.JSONField(default=dict, blank=True)
    sort_order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["sort_order", "code"]

    def __str__(self):
        return f"{self.code} {self.name}"

    @property
    def dsp_holds_future(self):
        return self.future_dated_pattern in (FuturePattern.DSP, FuturePattern.BOTH)

    @property
    def device_holds_future(self):
        return self.future_dated_pattern == FuturePattern.DEVICE

    @property
    def future_datable(self):
        return self.future_dated_pattern != FuturePattern.NONE


class OriginatorCounter(models.Model):
    """The last request-id counter handed out for one originator (an organisation's DUIS user id,
    EUI-64). Request ids (originator:target:counter) are unique per originator, not per person, so
    every person of one organisation draws from this one counter."""

    originator = models.CharField("originator (EUI-64)", max_length=23, unique=True)
    value = models.PositiveBigIntegerField(default=0)

    def __str__(self):
        return f"{self.originator}: {self.value}"


def _four_eyes_names(obj):
    # Only once decided: every other save of a request stays free of extra queries.
    if not (obj.approved_by_id or obj.declined_by_id):
        return None
    decider = obj.approved_by if obj.approved_by_id else obj.declined_by
    return {"requested_by": str(obj.user) if obj.user_id else "", "requested_by_id": obj.user_id,
            ("approved_by" if obj.approved_by_id else "declined_by"): str(decider),
            ("approved_by_id" if obj.approved_by_id else "declined_by_id"): decider.pk}


class FourEyes(models.Model):
    """The second DCC person's decision on what another DCC person sent: who approved or declined
    it, and when. A DCC batch over ADAPTER_FOUR_EYES_BATCH_SIZE rows and a critical request sent by
    DCC staff wait for it."""

    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+")
    approved_at = models.DateTimeField(null=True, blank=True)
    declined_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+")
    declined_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True


class Batch(FourEyes):
    """An uploaded file (or API list) of service requests, checked row by row and run to completion.
    ``source`` is the upload as received, needed until its rows are checked: the nightly purge empties it
    once the batch has ended and is older than UPLOAD_RETENTION_DAYS (its rows and results stay)."""

    scope_rule = ScopeRule(Domain.OPERATIONAL, org_path="organisation")

    organisation = models.ForeignKey("portal.Organisation", on_delete=models.PROTECT, related_name="batches")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    name = models.CharField(max_length=200, blank=True)
    filename = models.CharField(max_length=255, blank=True)
    source = models.BinaryField(editable=False, help_text="The uploaded rows as received (CSV or JSON)")
    source_format = models.CharField(max_length=8, default="csv")
    state = models.CharField(max_length=20, choices=BatchState.choices, default=BatchState.UPLOADED)
    total_rows = models.PositiveIntegerField(default=0)
    checked_rows = models.PositiveIntegerField(default=0)
    accepted_rows = models.PositiveIntegerField(default=0)
    rejected_rows = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    checked_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    needs_approval = models.BooleanField(default=False, help_text="Held for a second DCC person (four eyes)")
    # A paused rollout holds its waves' batches: dispatch claims none of their requests (in-flight ones finish).
    held = models.BooleanField(default=False, help_text="Held: none of its requests is handed to the network")
    # A rollout's batch (a wave, or a retry of its failed): its rollout's throttle and time window
    # apply to it (``paced``): only its own dispatch task claims its requests, at the rollout's pace.
    rollout = models.ForeignKey("adapter.Rollout", on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="batches", help_text="The rollout it sends for (a wave or a retry)")
    paced = models.BooleanField(default=False, help_text="Sent at its rollout's throttle and in its time window")

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["organisation", "id"], name="adapter_batch_org_id")]
        verbose_name_plural = "batches"

    def __str__(self):
        return self.name or f"Batch {self.pk}"

    def get_absolute_url(self):
        """The batch's page: progress and each row's outcome."""
        return reverse("adapter:batch_detail", args=[self.pk])

    def get_additional_data(self):
        """Both names of a four-eyes decision in its audit entry (django-auditlog calls this)."""
        return _four_eyes_names(self)


class BatchRow(models.Model):
    """The check result of one row of a batch: accepted (with its request) or rejected with a code."""

    scope_rule = ScopeRule(Domain.OPERATIONAL, org_path="batch__organisation")

    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="rows")
    row = models.PositiveIntegerField()
    srv_code = models.CharField(max_length=12, blank=True)
    device_ref = models.CharField(max_length=40, blank=True)
    code = models.CharField(max_length=8, blank=True, help_text="I99 accepted, Q quarantined, or the E-code")
    message = models.TextField(blank=True)
    request = models.OneToOneField("ServiceRequest", on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="batch_row")

    class Meta:
        ordering = ["batch", "row"]
        constraints = [models.UniqueConstraint(fields=["batch", "row"], name="adapter_batchrow_unique")]

    def __str__(self):
        return f"{self.batch_id} row {self.row}"


class ServiceRequestQuerySet(models.QuerySet):
    def for_list(self):
        return self.select_related("srv", "organisation", "device")

    def open(self):
        from adapter.choices import TERMINAL

        return self.exclude(state__in=TERMINAL)


class ServiceRequest(FourEyes):
    """One service request a user sent to DCC: what, to which device, and what happened to it,
    with a timestamp for each step from the User Gateway to the device and back."""

    scope_rule = ScopeRule(Domain.OPERATIONAL, org_path="organisation")

    request_id = models.CharField(max_length=80, unique=True, help_text="originator EUI-64:target EUI-64:counter")
    srv = models.ForeignKey(ServiceRequestVariant, on_delete=models.PROTECT, related_name="requests")
    organisation = models.ForeignKey("portal.Organisation", on_delete=models.PROTECT, related_name="service_requests")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                             related_name="service_requests")
    device = models.ForeignKey("inventory.Device", on_delete=models.PROTECT, null=True, blank=True,
                               related_name="service_requests")
    device_ref = models.CharField(max_length=40, blank=True, help_text="The target as given (kept when unknown)")
    region = models.CharField(max_length=10, choices=Region.choices, blank=True)
    measurement_type = models.CharField(max_length=20, choices=MeasurementType.choices)
    state = models.CharField(max_length=20, choices=RequestState.choices, default=RequestState.RECEIVED)
    outcome = models.CharField(max_length=8, blank=True, help_text="DUIS response code: I99, I0, E21...")
    message = models.TextField(blank=True, help_text="Readable reason of a rejection or failure")
    params = models.JSONField(default=dict, blank=True)
    execute_at = models.DateTimeField(null=True, blank=True)
    start_at = models.DateTimeField(null=True, blank=True, help_text="When the clock of the measure starts")
    received_at = models.DateTimeField(null=True, blank=True)
    dsp_sent_at = models.DateTimeField(null=True, blank=True)
    wan_delivered_at = models.DateTimeField(null=True, blank=True)
    device_responded_at = models.DateTimeField(null=True, blank=True)
    wan_returned_at = models.DateTimeField(null=True, blank=True)
    responded_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True, db_index=True)
    batch = models.ForeignKey(Batch, on_delete=models.SET_NULL, null=True, blank=True, related_name="requests")
    # The two-step flow of critical requests: transformed into a pre-command, then signed by the
    # requesting organisation's own key (adapter.signing says which bytes); never sent unsigned.
    precommand = models.TextField(blank=True, help_text="The pre-command to sign (its UTF-8 bytes are signed)")
    precommand_at = models.DateTimeField(null=True, blank=True)
    signature = models.CharField(max_length=128, blank=True,
                                 help_text="The user's ECDSA P-256 signature of the pre-command, base64")
    signed_at = models.DateTimeField(null=True, blank=True)
    signature_failures = models.PositiveSmallIntegerField(
        default=0, help_text="Signatures offered for the pre-command that did not verify")
    attempts = models.PositiveSmallIntegerField(default=0)
    response = models.JSONField(default=dict, blank=True, help_text="Body of the device's response")
    notified_at = models.DateTimeField(null=True, blank=True, help_text="When the quarantine notice went out")
    released_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+")

    objects = ServiceRequestQuerySet.as_manager()
    # Not stored: adapter.services.request_submit sets it on the request it answers with (True
    # when the request id had been used before, so nothing was sent again).
    resubmitted: bool

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["organisation", "id"], name="adapter_sr_org_id"),
            models.Index(fields=["state", "id"], name="adapter_sr_state_id"),
            models.Index(fields=["device", "id"], name="adapter_sr_device_id"),
            models.Index(fields=["batch", "state"], name="adapter_sr_batch_state"),
            # srv last: a user's monthly transactions by SRV (the SSI report RSAT_001) are counted
            # by an index-only scan of its month, never the table (a key column rather than
            # INCLUDE, which SQLite does not support).
            models.Index(fields=["organisation", "received_at", "srv"], name="adapter_sr_org_received"),
            models.Index(fields=["state", "execute_at"], name="adapter_sr_state_execute"),
        ]

    def __str__(self):
        return self.request_id

    def get_absolute_url(self):
        """The request's page: its timeline and attempts."""
        return reverse("adapter:request_detail", args=[self.pk])

    def get_additional_data(self):
        """Both names of a four-eyes decision in its audit entry (django-auditlog calls this)."""
        return _four_eyes_names(self)

    @property
    def counter(self):
        return int(self.request_id.rsplit(":", 1)[1])

    @property
    def is_terminal(self):
        from adapter.choices import TERMINAL

        return self.state in TERMINAL


class SendAttempt(models.Model):
    """One hand-over of a request to the backend. Unique per (request, attempt): a worker that is
    stopped and restarted can never send the same attempt twice; a lost attempt is retried as a
    new attempt number."""

    scope_rule = ScopeRule(Domain.OPERATIONAL, org_path="request__organisation")

    request = models.ForeignKey(ServiceRequest, on_delete=models.CASCADE, related_name="send_attempts")
    attempt = models.PositiveSmallIntegerField()
    state = models.CharField(max_length=10, choices=AttemptState.choices, default=AttemptState.SENDING)
    backend = models.CharField(max_length=20)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=8, blank=True)

    class Meta:
        ordering = ["request", "attempt"]
        constraints = [models.UniqueConstraint(fields=["request", "attempt"], name="adapter_attempt_unique")]
        indexes = [models.Index(fields=["state", "started_at"], name="adapter_attempt_state")]

    def __str__(self):
        return f"{self.request_id}#{self.attempt}"


class ThresholdKey(models.Model):
    """What a limit on an organisation's requests is of: one SRV (empty: all of them) in a period.
    An anomaly threshold and DCC's floor under it are keyed alike, one per organisation, SRV and
    period; each declares its ``organisation`` and ``limit``."""

    scope_rule = ScopeRule(Domain.OPERATIONAL, org_path="organisation")

    srv = models.ForeignKey(ServiceRequestVariant, on_delete=models.CASCADE, null=True, blank=True,
                            related_name="+", help_text="Empty: all service requests")
    period = models.CharField(max_length=8, choices=ThresholdPeriod.choices, default=ThresholdPeriod.DAY)

    class Meta:
        abstract = True
        ordering = ["organisation", "srv__sort_order", "period"]

    def __str__(self):
        return f"{self.srv.code if self.srv_id else 'all'} ≤ {self.limit} {self.get_period_display().lower()}"


class AnomalyThreshold(ThresholdKey):
    """A service user's limit on how many requests (of one SRV, or of all) it sends in a period;
    requests over it are quarantined until a DCC operator releases or rejects them."""

    organisation = models.ForeignKey("portal.Organisation", on_delete=models.CASCADE,
                                     related_name="anomaly_thresholds")
    limit = models.PositiveIntegerField()
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta(ThresholdKey.Meta):
        constraints = [models.UniqueConstraint(fields=["organisation", "srv", "period"],
                                               name="adapter_threshold_unique")]


class ThresholdFloor(ThresholdKey):
    """DCC's floor under a service user's anomaly threshold: the loosest limit (of one SRV, or of
    all, per period) the organisation may set without DCC's approval. A user may tighten a
    floored threshold at once; raising it above ``limit`` or deleting it becomes a pending
    ThresholdChange that a DCC person approves or declines."""

    organisation = models.ForeignKey("portal.Organisation", on_delete=models.CASCADE, related_name="threshold_floors")
    limit = models.PositiveIntegerField(help_text="The loosest limit the organisation may set on its own")
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                               related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta(ThresholdKey.Meta):
        constraints = [models.UniqueConstraint(fields=["organisation", "srv", "period"],
                                               name="adapter_thresholdfloor_unique")]

    def __str__(self):
        return f"floor {super().__str__()}"


class ThresholdChange(models.Model):
    """A service user's change to an anomaly threshold that would loosen it past DCC's floor
    (a higher limit, or deleting it): held until a DCC person approves (then applied) or
    declines it. ``limit`` empty means "delete the threshold"."""

    scope_rule = ScopeRule(Domain.OPERATIONAL, org_path="organisation")

    organisation = models.ForeignKey("portal.Organisation", on_delete=models.CASCADE,
                                     related_name="threshold_changes")
    threshold = models.ForeignKey(AnomalyThreshold, on_delete=models.SET_NULL, null=True, blank=True,
                                  related_name="changes")
    srv = models.ForeignKey(ServiceRequestVariant, on_delete=models.CASCADE, null=True, blank=True,
                            related_name="+", help_text="Empty: all service requests")
    period = models.CharField(max_length=8, choices=ThresholdPeriod.choices, default=ThresholdPeriod.DAY)
    limit = models.PositiveIntegerField(null=True, blank=True, help_text="Empty: delete the threshold")
    note = models.CharField(max_length=200, blank=True)
    state = models.CharField(max_length=10, choices=ThresholdChangeState.choices,
                             default=ThresholdChangeState.PENDING)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                     related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self):
        what = "delete" if self.limit is None else f"≤ {self.limit}"
        return f"{self.srv.code if self.srv_id else 'all'} {what} {self.get_period_display().lower()}"


class Alert(models.Model):
    """An alert from a device or from DCC (e.g. ALCS override start, power outage), forwarded to
    the service user responsible, with the times it was raised, reached the WAN gateway and was
    delivered (measured by PM3)."""

    scope_rule = ScopeRule(Domain.OPERATIONAL, org_path="organisation")

    alert_id = models.CharField(max_length=80, unique=True)
    alert_code = models.CharField(max_length=16, help_text="GBCS alert code, e.g. 0x8F3A, or a DCC alert code")
    description = models.CharField(max_length=200, blank=True)
    organisation = models.ForeignKey("portal.Organisation", on_delete=models.PROTECT, related_name="alerts")
    device = models.ForeignKey("inventory.Device", on_delete=models.SET_NULL, null=True, blank=True,
                               related_name="alerts")
    region = models.CharField(max_length=10, choices=Region.choices, blank=True)
    raised_at = models.DateTimeField()
    wan_received_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    payload = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-id"]
        # raised_at: the dashboard counts alerts raised in the last hour, on an index so the
        # tile's cost does not grow with the table.
        indexes = [models.Index(fields=["organisation", "id"], name="adapter_alert_org_id"),
                   models.Index(fields=["raised_at"], name="adapter_alert_raised_at")]

    def __str__(self):
        return f"{self.alert_code} {self.alert_id}"


class Certificate(models.Model):
    """An X.509 certificate binding a public key to a DUIS identity (the subject's EUI-64) for one
    use: signing DUIS messages, signing critical pre-commands, or the head-end signing its responses.
    The portal keeps only certificates (public keys); which private key, if any, it may use is
    decided by the key store and the organisation's delegation, never by this record. DUIS looks a
    certificate up by issuer and serial (KeyInfo/X509IssuerSerial), so that pair is unique."""

    scope_rule = ScopeRule(Domain.OPERATIONAL, org_path="organisation")

    organisation = models.ForeignKey("portal.Organisation", on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="certificates", help_text="Empty: DCC's head-end")
    usage = models.CharField(max_length=20, choices=CertificateUsage.choices)
    subject_eui64 = models.CharField("subject (EUI-64)", max_length=23, db_index=True)
    issuer = models.CharField(max_length=400, help_text="The issuer's distinguished name (RFC 4514)")
    serial = models.CharField(max_length=60, help_text="Serial number in decimal, as X509SerialNumber")
    pem = models.TextField()
    not_before = models.DateTimeField()
    not_after = models.DateTimeField()
    state = models.CharField(max_length=10, choices=CertificateState.choices, default=CertificateState.PENDING)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+")
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+")
    approved_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["subject_eui64", "usage", "-not_before"]
        constraints = [models.UniqueConstraint(fields=["issuer", "serial"], name="adapter_certificate_issuer_serial")]
        indexes = [models.Index(fields=["subject_eui64", "usage", "state"], name="adapter_cert_subject_usage")]

    def __str__(self):
        return f"{self.subject_eui64} {self.get_usage_display()} #{self.serial}"

    @property
    def revoked(self):
        return self.state == CertificateState.REVOKED

    def valid_at(self, when):
        """Approved, not revoked and within its validity dates at ``when``."""
        return self.state == CertificateState.APPROVED and self.not_before <= when <= self.not_after


class MessageSigningDelegation(models.Model):
    """A service user's permission for the portal to sign its DUIS messages with a message-signing
    key the portal's key store holds for the organisation's DUIS user id. Without an active one
    (revoked_at empty) the portal never signs for that organisation: it signs its own DUIS
    documents and posts them through the API, where the portal only verifies them."""

    scope_rule = ScopeRule(Domain.OPERATIONAL, org_path="organisation")

    organisation = models.ForeignKey("portal.Organisation", on_delete=models.PROTECT,
                                     related_name="message_signing_delegations")
    granted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    granted_at = models.DateTimeField()
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["organisation", "-granted_at"]
        constraints = [models.UniqueConstraint(fields=["organisation"], condition=models.Q(revoked_at__isnull=True),
                                               name="adapter_delegation_one_active")]

    def __str__(self):
        return f"{self.organisation_id} message signing {'revoked' if self.revoked_at else 'delegated'}"

    @property
    def active(self):
        return self.revoked_at is None


class SignedDuisDocument(models.Model):
    """A DUIS request document a service user signed itself and posted for one of its requests.
    The portal verified it against the organisation's registered message-signing certificate when
    it was posted and sends exactly these bytes; it never re-signs or re-serialises them."""

    scope_rule = ScopeRule(Domain.OPERATIONAL, org_path="request__organisation")

    request = models.OneToOneField(ServiceRequest, on_delete=models.CASCADE, related_name="signed_document")
    document = models.BinaryField()
    certificate = models.ForeignKey(Certificate, on_delete=models.PROTECT, related_name="+")
    posted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                  related_name="+")
    posted_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"signed document of {self.request_id}"


class SimulatedDevice(models.Model):
    """The device simulator's memory of one device: its ALCS switches, supply state, calendar and
    pending refresh (JSON kept by adapter.alcs)."""

    device = models.OneToOneField("inventory.Device", on_delete=models.CASCADE, related_name="+")
    state = models.JSONField(default=dict)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return str(self.device_id)


auditlog.register(ServiceRequestVariant)
auditlog.register(Batch, exclude_fields=["source"])
auditlog.register(AnomalyThreshold)
auditlog.register(Certificate, exclude_fields=["pem"])
auditlog.register(MessageSigningDelegation)
auditlog.register(SignedDuisDocument, exclude_fields=["document"])
auditlog.register(ThresholdFloor)
auditlog.register(ThresholdChange)
auditlog.register(ServiceRequest, include_fields=["state", "outcome", "released_by", "signed_at", "signature_failures",
                                                  "approved_by", "declined_by"])


# --- Rollouts (adapter.rollouts) ------------------------------------------------------------------

PACING_FIELDS = ("max_in_flight", "max_per_second", "region_max_in_flight", "region_max_per_second")


class Rollout(FourEyes):
    """One SRV with its parameters sent to a whole population of devices in waves, each wave a
    Batch of the ordinary batch path (so every check, counter, four-eyes rule and signature of a
    batch applies), under a success threshold that starts the next wave and an error threshold
    that stops the rollout. The population comes from an uploaded list of device ids or a saved
    filter of the device register; it is frozen (RolloutMember rows) when the rollout starts."""

    scope_rule = ScopeRule(Domain.OPERATIONAL, org_path="organisation")

    organisation = models.ForeignKey("portal.Organisation", on_delete=models.PROTECT, related_name="rollouts",
                                     help_text="Whose rollout it is: its requests are sent as this organisation")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+", help_text="The person its waves' batches are sent for")
    name = models.CharField(max_length=200)
    srv = models.ForeignKey(ServiceRequestVariant, on_delete=models.PROTECT, related_name="rollouts")
    params = models.JSONField(default=dict, blank=True, help_text="Validated once against the SRV's schema")
    state = models.CharField(max_length=20, choices=RolloutState.choices, default=RolloutState.DRAFT)
    population_source = models.CharField(max_length=16, choices=PopulationSource.choices)
    device_list = models.TextField(blank=True, help_text="The uploaded device ids, as received (source: list)")
    saved_filter = models.ForeignKey("portal.SavedFilter", on_delete=models.SET_NULL, null=True, blank=True,
                                     related_name="+", help_text="A saved filter of the device register")
    source_rollout = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
                                       help_text="The earlier rollout whose failed devices it sends to")
    source_failure_class = models.CharField(max_length=16, blank=True,
                                            help_text="Only the earlier rollout's failures of this class")
    population_query = models.CharField(max_length=1000, blank=True,
                                        help_text="The saved filter's querystring as evaluated at the start")
    population_size = models.PositiveIntegerField(default=0, help_text="Members frozen at the start")
    duplicates_dropped = models.PositiveIntegerField(default=0, help_text="Device ids listed more than once")
    dry_run_counts = models.JSONField(default=dict, blank=True, help_text="The last dry run's counts by outcome")
    # Four eyes: a rollout of a critical SRV, or of more devices than ADAPTER_ROLLOUT_APPROVAL_SIZE,
    # waits (its population frozen, nothing sent) for a second person who is not its starter.
    needs_approval = models.BooleanField(default=False, help_text="Waits for a second person before its first wave")
    approval_reason = models.CharField(max_length=200, blank=True, help_text="Why it needs a second person")
    dry_run_at = models.DateTimeField(null=True, blank=True)
    # Throttle (empty: no limit). In flight: handed to the network, no final response yet. Per
    # second: attempts started in the last second. The region limits apply to each CSP region on
    # its own (the device's region in the register), so a rollout never floods one CSP.
    max_in_flight = models.PositiveIntegerField(null=True, blank=True, help_text="Most requests in flight at once")
    max_per_second = models.PositiveIntegerField(null=True, blank=True, help_text="Most requests sent per second")
    region_max_in_flight = models.PositiveIntegerField(null=True, blank=True,
                                                       help_text="Most requests in flight at once in any one region")
    region_max_per_second = models.PositiveIntegerField(null=True, blank=True,
                                                        help_text="Most requests sent per second to any one region")
    # The time window in Europe/London local time (both or neither): requests are handed over only
    # from window_start until window_end; a window whose end is before its start crosses midnight.
    window_start = models.TimeField(null=True, blank=True, help_text="Sending starts (Europe/London)")
    window_end = models.TimeField(null=True, blank=True, help_text="Sending stops (Europe/London)")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["organisation", "id"], name="adapter_rollout_org_id"),
                   models.Index(fields=["state"], name="adapter_rollout_state")]

    def __str__(self):
        return self.name or f"Rollout {self.pk}"

    def get_absolute_url(self):
        """The rollout's page: its waves with counts by state and outcome, and its controls."""
        return reverse("adapter:rollout_detail", args=[self.pk])

    @property
    def is_paced(self):
        """Whether its batches are sent at a pace of their own (a throttle or a time window)."""
        return self.window_start is not None or any(getattr(self, name, None) is not None for name in PACING_FIELDS)


class RolloutWave(models.Model):
    """One step of a rollout: a share of its population (a number of devices or a percentage, the
    last wave taking whatever is left), sent as one Batch. ``success_threshold``: the share (%) of
    the wave's members answered I0 at which the next wave starts, by itself (``auto_advance``) or
    when a person starts it; ``error_threshold``: the share (%) of members ended in failure at which
    the rollout pauses itself (the emergency stop). Both count terminal outcomes only."""

    scope_rule = ScopeRule(Domain.OPERATIONAL, org_path="rollout__organisation")

    rollout = models.ForeignKey(Rollout, on_delete=models.CASCADE, related_name="waves")
    ordinal = models.PositiveSmallIntegerField(help_text="1 for the first wave")
    size_kind = models.CharField(max_length=8, choices=WaveSizeKind.choices, default=WaveSizeKind.PERCENT)
    size = models.DecimalField(max_digits=12, decimal_places=4, help_text="Devices, or per cent of the population")
    success_threshold = models.DecimalField(max_digits=5, decimal_places=2, default=95)
    error_threshold = models.DecimalField(max_digits=5, decimal_places=2, default=5)
    auto_advance = models.BooleanField(default=True, help_text="Start the next wave without waiting for a person")
    state = models.CharField(max_length=10, choices=WaveState.choices, default=WaveState.PENDING)
    member_count = models.PositiveIntegerField(default=0)
    batch = models.OneToOneField(Batch, on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="rollout_wave")
    started_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    members_linked_at = models.DateTimeField(null=True, blank=True,
                                             help_text="When its members were joined to their requests")
    # A person who resumes a paused rollout accepts the failures so far: the error threshold
    # then counts failures beyond these, and a wave that ended below its success threshold lets
    # a person start the next one.
    acknowledged_failures = models.PositiveIntegerField(default=0)
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["rollout", "ordinal"]
        constraints = [models.UniqueConstraint(fields=["rollout", "ordinal"], name="adapter_rolloutwave_unique")]

    def __str__(self):
        return f"{self.rollout_id} wave {self.ordinal}"

    def get_absolute_url(self):
        return self.rollout.get_absolute_url()


class RolloutMember(models.Model):
    """One device of a rollout's frozen population, in one wave, with its request once the wave
    has made it. A device is in a rollout at most once (unique by its canonical id)."""

    scope_rule = ScopeRule(Domain.OPERATIONAL, org_path="rollout__organisation")

    rollout = models.ForeignKey(Rollout, on_delete=models.CASCADE, related_name="members")
    wave = models.ForeignKey(RolloutWave, on_delete=models.CASCADE, related_name="members")
    row = models.PositiveIntegerField(help_text="Its row in the wave's batch (1 for the first)")
    device = models.ForeignKey("inventory.Device", on_delete=models.PROTECT, null=True, blank=True,
                               related_name="+", help_text="Empty: unknown to the register (E19 when checked)")
    device_ref = models.CharField(max_length=40, help_text="The device id, canonical EUI-64 where it is one")
    request = models.OneToOneField(ServiceRequest, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="rollout_member", help_text="Its latest attempt's request")
    # A retry is a new attempt of the same member (a new request, a new id): the member stays one.
    attempt = models.PositiveSmallIntegerField(default=1, help_text="1 for the wave's own request")
    retry = models.ForeignKey("adapter.RolloutRetry", on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="members", help_text="The retry that sends its latest attempt")

    class Meta:
        ordering = ["wave", "row"]
        constraints = [
            models.UniqueConstraint(fields=["rollout", "device_ref"], name="adapter_rolloutmember_device_once"),
            models.UniqueConstraint(fields=["wave", "row"], name="adapter_rolloutmember_row"),
        ]

    def __str__(self):
        return f"{self.rollout_id}: {self.device_ref}"


class RolloutRetry(models.Model):
    """A person's retry of a rollout's members that failed with one failure class (adapter.failures)
    that is retried: one Batch whose rows are those members, each a new attempt with a new request
    id, held until ``not_before`` (the back-off: it doubles with each attempt)."""

    scope_rule = ScopeRule(Domain.OPERATIONAL, org_path="rollout__organisation")

    rollout = models.ForeignKey(Rollout, on_delete=models.CASCADE, related_name="retries")
    wave = models.ForeignKey(RolloutWave, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
                             help_text="Empty: the failed of every wave")
    failure_class = models.CharField(max_length=16)
    attempt = models.PositiveSmallIntegerField(help_text="The attempt it sends (2 for the first retry)")
    batch = models.OneToOneField(Batch, on_delete=models.SET_NULL, null=True, blank=True, related_name="rollout_retry")
    member_count = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    created_at = models.DateTimeField()
    not_before = models.DateTimeField(help_text="Nothing of it is sent before (the back-off)")
    released_at = models.DateTimeField(null=True, blank=True)
    linked_at = models.DateTimeField(null=True, blank=True, help_text="When its members were joined to their "
                                     "new requests")
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["rollout", "id"]

    def __str__(self):
        return f"{self.rollout_id} retry {self.pk} ({self.failure_class})"

    def get_absolute_url(self):
        return self.rollout.get_absolute_url()


class RolloutEvent(models.Model):
    """A change of a rollout's state: who made it (empty: the rollout's own evaluation, e.g. its
    error threshold), when, from which state to which, and why."""

    scope_rule = ScopeRule(Domain.OPERATIONAL, org_path="rollout__organisation")

    rollout = models.ForeignKey(Rollout, on_delete=models.CASCADE, related_name="events")
    wave = models.ForeignKey(RolloutWave, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="+")
    at = models.DateTimeField()
    from_state = models.CharField(max_length=20, blank=True)
    to_state = models.CharField(max_length=20)
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["rollout", "at", "id"]

    def __str__(self):
        return f"{self.rollout_id}: {self.from_state or '-'} -> {self.to_state}"


auditlog.register(Rollout, exclude_fields=["device_list"])
auditlog.register(RolloutWave)
