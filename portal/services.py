"""Writes of the portal app: organisations, people and API tokens."""
from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from auditlog.context import set_actor
from django.db import transaction
from rest_framework.authtoken.models import Token

from portal.ids import normalise_eui64
from portal.models import Organisation, User
from portal.writes import find_or_new, save_validated, upsert

if TYPE_CHECKING:
    from portal.types import Actor


@transaction.atomic
def organisation_upsert(*, code: str, name: str, kind: str, provider_code: str = "", region: str = "",
                        duis_roles: Iterable[str] = (), user_id: str = "", actor: Actor = None) -> Organisation:
    """Create or update an organisation by its code (idempotent: demo loading and imports use it)."""
    with set_actor(actor):
        return upsert(Organisation, {"code": code}, name=name, kind=kind, provider_code=provider_code, region=region,
                      duis_roles=sorted(set(duis_roles)),
                      user_id=normalise_eui64(user_id, field="user_id") if user_id else "")


@transaction.atomic
def person_upsert(*, username: str, first_name: str, last_name: str, organisation: Organisation | None, role: str,
                  initials: str = "", email: str = "", password: str | None = None, is_staff: bool = False,
                  is_superuser: bool = False, actor: Actor = None) -> User:
    """Create or update a person by username. ``password=None`` leaves them without a login."""
    with set_actor(actor):
        user = find_or_new(User, {"username": username})
        user.role = role
        if password:
            user.set_password(password)
        elif not user.pk:
            user.set_unusable_password()
        return save_validated(user, exclude=["password"], first_name=first_name, last_name=last_name,
                              organisation=organisation, initials=initials, email=email or user.email,
                              is_staff=is_staff, is_superuser=is_superuser)


@transaction.atomic
def api_token_regenerate(*, user: User) -> Token:
    """Replace the user's API token with a new one (the old one stops working at once)."""
    Token.objects.filter(user=user).delete()
    return Token.objects.create(user=user)


def api_token_get_or_create(*, user: User) -> Token:
    token, _ = Token.objects.get_or_create(user=user)
    return token
