"""Governance registers: meetings and workshops, actions, the RAID log, the document roadmap and
consultations. Every register is governance data (portal.scoping.Domain.GOVERNANCE): DCC staff view
and change it, SDAG members view it (and comment on open consultations, confirm RAID closures of
their organisation through the services), service-user staff see none of it."""
from datetime import timedelta

from auditlog.registry import auditlog
from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone

from portal.access import is_sdag_member
from portal.scoping import Domain, ScopeRule
from workshops.choices import (
    ACTION_LIVE,
    RAID_OPEN,
    ActionStatus,
    Disposition,
    DistributionState,
    DocumentCategory,
    MeetingKind,
    OutcomeKind,
    RaidKind,
    RaidStatus,
)

GOVERNANCE = ScopeRule(Domain.GOVERNANCE)


class MeetingSeries(models.Model):
    """A recurring forum: the SDAG board, its workshops, or the 1:1 meetings. Actions raised in its
    meetings are referenced ``<action_prefix>_<meeting number>.<sequence>`` (SDAG_5.04)."""

    scope_rule = GOVERNANCE

    code = models.SlugField(max_length=32, unique=True)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=MeetingKind.choices, default=MeetingKind.BOARD)
    action_prefix = models.CharField(max_length=16, default="SDAG", help_text="Action references start with this")
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "meeting series"

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("workshops:series_detail", args=[self.pk])


class Meeting(models.Model):
    """One meeting of a series (board meeting #6, the Service Management workshop, a 1:1): when and
    where it is, who attends, its timed agenda and its minutes."""

    scope_rule = GOVERNANCE

    series = models.ForeignKey(MeetingSeries, on_delete=models.PROTECT, related_name="meetings")
    number = models.PositiveIntegerField(help_text="Meeting number within the series, e.g. 6")
    title = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=MeetingKind.choices, default=MeetingKind.BOARD)
    date = models.DateField()
    start = models.TimeField()
    end = models.TimeField()
    venue = models.CharField(max_length=200, blank=True)
    attendees = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="meetings_attended")
    organisations = models.ManyToManyField("portal.Organisation", blank=True, related_name="meetings_attended")
    minutes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-date", "-start"]
        constraints = [models.UniqueConstraint(fields=["series", "number"], name="meeting_series_number_unique")]

    def __str__(self):
        return f"{self.title} ({self.date:%d %b %Y})"

    def get_absolute_url(self):
        return reverse("workshops:meeting_detail", args=[self.pk])

    def clean(self):
        from django.core.exceptions import ValidationError

        if self.start and self.end and self.end <= self.start:
            raise ValidationError({"end": "The meeting must end after it starts."})


class ActionSequence(models.Model):
    """The last action sequence number used in one meeting. Allocation locks this row
    (select_for_update), so two people adding actions at once get consecutive numbers.
    Internal: never shown to users, so it has no scope rule."""

    meeting = models.OneToOneField(Meeting, on_delete=models.CASCADE, related_name="action_sequence")
    last = models.PositiveIntegerField(default=0)

    def __str__(self):
        return f"{self.meeting_id}: {self.last}"


class AgendaItem(models.Model):
    """A timed item on a meeting's agenda, with its presenters and the registers it discusses."""

    scope_rule = GOVERNANCE

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="agenda_items")
    position = models.PositiveIntegerField()
    start = models.TimeField(null=True, blank=True)
    end = models.TimeField(null=True, blank=True)
    title = models.CharField(max_length=200)
    presenters = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="agenda_items")
    notes = models.TextField(blank=True)
    raid_items = models.ManyToManyField("RaidItem", blank=True, related_name="agenda_items")
    documents = models.ManyToManyField("Document", blank=True, related_name="agenda_items")
    consultations = models.ManyToManyField("Consultation", blank=True, related_name="agenda_items")

    class Meta:
        ordering = ["meeting", "position"]
        constraints = [models.UniqueConstraint(fields=["meeting", "position"], name="agenda_item_position_unique")]

    def __str__(self):
        return f"{self.position}. {self.title}"

    def get_absolute_url(self):
        return reverse("workshops:meeting_detail", args=[self.meeting_id]) + f"#item-{self.pk}"


