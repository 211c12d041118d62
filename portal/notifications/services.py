"""In-app notifications, watches and e-mail (at once or in a daily digest).

Writes here follow the services pattern (keyword-only, atomic); reads used by the views and
the dashboard are the ``*_for`` functions. Notifications are personal: every read filters by
the user, never only by organisation.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from auditlog.context import set_actor
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone

from portal.access import may_open
from portal.models import User
from portal.notifications.choices import NotificationDelivery
from portal.notifications.models import Notification, NotificationPreference, Watch
from portal.scoping import can
from portal.writes import find_or_new, upsert

if TYPE_CHECKING:
    from django.db import models
    from django.db.models import QuerySet

    from portal.types import RequestUser

SUBJECT_PREFIX = "[DCC portal]"


def _key(obj: models.Model) -> tuple[ContentType, str]:
    return ContentType.objects.get_for_model(type(obj)), str(obj.pk)


# --- watches ------------------------------------------------------------------------------

def is_watching(user: User, obj: models.Model) -> bool:
    content_type, object_id = _key(obj)
    return Watch.objects.filter(user=user, content_type=content_type, object_id=object_id).exists()


@transaction.atomic
def watch_set(*, user: User, obj: models.Model, watching: bool) -> bool:
    """Start or stop watching ``obj``. Only objects the user may see can be watched."""
    if watching and not can(user, obj):
        raise PermissionError("You cannot watch an object you may not see.")
    content_type, object_id = _key(obj)
    if watching:
        Watch.objects.get_or_create(user=user, content_type=content_type, object_id=object_id)
    else:
        Watch.objects.filter(user=user, content_type=content_type, object_id=object_id).delete()
    return watching


def watchers_of(obj: models.Model) -> list[User]:
    """People watching ``obj`` who may still see it (access can change after they started)."""
    content_type, object_id = _key(obj)
    people = User.objects.filter(
        is_active=True, watches__content_type=content_type, watches__object_id=object_id
    ).select_related("organisation")
    return [person for person in people if can(person, obj)]


def watches_for(user: User) -> QuerySet[Watch]:
    return Watch.objects.filter(user=user).select_related("content_type")


# --- notifications ------------------------------------------------------------------------

def preference_for(user: User) -> NotificationPreference:
    # Read afresh: the user object may have cached an older answer (or its absence).
    return find_or_new(NotificationPreference, {"user": user})


@transaction.atomic
def preference_set(*, user: User, delivery: str, email: bool = True) -> NotificationPreference:
    with set_actor(user):
        return upsert(NotificationPreference, {"user": user}, delivery=delivery, email=email)


def _email(user: User, summary: str, body: str, url: str,
           attachments: Iterable[tuple[str, bytes, str]] = ()) -> None:
    link = f"\n\n{settings.SITE_URL}{url}" if url else ""
    message = EmailMessage(f"{SUBJECT_PREFIX} {summary}", (body or summary) + link, to=[user.email])
    for attachment in attachments:
        message.attach(*attachment)
    message.send(fail_silently=False)


@transaction.atomic
def notify(*, users: Iterable[User], event: str, summary: str, body: str = "", url: str = "",
           obj: models.Model | None = None, attachments: Sequence[tuple[str, bytes, str]] = ()) -> int:
    """Tell each of ``users`` in the portal and by e-mail as they prefer. E-mail with
    attachments always goes at once (a digest cannot carry them). Returns e-mails sent."""
    content_type, object_id = _key(obj) if obj is not None and obj.pk is not None else (None, "")
    sent = 0
    now = timezone.now()
    for user in users:
        preference = preference_for(user)
        wants_email = bool(user.email) and preference.email
        immediate = preference.delivery == NotificationDelivery.IMMEDIATE or bool(attachments)
        notification = Notification(
            user=user, event=event, summary=summary[:300], body=body, url=url[:500],
            content_type=content_type, object_id=object_id,
            email_due=wants_email and not immediate,
        )
        if wants_email and immediate:
            _email(user, summary, body, url, attachments)
            notification.emailed_at = now
            sent += 1
        notification.save()
    return sent


def notifications_for(user: User) -> QuerySet[Notification]:
    return Notification.objects.filter(user=user)


def unread_count(user: RequestUser) -> int:
    if not user.is_authenticated:
        return 0
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


@transaction.atomic
def notifications_mark_read(*, user: User, notification: Notification | None = None) -> int:
    """Mark one notification (or all of the user's) read."""
    unread = Notification.objects.filter(user=user, read_at__isnull=True)
    if notification is not None:
        unread = unread.filter(pk=notification.pk)
    return unread.update(read_at=timezone.now())


def _still_open_to(notification: Notification) -> bool:
    """Whether the person may still open the object the notification is about (True when it is
    about no object: a digest of its own, a statement)."""
    if notification.content_type is None or not notification.object_id:
        return True
    model = notification.content_type.model_class()
    if model is None:
        return False
    target = model._default_manager.filter(pk=notification.object_id).first()
    return target is not None and may_open(notification.user, target)


def digest_send() -> int:
    """Daily schedule: one e-mail per person listing the notifications owed to them."""
    owed = (
        Notification.objects.filter(email_due=True, emailed_at__isnull=True)
        .select_related("user", "user__organisation", "content_type").order_by("user_id", "created_at")
    )
    by_user: dict[User, list[Notification]] = {}
    withheld: list[int] = []
    for notification in owed:
        if _still_open_to(notification):
            by_user.setdefault(notification.user, []).append(notification)
        else:
            withheld.append(notification.pk)
    if withheld:
        # Access changed (or the object went) since the notification was made: its summary is not
        # e-mailed to someone who may no longer open the object.
        Notification.objects.filter(pk__in=withheld).update(email_due=False)
    sent = 0
    for user, notes in by_user.items():
        lines = [f"- {n.created_at:%d %b %H:%M} {n.summary}" + (f"\n  {settings.SITE_URL}{n.url}" if n.url else "")
                 for n in notes]
        body = f"{len(notes)} notification{'s' if len(notes) != 1 else ''} since your last digest:\n\n" + "\n".join(
            lines)
        with transaction.atomic():
            _email(user, f"Daily digest: {len(notes)} notification{'s' if len(notes) != 1 else ''}", body,
                   "/notifications/")
            Notification.objects.filter(pk__in=[n.pk for n in notes]).update(
                emailed_at=timezone.now(), email_due=False)
        sent += 1
    return sent
