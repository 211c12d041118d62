"""Governance events: consultation.opened / consultation.closed as consultations open and close
(scheduled daily, idempotent, state recorded; at once when created already open), and
action.overdue once per action and due date."""
import datetime as dt

import pytest
import time_machine

from portal.notifications.models import Notification
from portal.notifications.services import watch_set
from portal.registry import SCHEDULES
from portal.webhooks.models import WebhookDelivery, WebhookEndpoint
from workshops import services, tasks
from workshops.models import Action, Consultation, Meeting, MeetingSeries

pytestmark = pytest.mark.django_db
D = dt.date


@pytest.fixture
def dcc_hook(orgs):
    return WebhookEndpoint.objects.create(
        organisation=orgs["DCC"], name="governance", url="https://dcc.example/hook", secret="s" * 32,
        events=["consultation.opened", "consultation.closed", "action.overdue"])


def events(name):
    return list(WebhookDelivery.objects.filter(event=name).order_by("pk"))


@time_machine.travel(dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC), tick=False)
def test_consultations_are_announced_when_they_open_and_close(orgs, dcc_admin, sdag_member, dcc_hook):
    # Created already open: announced at once. Created for later: nothing yet. History: never.
    open_now = services.consultation_save(title="Open now", opens=D(2026, 3, 1), closes=D(2026, 3, 4),
                                          actor=dcc_admin)
    later = services.consultation_save(title="Opens later", opens=D(2026, 3, 3), closes=D(2026, 3, 20),
                                       actor=dcc_admin)
    history = services.consultation_save(title="Long closed", opens=D(2025, 1, 1), closes=D(2025, 2, 1),
                                         actor=dcc_admin)
    assert [d.payload["object"]["id"] for d in events("consultation.opened")] == [str(open_now.pk)]
    delivery = events("consultation.opened")[0]
    assert delivery.payload["organisation"] is None and delivery.payload["data"]["closes"] == "2026-03-04"
    assert delivery.payload["url"].endswith(f"/workshops/consultations/{open_now.pk}/")
    watch_set(user=sdag_member, obj=later, watching=True)
    assert tasks.consultation_events(today=D(2026, 3, 2)) == []  # nothing changed since
    # 3 March: "Opens later" opens; run twice, announced once; its watcher is told.
    assert tasks.consultation_events(today=D(2026, 3, 3)) == [("consultation.opened", later.pk)]
    assert tasks.consultation_events(today=D(2026, 3, 3)) == []
    assert Notification.objects.filter(user=sdag_member, event="consultation.opened").count() == 1
    # 5 March: "Open now" closed on the 4th (its last day).
    assert tasks.consultation_events(today=D(2026, 3, 5)) == [("consultation.closed", open_now.pk)]
    assert tasks.consultation_events(today=D(2026, 3, 5)) == []
    assert [d.payload["object"]["id"] for d in events("consultation.closed")] == [str(open_now.pk)]
    history.refresh_from_db()
    assert history.announced == "closed" and not any(
        d.payload["object"]["id"] == str(history.pk) for d in events("consultation.closed"))
    # Extended after closing: it is open again, so it is announced as opened again.
    services.consultation_save(consultation=Consultation.objects.get(pk=open_now.pk), closes=D(2026, 3, 31),
                               actor=dcc_admin)
    assert len(events("consultation.opened")) == 3
    assert Consultation.objects.get(pk=open_now.pk).announced == "opened"


def test_actions_are_announced_once_when_overdue(orgs, dcc_admin, sdag_member, dcc_hook):
    series = MeetingSeries.objects.create(code="sdag", name="SDAG")
    meeting = Meeting.objects.create(series=series, number=9, title="SDAG 9", date=D(2026, 2, 1),
                                     start=dt.time(10), end=dt.time(12))
    late = Action.objects.create(reference="SDAG_9.01", meeting=meeting, title="Write it up", due=D(2026, 3, 1))
    late.owners.add(sdag_member)
    Action.objects.create(reference="SDAG_9.02", meeting=meeting, title="Not yet due", due=D(2026, 3, 10))
    Action.objects.create(reference="SDAG_9.03", meeting=meeting, title="Closed", due=D(2026, 2, 1), status="closed")
    Action.objects.create(reference="SDAG_9.04", meeting=meeting, title="tbc", due=None)
    # Due on 1 March: not overdue on its own day, overdue from the 2nd.
    assert tasks.actions_overdue_announce(today=D(2026, 3, 1)) == 0
    assert tasks.actions_overdue_announce(today=D(2026, 3, 2)) == 1
    assert tasks.actions_overdue_announce(today=D(2026, 3, 3)) == 0  # once, not daily
    note = Notification.objects.get(user=sdag_member, event="action.overdue")
    assert "SDAG_9.01 is overdue" in note.summary and "1 day ago" in note.summary
    (delivery,) = events("action.overdue")
    assert delivery.payload["data"]["reference"] == "SDAG_9.01" and delivery.payload["data"]["owners"] == ["sdagmember"]
    # A new due date that passes too is news again.
    services.action_edit(action=Action.objects.get(pk=late.pk), due=D(2026, 3, 5), actor=dcc_admin)
    assert tasks.actions_overdue_announce(today=D(2026, 3, 4)) == 0
    assert tasks.actions_overdue_announce(today=D(2026, 3, 6)) == 1
    assert len(events("action.overdue")) == 2


def test_both_tasks_are_scheduled_daily():
    by_func = {s.func: s for s in SCHEDULES}
    for func in ("workshops.tasks.consultation_events", "workshops.tasks.actions_overdue_announce"):
        assert by_func[func].schedule_type == "D" and by_func[func].fields()["next_run"].hour == 1
