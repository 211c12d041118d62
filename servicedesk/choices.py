"""Choices of the service desk. Every status is a TextChoices; ``BADGES`` gives its colour.

Incident life (enforced by servicedesk.services):

    new -> assigned -> in_progress <-> awaiting_user -> resolved -> closed
                           ^                                |
                           +-------- re-opened -------------+   (within the re-open window)

``awaiting_user`` pauses the incident clock until the user answers. Re-opening is an event on the
timeline (a status change back to in progress), not a status of its own; a closed incident is
final (a new incident may be linked to it as a repeat).
"""
from django.db import models


class IncidentCategory(models.IntegerChoices):
    """SEC H9 Incident Categories: 1 is the most severe, 5 the least."""

    C1 = 1, "Category 1 (most severe)"
    C2 = 2, "Category 2"
    C3 = 3, "Category 3"
    C4 = 4, "Category 4"
    C5 = 5, "Category 5 (least severe)"


class IncidentStatus(models.TextChoices):
    NEW = "new", "New"
    ASSIGNED = "assigned", "Assigned"
    IN_PROGRESS = "in_progress", "In progress"
    AWAITING_USER = "awaiting_user", "Awaiting user"
    RESOLVED = "resolved", "Resolved"
    CLOSED = "closed", "Closed"


OPEN_STATUSES = frozenset({IncidentStatus.NEW, IncidentStatus.ASSIGNED, IncidentStatus.IN_PROGRESS,
                           IncidentStatus.AWAITING_USER})
# The statuses DCC (or a resolver) moves an incident between by hand; resolve, close, re-open
# and awaiting the user have services of their own because they move the clock.
WORK_STATUSES = frozenset({IncidentStatus.ASSIGNED, IncidentStatus.IN_PROGRESS})


class Channel(models.TextChoices):
    """How an incident reached the Incident Management Log (SEC H8.19: SSI first, then e-mail,
    then phone; parties that are not users go through the Service Desk)."""

    PORTAL = "portal", "Self-service (browser)"
    API = "api", "API"
    IMPORT = "import", "File import"
    SERVICE_DESK = "service_desk", "Service Desk (logged by DCC)"


class UpdateKind(models.TextChoices):
    NOTE = "note", "Note"
    REQUEST_FOR_INFORMATION = "request_for_information", "Request for information"
    RESPONSE = "response", "Response from the user"
    WORKAROUND = "workaround", "Workaround"
    RESOLUTION = "resolution", "Resolution"
    STATUS_CHANGE = "status_change", "Status change"
    CATEGORY_CHANGE = "category_change", "Category change"
    ASSIGNMENT = "assignment", "Assignment"


# Update kinds a person writes; the others are written by the services as things happen.
WRITTEN_KINDS = frozenset({UpdateKind.NOTE, UpdateKind.WORKAROUND})


class Visibility(models.TextChoices):
    PARTIES = "parties", "Incident's parties"
    INTERNAL = "internal", "DCC internal"


class PauseReason(models.TextChoices):
    AWAITING_USER = "awaiting_user", "Awaiting the user"
    RESOLVED = "resolved", "Resolved until re-opened"


class TargetBasis(models.TextChoices):
    AROUND_THE_CLOCK = "24x7", "Around the clock"
    WORKING_HOURS = "working_hours", "Working hours (09:00-17:00, UK working days)"


class ProblemStatus(models.TextChoices):
    OPEN = "open", "Open"
    KNOWN_ERROR = "known_error", "Known error (root cause found)"
    RESOLVED = "resolved", "Resolved (fix in place)"
    CLOSED = "closed", "Closed"


class ComponentStatus(models.TextChoices):
    OPERATIONAL = "operational", "Operational"
    DEGRADED = "degraded", "Degraded performance"
    PARTIAL_OUTAGE = "partial_outage", "Partial outage"
    MAJOR_OUTAGE = "major_outage", "Major outage"
    UNDER_MAINTENANCE = "under_maintenance", "Under maintenance"


class MaintenanceStatus(models.TextChoices):
    PROPOSED = "proposed", "Proposed"
    APPROVED = "approved", "Approved"
    ANNOUNCED = "announced", "Announced"
    CANCELLED = "cancelled", "Cancelled"


class ReportKind(models.TextChoices):
    """DCC's SSI Reporting Specification reports for service users."""

    RSMI_001 = "RSMI_001", "Installation status of smart meters"
    RSMI_002 = "RSMI_002", "Devices by status and firmware version"
    RSMI_003 = "RSMI_003", "Devices by status and model"
    RSMI_004 = "RSMI_004", "Communications hubs and their devices"
    RSAT_001 = "RSAT_001", "Monthly transactions against forecast"
    RSAT_002 = "RSAT_002", "Transactions of one device"


# The reports delivered every month (RSAT_002 is asked for one device at a time).
MONTHLY_REPORTS = (ReportKind.RSMI_001, ReportKind.RSMI_002, ReportKind.RSMI_003, ReportKind.RSMI_004,
                   ReportKind.RSAT_001)


class DeliveryState(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"


BADGES = {
    # incidents
    "new": "blue",
    "assigned": "blue",
    "in_progress": "amber",
    "awaiting_user": "purple",
    "resolved": "green",
    "closed": "grey",
    "parties": "blue",
    "internal": "amber",
    # problems
    "open": "amber",
    "known_error": "purple",
    # components
    "operational": "green",
    "degraded": "amber",
    "partial_outage": "amber",
    "major_outage": "red",
    "under_maintenance": "blue",
    # maintenance
    "proposed": "grey",
    "approved": "blue",
    "announced": "green",
    "cancelled": "grey",
    # deliveries
    "pending": "grey",
    "delivered": "green",
    "failed": "red",
}


def colour(value):
    return BADGES.get(str(getattr(value, "value", value)), "grey")