class AgendaOutcome(models.Model):
    """What an agenda item produced: a decision, a piece of information, or an action (linked)."""

    scope_rule = GOVERNANCE

    agenda_item = models.ForeignKey(AgendaItem, on_delete=models.CASCADE, related_name="outcomes")
    kind = models.CharField(max_length=20, choices=OutcomeKind.choices)
    text = models.TextField()
    action = models.ForeignKey("Action", on_delete=models.SET_NULL, null=True, blank=True, related_name="outcomes")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["agenda_item", "pk"]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.text[:60]}"


class ActionQuerySet(models.QuerySet):
    def live(self):
        return self.filter(status__in=ACTION_LIVE)

    def overdue(self, today=None):
        return self.live().filter(due__lt=today or timezone.localdate())

    def owned_by(self, user):
        """The actions of this person: those naming them as an owner and, for an SDAG member,
        those owned by everyone ("ALL" in the log; the same people action.overdue tells). The one
        answer for the dashboard's tile, the "My actions" list and the API. A subquery rather than
        a join, so no row repeats and no DISTINCT is needed."""
        named = models.Q(pk__in=Action.owners.through.objects.filter(user=user).values("action_id"))
        return self.filter(named | models.Q(all_members=True) if is_sdag_member(user) else named)


class Action(models.Model):
    """Something a person agreed to do at a meeting. Its reference comes from the meeting that
    raised it; it has owners, a due date (or "tbc": no date), a status and an append-only list of
    dated updates. Actions are never deleted, only closed (and may be reopened)."""

    scope_rule = GOVERNANCE

    reference = models.CharField(max_length=32, unique=True)
    meeting = models.ForeignKey(Meeting, on_delete=models.PROTECT, null=True, blank=True, related_name="actions")
    agenda_item = models.ForeignKey(
        AgendaItem, on_delete=models.SET_NULL, null=True, blank=True, related_name="actions"
    )
    title = models.CharField(max_length=200)
    text = models.TextField(blank=True)
    owners = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="actions_owned")
    all_members = models.BooleanField(default=False, help_text="Owned by every SDAG member (\"ALL\" in the log)")
    due = models.DateField(null=True, blank=True, help_text="Empty means tbc")
    status = models.CharField(max_length=24, choices=ActionStatus.choices, default=ActionStatus.OPEN)
    reopened_count = models.PositiveIntegerField(default=0)
    overdue_announced_for = models.DateField(
        null=True, blank=True, editable=False,
        help_text="The due date whose passing was announced (action.overdue): each due date is announced once")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ActionQuerySet.as_manager()

    class Meta:
        ordering = ["reference"]
        indexes = [models.Index(fields=["status", "due"])]

    def __str__(self):
        return f"{self.reference} {self.title}"

    def get_absolute_url(self):
        return reverse("workshops:action_detail", args=[self.pk])

    @property
    def is_overdue(self):
        return self.status in ACTION_LIVE and self.due is not None and self.due < timezone.localdate()

    @property
    def due_display(self):
        return self.due.strftime("%d.%m.%y") if self.due else "tbc"

    def owner_initials(self):
        names = [o.initials or o.username for o in self.owners.all()]
        if self.all_members:
            names.insert(0, "ALL")
        return ", ".join(names)


