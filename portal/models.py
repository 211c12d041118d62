"""Organisations and the people who belong to them."""
from auditlog.registry import auditlog
from django.contrib.auth.models import AbstractUser
from django.db import models

from portal import access
from portal.choices import OrganisationKind, PortalRole, ProviderCode, Region
from portal.scoping import Domain, ScopeRule


class Organisation(models.Model):
    """A party of the smart metering network: DCC, one of its service providers (DSP, a CSP
    region), a service user (supplier, network operator, other user) or a body such as DECC.
    A service user acts in one or more DUIS user roles and is named on the network by an EUI-64."""

    scope_rule = ScopeRule(Domain.DIRECTORY, org_path="")

    code = models.SlugField(max_length=32, unique=True, help_text="Short code used in files and JSON, e.g. SUPA")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=OrganisationKind.choices)
    provider_code = models.CharField(max_length=20, choices=ProviderCode.choices, blank=True)
    region = models.CharField(max_length=10, choices=Region.choices, blank=True)
    duis_roles = models.JSONField(default=list, blank=True, help_text="DUIS user roles, e.g. [\"IS\", \"GS\"]")
    user_id = models.CharField(
        "DUIS user id (EUI-64)", max_length=23, blank=True, help_text="Canonical EUI-64, e.g. 90-B3-D5-1F-30-01-00-00"
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["user_id"], condition=~models.Q(user_id=""), name="organisation_user_id_unique"
            ),
            models.UniqueConstraint(
                fields=["provider_code"], condition=~models.Q(provider_code=""), name="organisation_provider_unique"
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def is_service_user(self):
        return self.kind == OrganisationKind.SERVICE_USER


class User(AbstractUser):
    """A person with (or without) a login. People belong to one organisation; their portal
    role decides what they may see and do (portal.scoping). Action owners are people too,
    whether or not they ever log in."""

    scope_rule = ScopeRule(Domain.DIRECTORY, org_path="organisation")

    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, null=True, blank=True, related_name="people"
    )
    role = models.CharField(max_length=20, choices=PortalRole.choices, default=PortalRole.SERVICE_USER)
    initials = models.CharField(max_length=8, blank=True, help_text="As used in the action log, e.g. JH")

    class Meta:
        ordering = ["last_name", "first_name", "username"]

    def __str__(self):
        return self.get_full_name() or self.username

    # The role predicates; portal.access defines each once (templates read them as user.is_dcc).
    @property
    def is_dcc(self):
        return access.is_dcc(self)

    @property
    def is_dcc_admin(self):
        return access.is_dcc_admin(self)

    @property
    def is_service_user(self):
        return access.is_service_user(self)

    @property
    def is_sdag_member(self):
        return access.is_sdag_member(self)


auditlog.register(Organisation)
auditlog.register(User, exclude_fields=["password", "last_login"])


# --- Notifications, watches and webhooks (portal.events.publish fans out to these) ------------
import secrets  # noqa: E402

from django.contrib.contenttypes.fields import GenericForeignKey  # noqa: E402
from django.contrib.contenttypes.models import ContentType  # noqa: E402

from portal.ops_choices import DeliveryStatus, NotificationDelivery  # noqa: E402


class Watch(models.Model):
    """A person follows one object (a device, an action, a RAID item, a document, a
    consultation, a batch...) and hears about every event published about it."""

    # Watches are personal: selectors filter by user; the rule keeps them inside the directory.
    scope_rule = ScopeRule(Domain.DIRECTORY, org_path="user__organisation")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="watches")
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
    object_id = models.CharField(max_length=64)
    target = GenericForeignKey("content_type", "object_id")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["user", "content_type", "object_id"], name="watch_once_per_user")
        ]
        indexes = [models.Index(fields=["content_type", "object_id"], name="watch_target_idx")]

    def __str__(self):
        return f"{self.user} watches {self.content_type.model} {self.object_id}"


class NotificationPreference(models.Model):
    """How one person wants e-mail about their notifications: at once, or one daily digest.
    People without a row get them at once."""

    scope_rule = ScopeRule(Domain.DIRECTORY, org_path="user__organisation")

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="notification_preference")
    delivery = models.CharField(max_length=12, choices=NotificationDelivery.choices,
                                default=NotificationDelivery.IMMEDIATE)
    email = models.BooleanField(default=True, help_text="Also send e-mail (the in-app list always fills)")

    def __str__(self):
        return f"{self.user}: {self.get_delivery_display()}"


class Notification(models.Model):
    """One thing one person was told in the portal: an event they were named in or that
    concerned an object they watch. Unread until they open it or mark it read."""

    scope_rule = ScopeRule(Domain.DIRECTORY, org_path="user__organisation")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notifications")
    event = models.CharField(max_length=60)
    summary = models.CharField(max_length=300)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=500, blank=True)
    content_type = models.ForeignKey(ContentType, on_delete=models.SET_NULL, null=True, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)
    # E-mail still owed in the next digest (the immediate ones are sent as they are made).
    email_due = models.BooleanField(default=False)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["user", "read_at"], name="notification_unread_idx"),
            models.Index(fields=["email_due", "user"], name="notification_digest_idx"),
        ]

    def __str__(self):
        return self.summary


def _new_webhook_secret():
    return secrets.token_urlsafe(32)


class WebhookEndpoint(models.Model):
    """A URL of an organisation's system that receives signed JSON for the events it subscribes
    to. A service user's endpoint hears its own organisation's events; DCC's hear every event."""

    scope_rule = ScopeRule(Domain.OPERATIONAL, org_path="organisation")

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="webhook_endpoints")
    name = models.CharField(max_length=100)
    url = models.URLField(max_length=500)
    secret = models.CharField(max_length=100, default=_new_webhook_secret,
                              help_text="Shared secret for the HMAC-SHA256 signature")
    events = models.JSONField(default=list, help_text='Event names, e.g. ["request.failed", "alert.received"]')
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["organisation__name", "name"]

    def __str__(self):
        return f"{self.name} ({self.url})"


class WebhookDelivery(models.Model):
    """One event sent (or being sent) to one endpoint: the exact body signed, every attempt's
    outcome and when the next attempt is due. A resend by hand is a new delivery."""

    scope_rule = ScopeRule(Domain.OPERATIONAL, org_path="endpoint__organisation")

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=60)
    payload = models.JSONField()
    body = models.TextField(help_text="The exact JSON text that is signed and sent")
    status = models.CharField(max_length=12, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_excerpt = models.CharField(max_length=500, blank=True)
    error = models.CharField(max_length=300, blank=True, help_text="Why the last attempt failed")
    resent_from = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="resends")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "webhook deliveries"
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="webhook_due_idx")]

    def __str__(self):
        return f"{self.event} to {self.endpoint.name}: {self.status}"


class SavedFilter(models.Model):
    """A person's named set of filters on one list page (its url name and querystring)."""

    scope_rule = ScopeRule(Domain.DIRECTORY, org_path="user__organisation")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="saved_filters")
    page = models.CharField(max_length=100, help_text='URL name of the list page, e.g. "adapter:request_list"')
    name = models.CharField(max_length=80)
    querystring = models.CharField(max_length=1000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["page", "name"]
        constraints = [models.UniqueConstraint(fields=["user", "page", "name"], name="saved_filter_name_unique")]

    def __str__(self):
        return f"{self.name} ({self.page})"


auditlog.register(WebhookEndpoint, exclude_fields=["secret"])
auditlog.register(NotificationPreference)
