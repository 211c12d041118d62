"""Choices of webhooks: a delivery status. The events an endpoint may subscribe to are registered
by the apps that publish them (portal.registry). Colours join the one BADGES table."""
from django.db import models

from portal.choices import BADGES


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RETRYING = "retrying", "Retrying"
    SUCCEEDED = "succeeded", "Delivered"
    FAILED = "failed", "Failed"


BADGES.update({"pending": "grey", "retrying": "amber", "succeeded": "green", "failed": "red"})
