"""The one place that decides what a user may see or change.

Every model a user can reach declares a ``scope_rule``: which domain it belongs to and,
for organisation-owned records, the path from the model to the owning Organisation.
Every list, detail, export and API in the portal passes its queryset through
``scope(user, queryset, action)``; no view filters by organisation on its own.

Domains and roles (superusers count as DCC administrators):

=============  ===========================  ===============================  ==========================
domain         DCC operations / admin       service user staff               SDAG member
=============  ===========================  ===============================  ==========================
operational    view, change                 own organisation's rows only     nothing
governance     view, change                 nothing                          view (comments: workshops)
reference      view, change                 view                             view
configuration  view; change: admin only     view                             view
directory      view; change: admin only     own organisation (view)          own organisation (view)
=============  ===========================  ===============================  ==========================

A rule may also let other organisations *see* a row (``viewer_paths``: an incident's interested
parties) and hide rows from everyone outside DCC (``outsiders_see``: DCC-internal notes); see
ScopeRule.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, overload

from django.core.exceptions import ImproperlyConfigured, ObjectDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.http import Http404

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from portal.models import Organisation
    from portal.types import ModelT, QuerySetT, Viewer


class Domain(models.TextChoices):
    OPERATIONAL = "operational", "Operational (organisation-owned)"
    GOVERNANCE = "governance", "Governance registers"
    REFERENCE = "reference", "Reference catalogues"
    CONFIGURATION = "configuration", "Configuration (targets, schedules)"
    DIRECTORY = "directory", "Organisations and people"


VIEW = "view"
CHANGE = "change"


@dataclass(frozen=True)
class ScopeRule:
    """How a model is scoped. ``org_path`` is the ORM path from the model to its owning
    Organisation ("supplier", "request__organisation"); "" means the row *is* the organisation.

    Two optional refinements, both about people outside DCC:

    - ``viewer_paths``: further paths to organisations that may *see* the row but not change it
      (an incident's interested parties: ``("interested_parties",)``). They are ORed with the
      owner; a path through a many-valued relation is matched in a subquery, so a row is never
      returned twice.
    - ``outsiders_see``: a ``Q`` that rows must match to be seen by anyone outside DCC at all
      (an incident's DCC-internal notes are not: ``Q(visibility="parties")``).
    """

    domain: str
    org_path: str | None = None
    viewer_paths: tuple[str, ...] = ()
    outsiders_see: models.Q | None = None


def rule_for(model: type[models.Model]) -> ScopeRule:
    rule = getattr(model, "scope_rule", None)
    if not isinstance(rule, ScopeRule):
        raise ImproperlyConfigured(f"{model.__name__} has no scope_rule: declare one before exposing it to users")
    return rule


def _org_filter(rule: ScopeRule, organisation: Organisation, model: type[models.Model] | None = None,
                action: str = VIEW) -> models.Q | None:
    if rule.org_path is None:
        return None  # rows with no path to an owner belong to no organisation: DCC's alone
    if rule.org_path == "":
        owned = models.Q(pk=organisation.pk)
    else:
        owned = models.Q(**{rule.org_path: organisation})
    if action == VIEW and rule.viewer_paths:
        if model is None:
            raise ImproperlyConfigured("a scope rule with viewer_paths needs its model to build the filter")
        for path in rule.viewer_paths:
            owned |= models.Q(pk__in=model._default_manager.filter(**{path: organisation}).values("pk"))
    return owned


def _grant(user: Viewer, rule: ScopeRule, action: str,
           model: type[models.Model] | None = None) -> models.Q | Literal[True] | None:
    """What the domain table grants: ``None`` (nothing), ``True`` (every row) or a ``Q`` of the
    rows owned by the person's organisation (or shared with it, see ScopeRule), narrowed by the
    rule's ``outsiders_see`` for anyone outside DCC. The role predicates are portal.access's."""
    from portal.access import is_dcc

    if user is None or not user.is_authenticated or not user.is_active:
        return None
    grant = _grant_table(user, rule, action, model)
    if grant is None or rule.outsiders_see is None or is_dcc(user):
        return grant
    return rule.outsiders_see if grant is True else grant & rule.outsiders_see


def _grant_table(user: Viewer, rule: ScopeRule, action: str,
                 model: type[models.Model] | None) -> models.Q | Literal[True] | None:
    from portal.access import is_dcc, is_dcc_admin, is_sdag_member, is_service_user

    if is_dcc(user):
        if action == VIEW or is_dcc_admin(user):
            return True
        return None if rule.domain in (Domain.CONFIGURATION, Domain.DIRECTORY) else True
    organisation = getattr(user, "organisation", None)  # _grant let only signed-in people through
    if rule.domain in (Domain.REFERENCE, Domain.CONFIGURATION):
        return True if action == VIEW else None
    if rule.domain == Domain.DIRECTORY:
        if action != VIEW or organisation is None:
            return None
        return _org_filter(rule, organisation, model, action)
    if rule.domain == Domain.GOVERNANCE:
        return True if (is_sdag_member(user) and action == VIEW) else None
    if rule.domain == Domain.OPERATIONAL:
        if not is_service_user(user) or organisation is None:
            return None
        if rule.org_path is None:
            # Operational data with no owner (e.g. national figures) is DCC's alone.
            return None
        return _org_filter(rule, organisation, model, action)
    raise ImproperlyConfigured(f"unknown scope domain {rule.domain!r}")


def allows(user: Viewer, model: type[models.Model], action: str = VIEW) -> bool:
    """Whether the domain table lets ``user`` at some rows of ``model`` at all (no query)."""
    return grant_for(user, model, action) is not None


def grant_for(user: Viewer, model: type[models.Model], action: str = VIEW) -> models.Q | Literal[True] | None:
    """What the domain table grants ``user`` on ``model`` (no query): ``None`` (no row),
    ``True`` (every row) or a ``Q`` of the rows the person's organisation owns or shares."""
    return _grant(user, rule_for(model), action, model)


@overload
def scope(user: Viewer, queryset: QuerySetT, action: str = VIEW) -> QuerySetT: ...
@overload
def scope(user: Viewer, queryset: type[ModelT], action: str = VIEW) -> QuerySet[ModelT]: ...
def scope(user: Viewer, queryset: QuerySet[Any] | type[models.Model], action: str = VIEW) -> QuerySet[Any]:
    """Return the part of ``queryset`` (a QuerySet or a model) that ``user`` may ``action``."""
    if isinstance(queryset, type) and issubclass(queryset, models.Model):
        queryset = queryset._default_manager.all()
    grant = _grant(user, rule_for(queryset.model), action, queryset.model)
    if grant is None:
        return queryset.none()
    if grant is True:
        return queryset
    return queryset.filter(grant)


def can(user: Viewer, obj: models.Model, action: str = VIEW) -> bool:
    """Whether ``user`` may ``action`` this one object."""
    return scope(user, type(obj)._default_manager.filter(pk=obj.pk), action).exists()


def can_create(user: Viewer, model: type[models.Model], organisation: Organisation | None = None) -> bool:
    """Whether ``user`` may create a ``model`` row (owned by ``organisation`` where it has an owner)."""
    from portal.access import is_dcc, is_dcc_admin, is_service_user

    if user is None or not user.is_authenticated:
        return False
    rule = rule_for(model)
    if is_dcc(user):
        return is_dcc_admin(user) or rule.domain not in (Domain.CONFIGURATION, Domain.DIRECTORY)
    if rule.domain == Domain.OPERATIONAL and is_service_user(user):
        return organisation is None or organisation == user.organisation
    return False


def get_scoped_or_404(user: Viewer, queryset: QuerySet[ModelT] | type[ModelT], action: str = VIEW,
                      **lookup: Any) -> ModelT:
    """Fetch one object the user may ``action``; any other object, whoever owns it, is a 404
    (never 403), so ids of other organisations cannot be probed."""
    scoped = scope(user, queryset, action)
    try:
        return scoped.get(**lookup)
    except ObjectDoesNotExist:  # the stubs give DoesNotExist to concrete models only
        raise Http404("No such object") from None
    except (TypeError, ValueError, DjangoValidationError):
        # An id of the wrong shape (e.g. "abc" for a numeric key, from a URL's path) names no object: a 404
        # like DRF's own get_object_or_404, not a 500 from the failed conversion.
        raise Http404("No such object") from None
