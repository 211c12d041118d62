"""Writes of the portal app: organisations, people and API tokens."""
from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from auditlog.context import set_actor
from django.db import transaction
from rest_framework.authtoken.models import Token

from portal.ids import normalise_eui64
from portal.mfa import require_for_token
from portal.models import FeedToken, Organisation, User
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
    require_for_token(user)
    Token.objects.filter(user=user).delete()
    return Token.objects.create(user=user)


def api_token_get_or_create(*, user: User) -> Token:
    require_for_token(user)
    token, _ = Token.objects.get_or_create(user=user)
    return token


def _feed_digest(token: str) -> str:
    import hashlib

    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def feed_token_issue(*, user: User) -> str:
    """Issue the person a new calendar-feed token and return it: the only time it is seen (only its
    digest is stored). A token issued before stops working at once."""
    import secrets

    token = secrets.token_urlsafe(32)
    FeedToken.objects.filter(user=user).delete()
    FeedToken.objects.create(user=user, digest=_feed_digest(token))
    return token


def feed_token_revoke(*, user: User) -> bool:
    """Revoke the person's feed token (calendar programs using it get the login page); False if none."""
    deleted, _ = FeedToken.objects.filter(user=user).delete()
    return bool(deleted)


def feed_token_user(token: str) -> User | None:
    """The active person a feed token belongs to, or None; notes when it was last used."""
    from django.utils import timezone

    if not token or len(token) > 200:
        return None
    found = FeedToken.objects.select_related("user").filter(digest=_feed_digest(token)).first()
    if found is None or not found.user.is_active:
        return None
    FeedToken.objects.filter(pk=found.pk).update(last_used_at=timezone.now())
    return found.user
