"""Reads of the portal app that more than one view uses."""
from __future__ import annotations

from typing import TYPE_CHECKING

from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import models

from portal.access import may
from portal.scoping import scope

if TYPE_CHECKING:
    import datetime as dt

    from django.db.models import QuerySet

    from portal.models import ApiToken, FeedToken, SignIn, User
    from portal.types import RequestUser, Viewer


def audit_entries_for_object(user: Viewer, obj: models.Model) -> QuerySet[LogEntry]:
    """The audit trail of one object, newest first, if the user may see the object."""
    if not scope(user, type(obj)._default_manager.filter(pk=obj.pk)).exists():
        return LogEntry.objects.none()
    content_type = ContentType.objects.get_for_model(type(obj))
    return (
        LogEntry.objects.filter(content_type=content_type, object_pk=str(obj.pk))
        .select_related("actor")
        .order_by("-timestamp", "-pk")
    )


def audit_entries(user: RequestUser, *, model_label: str | None = None,
                  object_pk: str | int | None = None, actor: User | None = None,
                  since: dt.datetime | None = None, until: dt.datetime | None = None) -> QuerySet[LogEntry]:
    """Audit entries the user may read. DCC staff read all; anyone else must name one object
    they may see (model_label "app_label.model" and object_pk) and reads that object's trail.
    ``actor``, ``since`` and ``until`` (``since <= timestamp < until``) narrow what may be read."""
    entries = LogEntry.objects.select_related("actor", "content_type").order_by("-timestamp", "-pk")
    if actor is not None:
        entries = entries.filter(actor=actor)
    if since is not None:
        entries = entries.filter(timestamp__gte=since)
    if until is not None:
        entries = entries.filter(timestamp__lt=until)
    content_type = None
    if model_label:
        app_label, _, model_name = model_label.lower().partition(".")
        content_type = ContentType.objects.filter(app_label=app_label, model=model_name).first()
        if content_type is None:
            return entries.none()
        entries = entries.filter(content_type=content_type)
    if object_pk:
        entries = entries.filter(object_pk=str(object_pk))
    if may(user, "portal.audit.view_all"):
        return entries
    if content_type is None or not object_pk:
        return entries.none()
    model = content_type.model_class()
    if model is None or not hasattr(model, "scope_rule"):
        return entries.none()
    if not scope(user, model._default_manager.filter(pk=object_pk)).exists():
        return entries.none()
    return entries


def feed_token_of(user: User) -> FeedToken | None:
    """The person's calendar-feed token record (when issued, when last used), or None; never the
    token itself, which is kept only as a digest."""
    from portal.models import FeedToken

    return FeedToken.objects.filter(user=user).first()


def api_tokens_of(user: User) -> list[ApiToken]:
    """The person's API tokens, newest first (what each is for, its scope and dates; never the token)."""
    from portal.models import ApiToken

    return list(ApiToken.objects.filter(user=user))
def people_of_my_organisation(user: User) -> QuerySet[User]:
    """The people of the person's own organisation (active or not), through ``scope``: the list an
    organisation administrator manages, with the time each last signed in."""
    from portal.models import User as UserModel

    if user.organisation_id is None:
        return UserModel._default_manager.none()
    return (scope(user, UserModel._default_manager.filter(organisation_id=user.organisation_id))
            .order_by("last_name", "first_name", "username"))


def sign_ins_of(user: User, *, limit: int = 20) -> QuerySet[SignIn]:
    """The person's own recent sign-ins and failed sign-ins (the account page), newest first."""
    from portal.models import SignIn as SignInModel

    return SignInModel.objects.filter(user=user).order_by("-at", "-pk")[:limit]


def sign_ins(viewer: RequestUser, *, person: str = "", outcome: str = "") -> QuerySet[SignIn]:
    """Everyone's sign-ins for a DCC administrator (filtered by username typed or person's
    username, and by outcome); nothing for anyone else."""
    from django.db.models import Q

    from portal.models import SignIn as SignInModel

    if not may(viewer, "portal.signin.view_all"):
        return SignInModel.objects.none()
    entries = SignInModel.objects.select_related("user").order_by("-at", "-pk")
    if person:
        entries = entries.filter(Q(username__iexact=person) | Q(user__username__iexact=person))
    if outcome:
        entries = entries.filter(outcome=outcome)
    return entries
