"""One door for "something happened that people should hear about".

Apps call ``publish(...)`` from their services; portal decides who hears: people named as
recipients, people watching the object, and webhook endpoints subscribed to the event for the
organisation concerned. Event names (webhooks subscribe to them): request.failed,
alert.received, request.quarantined, action.overdue, statement.issued, consultation.opened,
consultation.closed, raid.closure_requested, raid.confirmed, raid.rejected, and others apps add.

This first version e-mails the named recipients; notifications, watchers and webhooks build on
the same call (issue "Operations dashboard, global search, notifications and webhooks").
"""
import logging

from django.conf import settings
from django.core.mail import EmailMessage

log = logging.getLogger(__name__)


def publish(event, *, obj=None, organisation=None, recipients=(), summary, body="", url="", payload=None,
            attachments=()):
    """Announce ``event`` about ``obj``. ``recipients`` are users told directly; ``organisation`` is
    whose event it is (None: DCC's own). ``attachments``: [(filename, bytes, mimetype)]."""
    sent = 0
    for user in recipients:
        if not getattr(user, "email", ""):
            continue
        link = f"\n\n{settings.SITE_URL}{url}" if url else ""
        message = EmailMessage(f"[DCC portal] {summary}", (body or summary) + link, to=[user.email])
        for attachment in attachments:
            message.attach(*attachment)
        message.send(fail_silently=False)
        sent += 1
    log.info("event %s: %s (%d e-mails)", event, summary, sent)
    return sent
