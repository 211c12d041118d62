"""Background work of the portal app: purging what uploads and tokens leave stored."""
from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.utils import timezone

log = logging.getLogger(__name__)

PREVIEWS = "imports"  # default storage folder of kept previews (portal.imports.import_page)


def retention_cutoff(now: dt.datetime | None = None) -> dt.datetime:
    """Stored uploads older than this are purged (UPLOAD_RETENTION_DAYS)."""
    return (now or timezone.now()) - dt.timedelta(days=settings.UPLOAD_RETENTION_DAYS)


def stored_uploads_purge(now: dt.datetime | None = None) -> dict[str, int]:
    """Daily schedule: delete previewed import files nobody committed within UPLOAD_RETENTION_DAYS (a
    preview's "Commit" then says it has expired), and API tokens that expired longer ago than that (the
    account page showed them as expired meanwhile). Batches' sources are adapter's to purge."""
    from django.core.files.storage import default_storage

    from portal.models import ApiToken

    cutoff = retention_cutoff(now)
    previews = 0
    if default_storage.exists(PREVIEWS):
        registers, _ = default_storage.listdir(PREVIEWS)
        for register in registers:
            _, files = default_storage.listdir(f"{PREVIEWS}/{register}")
            for name in files:
                path = f"{PREVIEWS}/{register}/{name}"
                if default_storage.get_modified_time(path) < cutoff:
                    default_storage.delete(path)
                    previews += 1
    tokens, _ = ApiToken.objects.filter(expires_at__lt=cutoff).delete()
    if previews or tokens:
        log.info("purged %d import previews and %d expired API tokens older than %s", previews, tokens, cutoff)
    return {"previews": previews, "expired_tokens": tokens}
