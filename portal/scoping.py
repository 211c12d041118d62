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
"""
from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.http import Http404


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
    Organisation ("supplier", "request__organisation"); "" means the row *is* the organisation."""

    domain: str
    org_path: str | None = None


def rule_for(model):
    rule = getattr(model, "scope_rule", None)
    if not isinstance(rule, ScopeRule):
        raise ImproperlyConfigured(f"{model.__name__} has no scope_rule: declare one before exposing it to users")
    return rule


def _org_filter(rule, organisation):
    if rule.org_path == "":
        return models.Q(pk=organisation.pk)
    return models.Q(**{rule.org_path: organisation})


def scope(user, queryset, action=VIEW):
    """Return the part of ``queryset`` (a QuerySet or a model) that ``user`` may ``action``."""
    if isinstance(queryset, type) and issubclass(queryset, models.Model):
        queryset = queryset._default_manager.all()
    rule = rule_for(queryset.model)
    if user is None or not user.is_authenticated or not user.is_active:
        return queryset.none()
    if user.is_dcc:
        if action == VIEW or user.is_dcc_admin:
            return queryset
        if rule.domain in (Domain.CONFIGURATION, Domain.DIRECTORY):
            return queryset.none()
        return queryset
    organisation = user.organisation
    role = user.role
    if rule.domain in (Domain.REFERENCE, Domain.CONFIGURATION):
        return queryset if action == VIEW else queryset.none()
    if rule.domain == Domain.DIRECTORY:
        if action != VIEW or organisation is None:
            return queryset.none()
        return queryset.filter(_org_filter(rule, organisation))
    if rule.domain == Domain.GOVERNANCE:
        return queryset if (role == "sdag_member" and action == VIEW) else queryset.none()
    if rule.domain == Domain.OPERATIONAL:
        if role != "service_user" or organisation is None:
            return queryset.none()
        if rule.org_path is None:
            # Operational data with no owner (e.g. national figures) is DCC's alone.
            return queryset.none()
        return queryset.filter(_org_filter(rule, organisation))
    raise ImproperlyConfigured(f"unknown scope domain {rule.domain!r} on {queryset.model.__name__}")


def can(user, obj, action=VIEW):
    """Whether ``user`` may ``action`` this one object."""
    return scope(user, type(obj)._default_manager.filter(pk=obj.pk), action).exists()


def can_create(user, model, organisation=None):
    """Whether ``user`` may create a ``model`` row (owned by ``organisation`` where it has an owner)."""
    if user is None or not user.is_authenticated:
        return False
    rule = rule_for(model)
    if user.is_dcc:
        return user.is_dcc_admin or rule.domain not in (Domain.CONFIGURATION, Domain.DIRECTORY)
    if rule.domain == Domain.OPERATIONAL and user.role == "service_user":
        return organisation is None or organisation == user.organisation
    return False


def get_scoped_or_404(user, queryset, action=VIEW, **lookup):
    """Fetch one object the user may ``action``; any other object, whoever owns it, is a 404
    (never 403), so ids of other organisations cannot be probed."""
    scoped = scope(user, queryset, action)
    try:
        return scoped.get(**lookup)
    except scoped.model.DoesNotExist:
        raise Http404("No such object") from None
