"""Who may do what: the one table of capabilities, beside the scoping table (portal.scoping).

Two questions, two tables, both here in the ground:

- which rows a person may see or change: ``scope(user, queryset, action)`` with each model's
  ``scope_rule`` (portal.scoping, whose docstring holds the domain table);
- which actions a person may take: ``may(user, capability, obj=None)``, answered from
  ``CAPABILITIES`` below.

A capability is named ``"<app_label>.<model_name>.<verb>"`` (``"inventory.device.change"``).
Lookup order:

1. A capability listed in ``CAPABILITIES`` names the audiences that hold it.
2. Otherwise ``view``, ``change`` and ``add`` of a model follow its scope domain (the scoping
   table): ``add`` is ``portal.scoping.can_create``, ``view``/``change`` is "some rows of it".
3. Anything else raises ImproperlyConfigured (an unknown capability is a typo, never a quiet
   yes or no).

With ``obj`` the answer also requires that the person may see (``view``/read verbs) or change
(every other verb) that very object through ``scope``, so ``may`` never says yes for a row of
another organisation. An entry may say which of the two it needs (``object_action``) and add a
test of the person against the object (``on_object``: "the RAID item's originator").

Questions about a group of people rather than one (who hears of an overdue action) ask
``people(audience)``; a question about an organisation (is it DCC itself?) is
``Organisation.is_dcc`` (``is_dcc_organisation``).

Audiences (``AUDIENCES``) are the role predicates of ``portal.User``: ``dcc_admin`` (DCC
administrators and superusers), ``dcc`` (DCC operations and administrators), ``service_user``
(staff of a service user organisation), ``org_admin`` (a service user's own administrator of its
people), ``sdag_member``. No view, form, serializer, filterset,
template or service compares role strings: they ask ``may`` or a predicate on the user.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.db.models import Q

from portal.choices import OrganisationKind, PortalRole
from portal.scoping import CHANGE, VIEW, allows, can, can_create, grant_for

if TYPE_CHECKING:
    from portal.models import Organisation
    from portal.types import Viewer

# --- audiences: the role predicates, defined once -------------------------------------------


def is_dcc(user: Viewer) -> bool:
    """DCC staff: operations and administrators (superusers count as administrators)."""
    return bool(user is not None and user.is_authenticated and user.is_active
                and (user.is_superuser or user.role in (PortalRole.DCC_OPERATIONS, PortalRole.DCC_ADMIN)))


def is_dcc_admin(user: Viewer) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active
                and (user.is_superuser or user.role == PortalRole.DCC_ADMIN))


# An organisation administrator is staff of its service user too: it does all its colleagues do.
SERVICE_USER_ROLES = (PortalRole.SERVICE_USER, PortalRole.ORG_ADMIN)


def is_service_user(user: Viewer) -> bool:
    """Staff of a service user organisation (not DCC, even when a superuser holds the role)."""
    return bool(user is not None and user.is_authenticated and user.is_active and not is_dcc(user)
                and user.role in SERVICE_USER_ROLES)


def is_org_admin(user: Viewer) -> bool:
    """An organisation's own administrator: manages the people of its organisation (never DCC)."""
    return bool(user is not None and user.is_authenticated and user.is_active and not is_dcc(user)
                and user.role == PortalRole.ORG_ADMIN and getattr(user, "organisation_id", None) is not None
                and not is_dcc_organisation(user.organisation))  # DCC's own people are DCC administrators' to manage


def is_sdag_member(user: Viewer) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active and not is_dcc(user)
                and user.role == PortalRole.SDAG_MEMBER)


AUDIENCES: dict[str, Callable[[Viewer], bool]] = {
    "dcc_admin": is_dcc_admin,
    "dcc": is_dcc,
    "service_user": is_service_user,
    "org_admin": is_org_admin,
    "sdag_member": is_sdag_member,
    "authenticated": lambda user: bool(user is not None and user.is_authenticated and user.is_active),
}