class ActionUpdate(models.Model):
    """One dated line of an action's history ("23.04.13: Alan agreed to write…"), or a recorded
    status change (status_from/status_to). Append-only: never edited or deleted."""

    scope_rule = GOVERNANCE

    action = models.ForeignKey(Action, on_delete=models.PROTECT, related_name="updates")
    date = models.DateField()
    text = models.TextField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status_from = models.CharField(max_length=24, choices=ActionStatus.choices, blank=True)
    status_to = models.CharField(max_length=24, choices=ActionStatus.choices, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["action", "date", "pk"]

    def __str__(self):
        return f"{self.date:%d.%m.%y}: {self.text[:60]}"

    @property
    def is_reopening(self):
        from workshops.choices import ACTION_CLOSED

        return self.status_from in ACTION_CLOSED and self.status_to in ACTION_LIVE


class Topic(models.Model):
    """A subject of the consolidated issues log (HAN, 868 MHz development, ALCS, …); editable list."""

    scope_rule = GOVERNANCE

    name = models.CharField(max_length=120, unique=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class RaidItem(models.Model):
    """An entry of the consolidated issues log: a risk, assumption, issue or dependency raised by
    an organisation (its originator). Closing it sends it back to the originator, whose people
    confirm that the answer closes it or reject it with a reason (which re-opens it; SDAG_3.04)."""

    scope_rule = GOVERNANCE

    kind = models.CharField(max_length=20, choices=RaidKind.choices)
    topic = models.ForeignKey(Topic, on_delete=models.PROTECT, related_name="raid_items")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    originator = models.ForeignKey("portal.Organisation", on_delete=models.PROTECT, related_name="raid_items")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="raid_items_owned"
    )
    status = models.CharField(max_length=32, choices=RaidStatus.choices, default=RaidStatus.OPEN)
    resolution = models.TextField(blank=True)
    rejection_reason = models.TextField(blank=True, help_text="The originator's reason for the last rejection")
    likelihood = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    impact = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    score = models.PositiveSmallIntegerField(null=True, blank=True, editable=False, help_text="likelihood × impact")
    actions = models.ManyToManyField(Action, blank=True, related_name="raid_items")
    documents = models.ManyToManyField("Document", blank=True, related_name="raid_items")
    closure_requested_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["pk"]
        verbose_name = "RAID item"
        verbose_name_plural = "RAID items"

    def __str__(self):
        return f"{self.reference} {self.title}"

    def get_absolute_url(self):
        return reverse("workshops:raid_detail", args=[self.pk])

    @property
    def reference(self):
        return f"RAID-{self.pk:03d}" if self.pk else "RAID-new"

    @property
    def is_open(self):
        return self.status in RAID_OPEN

    def clean(self):
        from django.core.exceptions import ValidationError

        if self.kind == RaidKind.RISK and (self.likelihood is None or self.impact is None):
            raise ValidationError("A risk needs a likelihood and an impact (1-5).")
        self.score = self.likelihood * self.impact if self.likelihood and self.impact else None


class Document(models.Model):
    """A design document or programme product on the roadmap (Schedule 6.3 products table and the
    architecture artefacts): who owns it, its group and timing, and its current version."""

    scope_rule = GOVERNANCE

    category = models.CharField(max_length=20, choices=DocumentCategory.choices, default=DocumentCategory.PRODUCT)
    reference = models.CharField("Schedule 6.3 reference", max_length=60, blank=True)
    timing = models.CharField("timing / phase", max_length=60, blank=True)
    group = models.CharField(max_length=80, blank=True, help_text="Group / workstream, e.g. A- Arch E2E")
    name = models.CharField(max_length=200, unique=True)
    content = models.TextField("content description", blank=True)
    # Artefacts in the design list have no named owner; Schedule 6.3 products do.
    owner = models.ForeignKey("portal.Organisation", on_delete=models.PROTECT, null=True, blank=True,
                              related_name="documents")
    current_version = models.CharField(max_length=20, blank=True)

    class Meta:
        ordering = ["group", "name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("workshops:document_detail", args=[self.pk])


class Milestone(models.Model):
    """A programme milestone (e.g. ISFT release) that can gate the circulation of documents."""

    scope_rule = GOVERNANCE

    name = models.CharField(max_length=120, unique=True)
    planned = models.DateField(null=True, blank=True)
    achieved = models.DateField(null=True, blank=True)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["planned", "name"]

    def __str__(self):
        return self.name


class DocumentVersion(models.Model):
    """One version of a document: planned and actual issue dates and how far it has travelled
    (drafting → in workshop → issued for comment → comments under review → baselined → circulated).
    A version gated by a milestone is circulated only once that milestone is achieved."""

    scope_rule = GOVERNANCE

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="versions")
    version = models.CharField(max_length=20)
    planned_issue = models.DateField(null=True, blank=True)
    actual_issue = models.DateField(null=True, blank=True)
    state = models.CharField(max_length=24, choices=DistributionState.choices, default=DistributionState.DRAFTING)
    gating_milestone = models.ForeignKey(
        Milestone, on_delete=models.PROTECT, null=True, blank=True, related_name="gated_versions"
    )
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["document", "planned_issue", "version"]
        constraints = [models.UniqueConstraint(fields=["document", "version"], name="document_version_unique")]

    def __str__(self):
        return f"{self.document.name} v{self.version}"

    def get_absolute_url(self):
        return reverse("workshops:document_detail", args=[self.document_id])

    @property
    def slipped(self):
        """Issued later than planned, or not issued and the planned date has passed."""
        if not self.planned_issue:
            return False
        if self.actual_issue:
            return self.actual_issue > self.planned_issue
        return self.planned_issue < timezone.localdate()


def _four_weeks_on():
    return timezone.localdate() + timedelta(days=28)


class Consultation(models.Model):
    """A consultation, usually on one document version (a policy consultation such as the Energy
    Efficiency Directive's has none), open for comments from ``opens`` to ``closes`` (inclusive,
    London dates; four weeks from today unless given)."""

    scope_rule = GOVERNANCE

    version = models.ForeignKey(DocumentVersion, on_delete=models.PROTECT, null=True, blank=True,
                                related_name="consultations")
    title = models.CharField(max_length=200)
    opens = models.DateField(default=timezone.localdate)
    closes = models.DateField(default=_four_weeks_on)
    summary = models.TextField(blank=True)
    announced = models.CharField(
        max_length=8, blank=True, default="", editable=False,
        help_text="What was last announced: '' nothing, 'opened' (consultation.opened) or 'closed'")

    class Meta:
        ordering = ["-opens"]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("workshops:consultation_detail", args=[self.pk])

    def clean(self):
        from django.core.exceptions import ValidationError

        if self.opens and self.closes and self.closes < self.opens:
            raise ValidationError({"closes": "A consultation cannot close before it opens."})

    def is_open(self, today=None):
        today = today or timezone.localdate()
        return self.opens <= today <= self.closes


class Comment(models.Model):
    """A comment an organisation made in a consultation, with its theme, DCC's response and the
    disposition (accepted, rejected, noted, deferred)."""

    scope_rule = GOVERNANCE

    consultation = models.ForeignKey(Consultation, on_delete=models.PROTECT, related_name="comments")
    organisation = models.ForeignKey("portal.Organisation", on_delete=models.PROTECT, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    theme = models.CharField(max_length=120)
    section = models.CharField(max_length=60, blank=True, help_text="Clause or section commented on")
    text = models.TextField()
    response = models.TextField(blank=True)
    disposition = models.CharField(max_length=12, choices=Disposition.choices, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["consultation", "pk"]

    def __str__(self):
        return f"{self.organisation.code}: {self.text[:60]}"

    def get_absolute_url(self):
        return reverse("workshops:consultation_detail", args=[self.consultation_id]) + f"#comment-{self.pk}"


for _model in (MeetingSeries, AgendaItem, AgendaOutcome, ActionUpdate, Topic, Document, Milestone, DocumentVersion,
               Consultation, Comment):
    auditlog.register(_model)
auditlog.register(Meeting, m2m_fields={"attendees", "organisations"})
auditlog.register(Action, m2m_fields={"owners"})
auditlog.register(RaidItem, m2m_fields={"actions", "documents"})
