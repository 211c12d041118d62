"""Choices of the portal app. Every status-like field is a TextChoices; BADGES gives its colour."""
from django.db import models


class OrganisationKind(models.TextChoices):
    DCC = "dcc", "DCC"
    PROVIDER = "provider", "Service provider"
    SERVICE_USER = "service_user", "Service user"
    GOVERNMENT = "government", "Government"
    OTHER = "other", "Other"


class ProviderCode(models.TextChoices):
    """The providers whose service measures earn credits (tokens used in files and JSON)."""

    E2E = "E2E", "End-to-end"
    DSP = "DSP", "Data Service Provider"
    CSP_NORTH = "CSP_NORTH", "CSP North"
    CSP_CENTRAL = "CSP_CENTRAL", "CSP Central"
    CSP_SOUTH = "CSP_SOUTH", "CSP South"


class Region(models.TextChoices):
    NORTH = "north", "North"
    CENTRAL = "central", "Central"
    SOUTH = "south", "South"


REGION_PROVIDER = {
    Region.NORTH: ProviderCode.CSP_NORTH,
    Region.CENTRAL: ProviderCode.CSP_CENTRAL,
    Region.SOUTH: ProviderCode.CSP_SOUTH,
}


class DuisRole(models.TextChoices):
    """DUIS user roles: what kind of party a service user acts as when it sends a request."""

    IS = "IS", "Import supplier"
    ES = "ES", "Export supplier"
    GS = "GS", "Gas supplier"
    ED = "ED", "Electricity distributor"
    GT = "GT", "Gas transporter"
    RSA = "RSA", "Registered supplier agent"
    OU = "OU", "Other user"


class PortalRole(models.TextChoices):
    DCC_OPERATIONS = "dcc_operations", "DCC operations"
    DCC_ADMIN = "dcc_admin", "DCC administrator"
    SERVICE_USER = "service_user", "Service user staff"
    SDAG_MEMBER = "sdag_member", "SDAG member"


# Badge colours used by templates ({% badge value %}): one table for the whole site.
BADGES = {
    "dcc": "blue",
    "provider": "purple",
    "service_user": "green",
    "government": "grey",
    "other": "grey",
    "dcc_operations": "blue",
    "dcc_admin": "purple",
    "sdag_member": "amber",
}