def audiences_of(user: Viewer) -> set[str]:
    """Every audience the person belongs to (a DCC administrator is in "dcc" too)."""
    return {name for name, test in AUDIENCES.items() if test(user)}


def _audience_q(audience: str) -> Q:
    """The audience's predicate as a query, row for row the same answer as AUDIENCES."""
    dcc = Q(is_superuser=True) | Q(role__in=[PortalRole.DCC_OPERATIONS, PortalRole.DCC_ADMIN])
    queries = {
        "dcc_admin": Q(is_superuser=True) | Q(role=PortalRole.DCC_ADMIN),
        "dcc": dcc,
        "service_user": Q(role__in=SERVICE_USER_ROLES) & ~dcc,
        "org_admin": (Q(role=PortalRole.ORG_ADMIN, organisation__isnull=False)
                      & ~Q(organisation__kind=OrganisationKind.DCC) & ~dcc),
        "sdag_member": Q(role=PortalRole.SDAG_MEMBER) & ~dcc,
        "authenticated": Q(),
    }
    if audience not in queries:
        raise ImproperlyConfigured(f"unknown audience {audience!r}")
    return Q(is_active=True) & queries[audience]


def people(audience: str) -> models.QuerySet[Any]:
    """The active people of an audience (``people("sdag_member")``): who hears of what, without a
    role string outside this module. Chain filters on it (``.filter(organisation=...)``)."""
    from django.contrib.auth import get_user_model

    return get_user_model()._default_manager.filter(_audience_q(audience))


def is_dcc_organisation(organisation: Any) -> bool:
    """Whether an organisation (not a person) is DCC itself: DCC acts on any device and answers
    for its own requests (``Organisation.is_dcc`` reads this)."""
    return organisation is not None and organisation.kind == OrganisationKind.DCC


def opens_admin(user: Viewer, permission: str | None = None) -> bool:
    """Whether Django's admin site lets the person in (active staff, as AdminSite.has_permission
    asks) and, with ``permission`` ("app_label.codename"), at the admin pages that need it. The
    navigation shows an admin link only to those it opens for."""
    return bool(user is not None and user.is_authenticated and user.is_active and user.is_staff
                and (permission is None or user.has_perm(permission)))


def may_open(user: Viewer, obj: models.Model) -> bool:
    """Whether ``user`` may open ``obj`` (its model's ``view`` capability on the object): what a
    notification, an e-mail or a digest about ``obj`` asks of each recipient before it is sent, so
    that nothing about an object (not even its title) reaches someone who could not open it."""
    return may(user, f"{obj._meta.label_lower}.view", obj)


def organisation_may_open(organisation: Organisation, obj: models.Model) -> bool:
    """Whether ``organisation``'s webhooks may hear about ``obj``. Its deliveries are read by its
    service-user staff (portal.webhooks scopes them to the organisation), so the question is what
    such a person of that organisation may open; it is asked of a stand-in rather than of whoever
    happens to be registered, because the scoping table answers alike for every person of one
    organisation and role. DCC's endpoints hear everything DCC may open (all of it)."""
    from portal.models import User

    if is_dcc_organisation(organisation):
        return True
    staff = User(organisation=organisation, role=PortalRole.SERVICE_USER, is_active=True)
    return may_open(staff, obj)


# --- the capability table -------------------------------------------------------------------


@dataclass(frozen=True)
class Capability:
    """Who holds a capability: the audiences named, optionally narrowed by a test of the person
    (``requires``, e.g. "belongs to an organisation") and, when ``may`` is given an object, by a
    test of the person against that object (``on_object``, e.g. "is of the item's originator").
    ``object_action`` is what the person must be allowed on that object through ``scope``
    (VIEW or CHANGE); by default the verb decides (READ_VERBS view, every other verb changes).
    ``why`` says what the capability lets one do."""

    audiences: tuple[str, ...]
    why: str
    requires: Callable[[Viewer], bool] | None = None
    on_object: Callable[[Viewer, Any], bool] | None = None
    object_action: str | None = None

    def held_by(self, user: Viewer) -> bool:
        if not any(AUDIENCES[name](user) for name in self.audiences):
            return False
        return self.requires is None or bool(self.requires(user))


