"""Webhooks: the endpoints organisations register and every delivery made to them."""
import secrets

from auditlog.registry import auditlog
from django.db import models

from portal.scoping import Domain, ScopeRule
from portal.webhooks.choices import DeliveryStatus


def _new_webhook_secret():
    return secrets.token_urlsafe(32)


class WebhookEndpoint(models.Model):
    """A URL of an organisation's system that receives signed JSON for the events it subscribes
    to. A service user's endpoint hears its own organisation's events; DCC's hear every event."""

    scope_rule = ScopeRule(Domain.OPERATIONAL, org_path="organisation")

    organisation = models.ForeignKey("portal.Organisation", on_delete=models.CASCADE, related_name="webhook_endpoints")
    name = models.CharField(max_length=100)
    url = models.URLField(max_length=500)
    secret = models.CharField(max_length=100, default=_new_webhook_secret,
                              help_text="Shared secret for the HMAC-SHA256 signature")
    events = models.JSONField(default=list, help_text='Event names, e.g. ["request.failed", "alert.received"]')
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey("portal.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
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


auditlog.register(WebhookEndpoint, exclude_fields=["secret"])
