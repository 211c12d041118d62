"""Notifications and watches: what each person was told in the portal, how they want e-mail
about it, and the objects they follow (portal.events.publish fans out to these)."""
from auditlog.registry import auditlog
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models

from portal.notifications.choices import NotificationDelivery
from portal.scoping import Domain, ScopeRule


class Watch(models.Model):
    """A person follows one object (a device, an action, a RAID item, a document, a
    consultation, a batch...) and hears about every event published about it."""

    # Watches are personal: selectors filter by user; the rule keeps them inside the directory.
    scope_rule = ScopeRule(Domain.DIRECTORY, org_path="user__organisation")

    user = models.ForeignKey("portal.User", on_delete=models.CASCADE, related_name="watches")
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

    user = models.OneToOneField("portal.User", on_delete=models.CASCADE, related_name="notification_preference")
    delivery = models.CharField(max_length=12, choices=NotificationDelivery.choices,
                                default=NotificationDelivery.IMMEDIATE)
    email = models.BooleanField(default=True, help_text="Also send e-mail (the in-app list always fills)")

    def __str__(self):
        return f"{self.user}: {self.get_delivery_display()}"


class Notification(models.Model):
    """One thing one person was told in the portal: an event they were named in or that
    concerned an object they watch. Unread until they open it or mark it read."""

    scope_rule = ScopeRule(Domain.DIRECTORY, org_path="user__organisation")

    user = models.ForeignKey("portal.User", on_delete=models.CASCADE, related_name="notifications")
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


auditlog.register(NotificationPreference)
