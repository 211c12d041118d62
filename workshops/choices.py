"""Choices of the governance registers. Every status is a TextChoices; COLOURS gives its badge colour."""
from django.db import models


class MeetingKind(models.TextChoices):
    BOARD = "board", "Board meeting"
    WORKSHOP = "workshop", "Workshop"
    ONE_TO_ONE = "one_to_one", "1:1 meeting"


class OutcomeKind(models.TextChoices):
    DECISION = "decision", "Decision"
    INFORMATION = "information", "Information"
    ACTION = "action", "Action"


class ActionStatus(models.TextChoices):
    OPEN = "open", "Open"
    ONGOING = "ongoing", "Ongoing"
    CLOSED_TO_BE_AGREED = "closed_to_be_agreed", "Closed (to be agreed)"
    CLOSED = "closed", "Closed"


# Statuses in which an action still needs work (and so can be overdue).
ACTION_LIVE = (ActionStatus.OPEN, ActionStatus.ONGOING)
ACTION_CLOSED = (ActionStatus.CLOSED_TO_BE_AGREED, ActionStatus.CLOSED)


class RaidKind(models.TextChoices):
    RISK = "risk", "Risk"
    ASSUMPTION = "assumption", "Assumption"
    ISSUE = "issue", "Issue"
    DEPENDENCY = "dependency", "Dependency"


class RaidStatus(models.TextChoices):
    OPEN = "open", "Open"
    CLOSED_AWAITING_ORIGINATOR = "closed_awaiting_originator", "Closed, awaiting originator"
    CLOSED = "closed", "Closed"
    REOPENED = "reopened", "Re-opened"


RAID_OPEN = (RaidStatus.OPEN, RaidStatus.REOPENED)


class DocumentCategory(models.TextChoices):
    PRODUCT = "product", "Product (Schedule 6.3)"
    ARTEFACT = "artefact", "Architecture artefact"


class DistributionState(models.TextChoices):
    DRAFTING = "drafting", "Drafting"
    IN_WORKSHOP = "in_workshop", "In workshop"
    ISSUED_FOR_COMMENT = "issued_for_comment", "Issued for comment"
    COMMENTS_UNDER_REVIEW = "comments_under_review", "Comments under review"
    BASELINED = "baselined", "Baselined (green)"
    CIRCULATED = "circulated", "Circulated"


class Disposition(models.TextChoices):
    PENDING = "", "Not yet answered"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"
    NOTED = "noted", "Noted"
    DEFERRED = "deferred", "Deferred"


class Announced(models.TextChoices):
    """What was last announced of a consultation (Consultation.announced): the event names
    consultation.opened and consultation.closed are made from these values."""

    NOTHING = "", "Nothing yet"
    OPENED = "opened", "Opened"
    CLOSED = "closed", "Closed"


COLOURS = {
    "board": "blue", "workshop": "purple", "one_to_one": "grey",
    "decision": "green", "information": "grey", "action": "amber",
    "open": "amber", "ongoing": "blue", "closed_to_be_agreed": "purple", "closed": "green",
    "risk": "red", "assumption": "grey", "issue": "amber", "dependency": "blue",
    "closed_awaiting_originator": "purple", "reopened": "red",
    "product": "blue", "artefact": "grey",
    "drafting": "grey", "in_workshop": "purple", "issued_for_comment": "amber",
    "comments_under_review": "blue", "baselined": "green", "circulated": "green",
    "": "grey", "accepted": "green", "rejected": "red", "noted": "grey", "deferred": "amber",
}


def colour(value):
    return COLOURS.get(str(getattr(value, "value", value)), "grey")
