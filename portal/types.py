"""Types shared by the typed surface of the apps (services, selectors, portal.access and
portal.scoping), checked by mypy in ``make test``. Nothing here runs: the aliases are strings
at run time, so importing this module never imports a model."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar

from django.db import models

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser
    from django.db.models import QuerySet

    from portal.models import User

# request.user: a person who signed in, or the anonymous visitor.
RequestUser: TypeAlias = "User | AnonymousUser"

# Whoever asks: request.user, or nobody (a task, a script).
Viewer: TypeAlias = "User | AnonymousUser | None"

# The person a write is attributed to in the audit trail; None when the system writes.
Actor: TypeAlias = "User | None"

ModelT = TypeVar("ModelT", bound=models.Model)
# A queryset of any model, keeping its own class (DeviceQuerySet stays a DeviceQuerySet).
QuerySetT = TypeVar("QuerySetT", bound="QuerySet[Any]")
