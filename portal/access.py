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
3. Anything else is refused, loudly in tests (an unknown capability is a typo, never a "yes").

With ``obj`` the answer also requires that the person may see (``view``/read verbs) or change
(every other verb) that very object through ``scope``, so ``may`` never says yes for a row of
another organisation.

Audiences (``AUDIENCES``) are the role predicates of ``portal.User``: ``dcc_admin`` (DCC
administrators and superusers), ``dcc`` (DCC operations and administrators), ``service_user``
(staff of a service user organisation), ``sdag_member``. No view, form, serializer, filterset,
template or service compares role strings: they ask ``may`` or a predicate on the user.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.db import models

from portal.choices import PortalRole
from portal.scoping import CHANGE, VIEW, allows, can, can_create

# --- audiences: the role predicates, defined once -------------------------------------------


def is_dcc(user: Any) -> bool:
    """DCC staff: operations and administrators (superusers count as administrators)."""
    return bool(user is not None and user.is_authenticated and user.is_active
                and (user.is_superuser or user.role in (PortalRole.DCC_OPERATIONS, PortalRole.DCC_ADMIN)))


def is_dcc_admin(user: Any) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active
                and (user.is_superuser or user.role == PortalRole.DCC_ADMIN))


def is_service_user(user: Any) -> bool:
    """Staff of a service user organisation (not DCC, even when a superuser holds the role)."""
    return bool(user is not None and user.is_authenticated and user.is_active and not is_dcc(user)
                and user.role == PortalRole.SERVICE_USER)


def is_sdag_member(user: Any) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active and not is_dcc(user)
                and user.role == PortalRole.SDAG_MEMBER)


AUDIENCES: dict[str, Callable[[Any], bool]] = {
    "dcc_admin": is_dcc_admin,
    "dcc": is_dcc,
    "service_user": is_service_user,
    "sdag_member": is_sdag_member,
    "authenticated": lambda user: bool(user is not None and user.is_authenticated and user.is_active),
}


def audiences_of(user: Any) -> set[str]:
    """Every audience the person belongs to (a DCC administrator is in "dcc" too)."""
    return {name for name, test in AUDIENCES.items() if test(user)}


# --- the capability table -------------------------------------------------------------------


@dataclass(frozen=True)
class Capability:
    """Who holds a capability: the audiences named, optionally narrowed by a test of the person
    (e.g. "belongs to an organisation"). ``why`` says what the capability lets one do."""

    audiences: tuple[str, ...]
    why: str
    requires: Callable[[Any], bool] | None = None

    def held_by(self, user: Any) -> bool:
        if not any(AUDIENCES[name](user) for name in self.audiences):
            return False
        return self.requires is None or bool(self.requires(user))


def _has_organisation(user: Any) -> bool:
    return user.organisation_id is not None


DCC = ("dcc",)
DCC_ADMIN = ("dcc_admin",)
OPERATIONS = ("dcc", "service_user")
GOVERNANCE = ("dcc", "sdag_member")
EVERYONE = ("authenticated",)

# capability -> who. Keep it sorted by app; every entry says why it exists. Capabilities that
# follow a model's scope domain (view/change/add) need no entry: see may().
CAPABILITIES: dict[str, Capability] = {
    # the ground
    "portal.audit.view_all": Capability(DCC, "read the whole audit log, not only one object's trail"),
    "portal.organisation.view_list": Capability(DCC, "open the list of organisations"),
    "portal.dashboard.view": Capability(EVERYONE, "open the home page"),
    # servicedesk (raising, notes, closing and re-opening one's own incident follow the scope of
    # servicedesk.incident: add/change)
    "servicedesk.incident.manage": Capability(
        DCC, "run the Incident Management Log: assign, categorise, ask for information, resolve, flag major, "
             "link repeats and problems, name interested parties"),
    "servicedesk.incident.view_internal": Capability(DCC, "read and write an incident's DCC-internal updates"),
    "servicedesk.majorincidentreport.add": Capability(DCC, "write a version of a major incident report"),
    "servicedesk.plannedmaintenance.approve": Capability(
        DCC_ADMIN, "approve planned maintenance before it is announced (not the person who scheduled it)"),
}


def register(name: str, capability: Capability) -> None:
    """Add a capability at import time (for tests of the mechanism); apps list theirs above so
    that the table stays one table."""
    if name in CAPABILITIES and CAPABILITIES[name] != capability:
        raise ImproperlyConfigured(f"capability {name} is declared twice")
    CAPABILITIES[name] = capability


# Verbs that only read: with an object, they need the object to be visible, not changeable.
READ_VERBS = {"view", "view_list", "view_all", "download", "export"}


def _model_for(capability: str) -> type[models.Model] | None:
    app_label, _, rest = capability.partition(".")
    model_name, _, _verb = rest.rpartition(".")
    if not model_name:
        return None
    try:
        return apps.get_model(app_label, model_name)
    except LookupError:
        return None


def may(user: Any, capability: str, obj: models.Model | None = None, *,
        organisation: Any = None) -> bool:
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
    if obj is not None:
        return can(user, obj, VIEW if verb in READ_VERBS else CHANGE)
    return True


def capabilities_of(user: Any) -> list[str]:
    """The listed capabilities the person holds (the account page shows them)."""
    return sorted(name for name, entry in CAPABILITIES.items() if entry.held_by(user))


def require(user: Any, capability: str, obj: models.Model | None = None, **kwargs: Any) -> None:
    """Raise PermissionDenied unless ``may`` says yes (services call it first)."""
    from django.core.exceptions import PermissionDenied

    if not may(user, capability, obj, **kwargs):
        raise PermissionDenied(f"You may not do that ({capability}).")


def declared(names: Iterable[str]) -> list[str]:
    """The names in ``names`` that are not declared: used by the test that every capability a
    view declares exists."""
    return [name for name in names if name not in CAPABILITIES and _model_for(name) is None]
