"""Choices of the inventory app: device types, SMI statuses and their allowed transitions,
device model and configuration item statuses. ``BADGES`` gives each value its badge colour.

SMI status transitions (enforced by ``inventory.services.device_set_status``)
----------------------------------------------------------------------------
The normal life of a device is
    pending -> whitelisted -> installed_not_commissioned -> commissioned -> decommissioned.
The team's rules for the other statuses:

* ``withdrawn`` is final: the device is taken out of the SMI for good (typically because its
  model was withdrawn from the Central Products List, or it was never installed). It can be
  reached from every status that is not live on the network (pending, whitelisted, installed
  not commissioned, decommissioned, suspended, not applicable); a commissioned device must be
  decommissioned first so that no live meter silently disappears.
* ``suspended`` stops a device from being used while it is in a state that is not allowed (its
  firmware was removed from the Central Products List, a security concern). Whitelisted,
  installed and commissioned devices can be suspended; a suspended device goes back to the
  status it can prove (whitelisted, installed not commissioned, commissioned) or leaves the
  network (decommissioned, withdrawn).
* ``recovery`` is DCC's recovery of a compromised commissioned device (or hub): commissioned ->
  recovery -> recovered -> commissioned again, or decommissioned when recovery fails.
* A decommissioned device may be whitelisted again (re-used at another premises).
* ``not_applicable`` is for devices the SMI holds no lifecycle for (type 2 devices, IHD and CAD);
  they can only be withdrawn or decommissioned.
"""
from django.db import models


class DeviceType(models.TextChoices):
    ESME = "ESME", "ESME (electricity meter)"
    GSME = "GSME", "GSME (gas meter)"
    CHF = "CHF", "CHF (communications hub)"
    GPF = "GPF", "GPF (gas proxy function)"
    PPMID = "PPMID", "PPMID (prepayment interface)"
    IHD = "IHD", "IHD (in-home display)"
    CAD = "CAD", "CAD (consumer access device)"
    HCALCS = "HCALCS", "HCALCS (HAN-connected load control switch)"


METER_TYPES = frozenset({DeviceType.ESME, DeviceType.GSME})
HUB_TYPES = frozenset({DeviceType.CHF})
# Devices that join the HAN of a meter or of the hub itself.
HAN_TYPES = frozenset({DeviceType.PPMID, DeviceType.IHD, DeviceType.CAD, DeviceType.HCALCS})
# Type 2 devices: the SMI keeps less data about them.
TYPE2_TYPES = frozenset({DeviceType.IHD, DeviceType.CAD})


class SMIStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    WHITELISTED = "whitelisted", "Whitelisted"
    INSTALLED_NOT_COMMISSIONED = "installed_not_commissioned", "Installed not commissioned"
    COMMISSIONED = "commissioned", "Commissioned"
    DECOMMISSIONED = "decommissioned", "Decommissioned"
    WITHDRAWN = "withdrawn", "Withdrawn"
    SUSPENDED = "suspended", "Suspended"
    RECOVERY = "recovery", "Recovery"
    RECOVERED = "recovered", "Recovered"
    NOT_APPLICABLE = "not_applicable", "Not applicable"


S = SMIStatus
SMI_TRANSITIONS = {
    S.PENDING: (S.WHITELISTED, S.WITHDRAWN),
    S.WHITELISTED: (S.INSTALLED_NOT_COMMISSIONED, S.SUSPENDED, S.WITHDRAWN),
    S.INSTALLED_NOT_COMMISSIONED: (S.COMMISSIONED, S.DECOMMISSIONED, S.SUSPENDED, S.WITHDRAWN),
    S.COMMISSIONED: (S.DECOMMISSIONED, S.SUSPENDED, S.RECOVERY),
    S.DECOMMISSIONED: (S.WHITELISTED, S.WITHDRAWN),
    S.WITHDRAWN: (),
    S.SUSPENDED: (S.WHITELISTED, S.INSTALLED_NOT_COMMISSIONED, S.COMMISSIONED, S.DECOMMISSIONED, S.WITHDRAWN),
    S.RECOVERY: (S.RECOVERED, S.DECOMMISSIONED),
    S.RECOVERED: (S.COMMISSIONED, S.DECOMMISSIONED),
    S.NOT_APPLICABLE: (S.DECOMMISSIONED, S.WITHDRAWN),
}
del S

# Statuses a device may be created in (an import or a pre-notification); every other status is
# reached only through a transition so that its history makes sense.
INITIAL_STATUSES = frozenset(SMIStatus)


def allowed_transitions(status):
    return SMI_TRANSITIONS.get(SMIStatus(status), ())


class SwitchState(models.TextChoices):
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"


class DeviceModelStatus(models.TextChoices):
    APPROVED = "approved", "Approved"
    WITHDRAWN = "withdrawn", "Withdrawn"


class SmetsVersion(models.TextChoices):
    SMETS1 = "SMETS1", "SMETS1"
    SMETS2 = "SMETS2", "SMETS2"
    CHTS = "CHTS", "CHTS"


class ItemKind(models.TextChoices):
    SERVICE = "service", "Service"
    SYSTEM = "system", "System"
    COMPONENT = "component", "Component"
    INTERFACE = "interface", "Interface"
    CODE_OF_CONNECTION = "code_of_connection", "Code of connection"
    ENVIRONMENT = "environment", "Environment"
    DOCUMENT = "document", "Document"


class ItemStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    IN_BUILD = "in_build", "In build"
    LIVE = "live", "Live"
    RETIRED = "retired", "Retired"


class RelationshipKind(models.TextChoices):
    """Read "source <kind> target": "DCC User Gateway depends on DSP"."""

    DEPENDS_ON = "depends_on", "depends on"
    PART_OF = "part_of", "part of"
    CONNECTS_TO = "connects_to", "connects to"
    DOCUMENTED_BY = "documented_by", "documented by"


class RequirementCategory(models.TextChoices):
    GENERAL = "general", "General"
    PHYSICAL = "physical", "Physical"
    ELECTRICAL = "electrical", "Electrical"
    DATA = "data", "Data"
    OTHER = "other", "Other"


class RequirementStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    AGREED = "agreed", "Agreed"
    MET = "met", "Met"
    NOT_MET = "not_met", "Not met"
    WITHDRAWN = "withdrawn", "Withdrawn"


BADGES = {
    # SMI statuses
    "pending": "grey",
    "whitelisted": "blue",
    "installed_not_commissioned": "amber",
    "commissioned": "green",
    "decommissioned": "grey",
    "withdrawn": "red",
    "suspended": "red",
    "recovery": "purple",
    "recovered": "blue",
    "not_applicable": "grey",
    # device models
    "approved": "green",
    # items
    "planned": "grey",
    "in_build": "amber",
    "live": "green",
    "retired": "grey",
    # requirements
    "draft": "grey",
    "agreed": "blue",
    "met": "green",
    "not_met": "red",
    # switches
    "open": "amber",
    "closed": "green",
}


def colour(value):
    return BADGES.get(str(getattr(value, "value", value)), "grey")
