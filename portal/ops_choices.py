"""Choices of the portal's operations features (notifications, webhooks).
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


# Events webhooks may subscribe to (apps publish more; these are the ones with rules).
WEBHOOK_EVENTS = [
    ("request.failed", "A service request failed"),
    ("alert.received", "An alert was received"),
    ("request.quarantined", "A request was quarantined"),
    ("action.overdue", "An action is overdue"),
    ("statement.issued", "A statement was issued"),
    ("consultation.opened", "A consultation opened"),
    ("consultation.closed", "A consultation closed"),
    ("burnrate.warning", "A measure burns its error budget too fast"),
]

BADGES.update({"pending": "grey", "retrying": "amber", "succeeded": "green", "failed": "red",
               "immediate": "blue", "digest": "purple"})