def _has_organisation(user: Viewer) -> bool:
    return getattr(user, "organisation_id", None) is not None  # nobody and the anonymous visitor have none


def _dcc_or_has_organisation(user: Any) -> bool:
    # DCC staff read national figures with or without an organisation; anyone else reads their
    # own organisation's, so without one there is nothing to show.
    return is_dcc(user) or user.organisation_id is not None


def _dcc_or_of_originator(user: Any, item: Any) -> bool:
    return is_dcc(user) or (user.organisation_id is not None and user.organisation_id == item.originator_id)


def _of_organisation(user: Any, item: Any) -> bool:
    return user.organisation_id is not None and user.organisation_id == item.organisation_id


def _dcc_or_of_organisation(user: Any, item: Any) -> bool:
    return is_dcc(user) or _of_organisation(user, item)
def _manageable_person(user: Any, person: Any) -> bool:
    # An organisation administrator acts on the people of its own organisation only, never on
    # DCC staff or a superuser (whatever organisation they are filed under), never on itself
    # (it cannot lock its organisation out or change its own role).
    return (person.organisation_id is not None and person.organisation_id == user.organisation_id
            and person.pk != user.pk and not person.is_superuser and not person.is_staff
            and not is_dcc(person))


def _dcc_admin_or_manageable(user: Any, person: Any) -> bool:
    return is_dcc_admin(user) or (is_org_admin(user) and _manageable_person(user, person))


def may_assign_role(user: Viewer, role: str) -> bool:
    """Whether ``user`` may give someone ``role``: an organisation administrator gives roles up to
    its own and never a DCC role; a DCC administrator any role; anyone else none."""
    from portal.choices import ROLE_RANK

    if role not in PortalRole.values:
        return False
    if is_dcc_admin(user):
        return True
    if not is_org_admin(user):
        return False
    own = getattr(user, "role", "")  # is_org_admin: a signed-in person with a role
    return role not in (PortalRole.DCC_OPERATIONS, PortalRole.DCC_ADMIN) and (
        ROLE_RANK[PortalRole(role)] <= ROLE_RANK[PortalRole(own)])


DCC = ("dcc",)
DCC_ADMIN = ("dcc_admin",)
ORG_ADMIN = ("org_admin",)
OPERATIONS = ("dcc", "service_user")
GOVERNANCE = ("dcc", "sdag_member")
SERVICE_USERS = ("service_user",)
EVERYONE = ("authenticated",)

