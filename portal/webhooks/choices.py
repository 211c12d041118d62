"""Choices of webhooks: a delivery's status and the events an endpoint may subscribe to. Colours
join the one BADGES table."""
from django.db import models

from portal.choices import BADGES


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

BADGES.update({"pending": "grey", "retrying": "amber", "succeeded": "green", "failed": "red"})
