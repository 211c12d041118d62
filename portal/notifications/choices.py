"""Choices of notifications: how a person wants e-mail about them. Colours join the one BADGES table."""
from django.db import models

from portal.choices import BADGES


class NotificationDelivery(models.TextChoices):
    IMMEDIATE = "immediate", "At once"
    DIGEST = "digest", "Daily digest"


BADGES.update({"immediate": "blue", "digest": "purple"})