# capability -> who, sorted by app; every entry says why it exists. Services ask it (require),
# pages declare theirs (portal.generic.view_of and the generic views). Capabilities that follow a
# model's scope domain (view/change/add) need no entry: see may(). An entry named like a model's
# view/change/add overrides what the scoping table would answer, so it is there only where the
# table is not the answer (workshops.comment.add: SDAG members add comments to a register they
# otherwise only read); any other action gets its own verb. A list page everyone may open shows
# the rows scope lets the person see, possibly none ("view_list"), where the domain's "view"
# would refuse a person who may see no row of the model.
CAPABILITIES: dict[str, Capability] = {
    # adapter: service requests, batches, rollouts, alerts, anomaly thresholds
    "adapter.alert.post": Capability(DCC, "post an alert as DCC's backend (the alert receiving endpoint)"),
    "adapter.alert.view_list": Capability(EVERYONE, "open the list of alerts"),
    "adapter.anomalythreshold.set": Capability(
        OPERATIONS, "set one's own organisation's anomaly thresholds (DCC's own count like anyone's; a service "
        "user loosening one past DCC's floor asks DCC's approval)", requires=_has_organisation),
    "adapter.anomalythreshold.view_list": Capability(EVERYONE, "open the list of anomaly thresholds"),
    "adapter.batch.approve": Capability(
        DCC, "approve or decline a DCC batch held for four eyes (never one's own)"),
    "adapter.batch.upload": Capability(
        OPERATIONS, "upload a batch of service requests, sent as one's organisation", requires=_has_organisation),
    "adapter.batch.view_list": Capability(EVERYONE, "open the list of batches"),
    "adapter.certificate.approve": Capability(
        DCC_ADMIN, "approve an organisation's uploaded command-signing certificate, so its signatures verify"),
    "adapter.certificate.revoke": Capability(
        OPERATIONS, "revoke a certificate: one's own organisation's, or any for DCC",
        on_object=_dcc_or_of_organisation),
    "adapter.certificate.upload": Capability(
        OPERATIONS, "upload a certificate (public key only) for one's own organisation, to be approved by DCC",
        requires=_has_organisation),
    "adapter.certificate.view_list": Capability(EVERYONE, "open the list of certificates (one's organisation's)"),
    "adapter.messagesigningdelegation.manage": Capability(
        DCC_ADMIN, "record or revoke a service user's delegation of DUIS message signing to the portal (the "
        "portal then signs its DUIS messages with the key store's key for its DUIS user id)"),
    "adapter.rollout.approve": Capability(
        DCC, "approve or decline a rollout held for four eyes (a critical SRV, or over ADAPTER_ROLLOUT_APPROVAL_SIZE "
        "devices), never one's own"),
    "adapter.rollout.cancel": Capability(
        OPERATIONS, "cancel a rollout (its requests not yet sent are cancelled): one's own organisation's, or "
        "any for DCC", on_object=_dcc_or_of_organisation),
    "adapter.rollout.create": Capability(
        OPERATIONS, "draw up a rollout of one SRV to many devices, sent as one's organisation",
        requires=_has_organisation),
    "adapter.rollout.dry_run": Capability(
        OPERATIONS, "check every device of a rollout as a real send would, sending nothing: one's own "
        "organisation's, or any for DCC", on_object=_dcc_or_of_organisation),
    "adapter.rollout.pause": Capability(
        OPERATIONS, "pause (the emergency stop) or resume a rollout: one's own organisation's, or any for DCC",
        on_object=_dcc_or_of_organisation),
    "adapter.rollout.start": Capability(
        OPERATIONS, "start one's own organisation's rollout, or its next wave (its requests are sent as the "
        "organisation)", requires=_has_organisation, on_object=_of_organisation),
    "adapter.rollout.view_list": Capability(EVERYONE, "open the list of rollouts"),
    "adapter.servicerequest.approve": Capability(
        DCC, "approve or decline a DCC critical request held for four eyes (never one's own)"),
    "adapter.servicerequest.post_signed_document": Capability(
        SERVICE_USERS, "post the DUIS document one's organisation signed itself for one of its requests (the "
        "portal verifies it and sends it unchanged)", requires=_has_organisation),
    "adapter.servicerequest.release": Capability(DCC, "release or reject a quarantined service request"),
    "adapter.servicerequest.sign": Capability(
        OPERATIONS, "offer the signature of one's own organisation's critical request's pre-command",
        requires=_has_organisation, on_object=_of_organisation),
    "adapter.servicerequest.submit": Capability(
        OPERATIONS, "send a service request as one's organisation (its DUIS user id is the originator)",
        requires=_has_organisation),
    "adapter.servicerequest.view_list": Capability(EVERYONE, "open the list of service requests"),
    "adapter.thresholdchange.decide": Capability(
        DCC, "approve or decline a service user's change that loosens a threshold past DCC's floor"),
    "adapter.thresholdfloor.set": Capability(
        DCC, "set the loosest anomaly threshold an organisation may set without DCC's approval"),
    # inventory: the asset register
    "inventory.device.link": Capability(DCC, "choose the configuration items a device relies on"),
    "inventory.device.register": Capability(
        DCC, "register or edit one device at a time (service users load theirs through the import)"),
    "inventory.device.view_list": Capability(EVERYONE, "open the device register (a supplier's own devices)"),
    "inventory.devicemodel.link": Capability(DCC, "choose the configuration items a device model relies on"),
    # the ground
    "portal.audit.view_all": Capability(DCC, "read the whole audit log, not only one object's trail"),
    "portal.audit.view_list": Capability(EVERYONE, "open the audit log (the entries of what one may see)"),
    "portal.dashboard.view": Capability(EVERYONE, "open the home page"),
    "portal.listpreference.manage_own": Capability(EVERYONE, "choose the columns one sees in a register's list"),
    "portal.notification.view_own": Capability(
        EVERYONE, "read and mark one's own notifications, set one's e-mail preference, watch what one may see"),
    "portal.organisation.view_list": Capability(DCC, "open the list of organisations"),
    "portal.savedfilter.manage_own": Capability(EVERYONE, "save and delete one's own named filters of a list"),
    "portal.signin.view_all": Capability(
        DCC_ADMIN, "read everyone's sign-ins and failed sign-ins (a person reads their own on the account page)"),
    "portal.user.manage_own": Capability(EVERYONE, "see one's own account and API token, issue a new token"),
    "portal.user.manage_people": Capability(
        ORG_ADMIN, "invite the people of one's own organisation, deactivate and reactivate them, change their role "
        "(up to one's own) and reset their multi-factor sign-in; never DCC staff or another organisation's people",
        on_object=_manageable_person, object_action=VIEW),
    "portal.user.reset_mfa": Capability(
        DCC_ADMIN + ORG_ADMIN, "remove a person's second factors (app, passkeys, recovery codes) so they enrol "
        "again: DCC administrators anyone's, an organisation administrator its own people's",
        on_object=_dcc_admin_or_manageable, object_action=VIEW),
    "portal.webhookendpoint.view_list": Capability(
        EVERYONE, "open the list of webhook endpoints (one's organisation's; DCC: all)"),
    # servicedesk (raising, notes, closing and re-opening one's own incident follow the scope of
    # servicedesk.incident: add/change)
    "servicedesk.incident.manage": Capability(
        DCC, "run the Incident Management Log: assign, categorise, ask for information, resolve, flag major, "
             "link repeats and problems, name interested parties"),
    "servicedesk.incident.view_internal": Capability(DCC, "read and write an incident's DCC-internal updates"),
    "servicedesk.majorincidentreport.add": Capability(DCC, "write a version of a major incident report"),
    "servicedesk.plannedmaintenance.approve": Capability(
        DCC_ADMIN, "approve planned maintenance before it is announced (not the person who scheduled it)"),
    "servicedesk.report.read": Capability(
        OPERATIONS, "read the self-service reports (a service user: its own organisation's; DCC: the service "
        "user it names)", requires=_dcc_or_has_organisation),
    # slas: service levels
    "slas.burnrateepisode.view_list": Capability(EVERYONE, "open the list of burn-rate episodes (DCC's alone)"),
    "slas.charge.set": Capability(DCC_ADMIN, "set or import the monthly charges credits are computed on"),
    "slas.report.view": Capability(
        OPERATIONS, "open the service level pages and the monthly report (DCC: national figures; a service "
        "user: its own organisation's traffic)", requires=_dcc_or_has_organisation),
    # workshops: the governance registers
    "workshops.action.view_list": Capability(EVERYONE, "open the action log"),
    "workshops.comment.add": Capability(
        GOVERNANCE, "comment on a consultation while it is open (the service checks the dates)",
        object_action=VIEW),
    "workshops.comment.add_for_any_organisation": Capability(
        DCC, "record a comment on behalf of any organisation (SDAG members speak for their own only)"),
    "workshops.consultation.view_list": Capability(EVERYONE, "open the list of consultations"),
    "workshops.document.view_list": Capability(EVERYONE, "open the document list and the roadmap"),
    "workshops.meeting.view_list": Capability(EVERYONE, "open the list of meetings"),
    "workshops.milestone.view_list": Capability(EVERYONE, "open the list of milestones"),
    "workshops.raiditem.answer": Capability(
        GOVERNANCE, "confirm or reject the proposed closure of a RAID item for its originator (the "
        "originator's people, or DCC on their behalf)", on_object=_dcc_or_of_originator, object_action=VIEW),
    "workshops.raiditem.view_list": Capability(EVERYONE, "open the RAID log and its heat map"),
    "workshops.registers.read": Capability(
        GOVERNANCE, "read the governance registers, and the names of people and organisations in their filters"),
    "workshops.topic.view_list": Capability(EVERYONE, "open the list of RAID topics"),
}


