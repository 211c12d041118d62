"""What uploads leave stored is purged on a schedule after UPLOAD_RETENTION_DAYS: import previews nobody
committed, the files of ended batches (their rows stay), and API tokens long expired."""
import datetime as dt
import os

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.utils import timezone

from portal import services, tasks

pytestmark = pytest.mark.django_db


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def _aged(path, days):
    when = (timezone.now() - dt.timedelta(days=days)).timestamp()
    os.utime(default_storage.path(path), (when, when))


def test_old_previews_and_long_expired_tokens_are_purged(media, settings, supplier_a):
    settings.UPLOAD_RETENTION_DAYS = 7
    old = default_storage.save("imports/actions/old", ContentFile(b"reference,title\n"))
    fresh = default_storage.save("imports/devices/fresh", ContentFile(b"device_id\n"))
    _aged(old, 8)
    _aged(fresh, 6)
    long_expired = services.api_token_issue(user=supplier_a, expires_at=timezone.now() + dt.timedelta(hours=1))
    just_expired = services.api_token_issue(user=supplier_a, expires_at=timezone.now() + dt.timedelta(hours=1))
    valid = services.api_token_issue(user=supplier_a, expires_at=None)
    from portal.models import ApiToken

    ApiToken.objects.filter(pk=long_expired.token.pk).update(expires_at=timezone.now() - dt.timedelta(days=8))
    ApiToken.objects.filter(pk=just_expired.token.pk).update(expires_at=timezone.now() - dt.timedelta(days=1))
    assert tasks.stored_uploads_purge() == {"previews": 1, "expired_tokens": 1}
    assert not default_storage.exists(old) and default_storage.exists(fresh)
    assert set(ApiToken.objects.values_list("pk", flat=True)) == {just_expired.token.pk, valid.token.pk}
    assert tasks.stored_uploads_purge() == {"previews": 0, "expired_tokens": 0}  # nothing twice


def test_nothing_stored_yet_is_fine(media):
    assert tasks.stored_uploads_purge() == {"previews": 0, "expired_tokens": 0}


def test_the_files_of_ended_old_batches_are_emptied(orgs, supplier_a, settings):
    from adapter.models import Batch
    from adapter.tasks import batch_sources_purge

    settings.UPLOAD_RETENTION_DAYS = 3
    made = {}
    for label, state, age in (("old-done", "completed", 4), ("old-cancelled", "cancelled", 4),
                              ("old-running", "running", 4), ("new-done", "completed", 1)):
        batch = Batch.objects.create(organisation=orgs["SUPA"], user=supplier_a, name=label, source=b"srv,device_id\n",
                                     state=state)
        Batch.objects.filter(pk=batch.pk).update(created_at=timezone.now() - dt.timedelta(days=age))
        made[label] = batch.pk
    assert batch_sources_purge() == 2
    sources = {b.name: bytes(b.source) for b in Batch.objects.all()}
    assert sources == {"old-done": b"", "old-cancelled": b"", "old-running": b"srv,device_id\n",
                       "new-done": b"srv,device_id\n"}
    assert batch_sources_purge() == 0


def test_the_purges_are_scheduled_by_setup_schedules():
    from io import StringIO

    from django_q.models import Schedule

    call_command("setup_schedules", stdout=StringIO())
    funcs = dict(Schedule.objects.values_list("name", "func"))
    assert funcs["portal: stored uploads purge"] == "portal.tasks.stored_uploads_purge"
    assert funcs["adapter: batch sources purge"] == "adapter.tasks.batch_sources_purge"
    assert Schedule.objects.get(name="portal: stored uploads purge").schedule_type == "D"
