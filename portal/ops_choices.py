"""Choices of the portal's operations features (notifications, webhooks, burn-rate warnings);
the events webhooks may subscribe to are registered by the apps (portal.registry).
Kept apart from portal/choices.py, which the lead owns; colours join the one BADGES table."""
from django.db import models

from portal.choices import BADGES


class NotificationDelivery(models.TextChoices):
    IMMEDIATE = "immediate", "At once"
    DIGEST = "digest", "Daily digest"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RETRYING = "retrying", "Retrying"
    SUCCEEDED = "succeeded", "Delivered"
    FAILED = "failed", "Failed"


class EpisodeState(models.TextChoices):
    OPEN = "open", "Burning"
    CLOSED = "closed", "Over"


BADGES.update({"pending": "grey", "retrying": "amber", "succeeded": "green", "failed": "red",
               "immediate": "blue", "digest": "purple", "open": "red", "closed": "green"})