def register(name: str, capability: Capability) -> None:
    """Add a capability at import time (for tests of the mechanism); apps list theirs above so
    that the table stays one table."""
    if name in CAPABILITIES and CAPABILITIES[name] != capability:
        raise ImproperlyConfigured(f"capability {name} is declared twice")
    CAPABILITIES[name] = capability


# Verbs that only read: with an object, they need the object to be visible, not changeable.
READ_VERBS = {"view", "view_list", "view_all", "download", "export", "read"}


def _model_for(capability: str) -> type[models.Model] | None:
    app_label, _, rest = capability.partition(".")
    model_name, _, _verb = rest.rpartition(".")
    if not model_name:
        return None
    try:
        return apps.get_model(app_label, model_name)
    except LookupError:
        return None


def may(user: Viewer, capability: str, obj: models.Model | None = None, *,
        organisation: Organisation | None = None) -> bool:
    """Whether ``user`` may do ``capability`` (on ``obj``, or for ``organisation`` when adding).

    Raises ImproperlyConfigured for a capability that is neither in the table nor a
    view/change/add of a model: a misspelt capability must fail, never answer yes or no quietly.
    """
    verb = capability.rpartition(".")[2]
    entry = CAPABILITIES.get(capability)
    if entry is not None:
        if not entry.held_by(user):
            return False
    else:
        model = _model_for(capability)
        if model is None or verb not in ("view", "change", "add"):
            raise ImproperlyConfigured(f"unknown capability {capability!r}: add it to portal.access.CAPABILITIES")
        if verb == "add":
            if not can_create(user, model, organisation):
                return False
        elif not allows(user, model, VIEW if verb == "view" else CHANGE):
            # The domain table lets the person at no row of the model (an empty table the
            # person may use is still a "yes": its list shows nothing rather than a refusal).
            return False
    if obj is None:
        return True
    if entry is not None and entry.on_object is not None and not entry.on_object(user, obj):
        return False
    action = (entry.object_action if entry is not None else None) or (VIEW if verb in READ_VERBS else CHANGE)
    grant = grant_for(user, type(obj), action)
    if grant is None or grant is True:
        # Nothing, or every row, of the model: the object needs no query of its own.
        return grant is True
    return can(user, obj, action)


def capabilities_of(user: Viewer) -> list[str]:
    """The listed capabilities the person holds (the account page shows them)."""
    return sorted(name for name, entry in CAPABILITIES.items() if entry.held_by(user))


def require(user: Viewer, capability: str, obj: models.Model | None = None, *, message: str | None = None,
            **kwargs: Any) -> None:
    """Raise PermissionDenied (with ``message``, or one naming the capability) unless ``may``
    says yes (services call it first)."""
    from django.core.exceptions import PermissionDenied

    if not may(user, capability, obj, **kwargs):
        raise PermissionDenied(message or f"You may not do that ({capability}).")


def declared(names: Iterable[str]) -> list[str]:
    """The names in ``names`` that are not declared: used by the test that every capability a
    view declares exists."""
    return [name for name in names if name not in CAPABILITIES and _model_for(name) is None]
