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
    # Staff of a service user who also manage their organisation's people (invite, deactivate,
    # reset MFA): the organisation runs its own logins without asking DCC.
    ORG_ADMIN = "org_admin", "Organisation administrator"
    SDAG_MEMBER = "sdag_member", "SDAG member"


# How far a role reaches, for "nobody raises anyone above their own role" (portal.access.may_assign_role):
# an organisation administrator gives its people the roles up to its own, never DCC's.
ROLE_RANK = {
    PortalRole.SDAG_MEMBER: 1,
    PortalRole.SERVICE_USER: 1,
    PortalRole.ORG_ADMIN: 2,
    PortalRole.DCC_OPERATIONS: 3,
    PortalRole.DCC_ADMIN: 4,
}


class SignInOutcome(models.TextChoices):
    SUCCEEDED = "succeeded", "Signed in"
    FAILED = "failed", "Failed"


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
    "org_admin": "green",
    "succeeded": "green",
    "failed": "red",
}
