"""Notifications never link to a page the recipient cannot open (issue 17): every kind the
portal's services publish is made here for people of every role, and each notification's link
is opened as its recipient. A supplier that originated a RAID item is not told of its closure
(its service-user staff may open no governance register); DCC is shown that nobody there is told
and answers on its behalf, while the originator's SDAG members are told and can answer."""
import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from portal import services as portal_services
from portal.choices import PortalRole
from portal.notifications import services as notifications
from portal.notifications.models import Notification
from workshops import services as workshops
from workshops.choices import RaidKind

pytestmark = pytest.mark.django_db


def person(username, org, role):
    from tests.mfa import enrol

    someone = portal_services.person_upsert(username=username, first_name=username.title(), last_name="Person",
                                            organisation=org, role=role, email=f"{username}@example.org",
                                            password="test-password-123")
    enrol(someone)
    return someone


def governance(orgs, dcc_operator, supplier_a, sdag_member):
    """RAID closures (a supplier's item and DECC's), answered both ways; actions raised, overdue
    and digested; a consultation opening (told to its watchers and webhooks only)."""
    sam = person("sam", orgs["SUPA"], PortalRole.SDAG_MEMBER)  # Albion's SDAG member
    topic = workshops.topic_get_or_create(name="HAN")
    theirs = workshops.raid_save(kind=RaidKind.RISK, topic=topic, title="Albion's risk", originator=orgs["SUPA"],
                                 owner=supplier_a, likelihood=4, impact=5, actor=dcc_operator)
    ours = workshops.raid_save(kind=RaidKind.ISSUE, topic=topic, title="DECC's issue", originator=orgs["DECC"],
                               owner=sdag_member, actor=dcc_operator)
    notifications.watch_set(user=dcc_operator, obj=theirs, watching=True)
    for item in (theirs, ours):
        workshops.raid_close(item=item, resolution="Answered", actor=dcc_operator)
    workshops.raid_confirm(item=theirs, actor=sam)
    workshops.raid_reject(item=ours, reason="Not yet", actor=sdag_member)
    series = workshops.series_save(code="sdag", name="SDAG", action_prefix="SDAG", actor=dcc_operator)
    meeting = workshops.meeting_save(series=series, number=3, title="SDAG #3", date=dt.date(2013, 4, 23),
                                     start=dt.time(10), end=dt.time(12), actor=dcc_operator)
    action = workshops.action_raise(meeting=meeting, title="Everyone's", owners=[sdag_member, supplier_a],
                                    all_members=True, due=dt.date(2013, 4, 30), actor=dcc_operator)
    workshops.action_overdue_announce(action=action, today=dt.date(2013, 5, 6))
    from workshops.tasks import action_digest_send

    action_digest_send(today=dt.date(2013, 5, 6))
    today = timezone.localdate()
    consultation = workshops.consultation_save(title="Smart metering consultation", opens=today,
                                               closes=today + dt.timedelta(days=10), actor=dcc_operator)
    workshops.consultation_announce(consultation=consultation, today=today)
    return theirs, sam


def operations(orgs, dcc_operator, supplier_a):
    """A burn-rate warning (the shipped rules, a bad hour) and a service alert naming a supplier."""
    from servicedesk.services import service_alert_publish
    from slas import burnrate
    from slas.services import ensure_measures
    from tests.slas.test_burnrate import traffic

    ensure_measures()
    now = timezone.now()
    traffic(orgs["SUPA"], start=now - dt.timedelta(hours=1), hours=1, per_hour=200, bad_per_hour=200, prefix="bad")
    assert burnrate.burnrate_check(now=now + dt.timedelta(seconds=1))
    service_alert_publish(actor=dcc_operator, title="DSP slow", description="Responses are slow",
                          recipients=[supplier_a])


def statements(orgs, dcc_admin):
    from slas import facts
    from slas import services as slas_services
    from tests.slas.factories import request_row, requests_csv

    slas_services.ensure_measures()
    start = dt.datetime(2025, 10, 15, 9, 0, tzinfo=dt.UTC)
    facts.load_text(requests=requests_csv([request_row(f"s{n}", "SUPA" if n % 2 else "SUPB",
                                                       start + dt.timedelta(minutes=n), outbound=9 if n < 3 else 1)
                                           for n in range(40)]))
    data = "month,party,amount\n2025-10,DSP,100000.00\n2025-10,SUPA,2000.00\n2025-10,SUPB,1000.00\n"
    assert slas_services.charges_import(data.encode(), filename="charges.csv", commit=True, actor=dcc_admin).committed
    slas_services.month_freeze(month=dt.date(2025, 10, 1))


@time_machine.travel(dt.datetime(2026, 3, 11, 12, 0, tzinfo=dt.UTC), tick=True)
def test_every_notification_links_to_a_page_its_recipient_can_open(orgs, dcc_operator, dcc_admin, supplier_a,
                                                                    supplier_b, sdag_member, client_for):
    theirs, sam = governance(orgs, dcc_operator, supplier_a, sdag_member)
    operations(orgs, dcc_operator, supplier_a)
    statements(orgs, dcc_admin)
    notes = list(Notification.objects.select_related("user").order_by("pk"))
    kinds = {n.event for n in notes}
    assert {"raid.closure_requested", "raid.confirmed", "raid.rejected", "action.overdue", "action.digest",
            "burnrate.warning", "service_alert.published", "statement.issued"} <= kinds
    assert {n.user.username for n in notes} >= {"operator", "alice", "bob", "sdagmember", "sam"}
    clients = {}
    for note in notes:
        assert note.url, f"{note.event} to {note.user} links nowhere"
        client = clients.setdefault(note.user.pk, client_for(note.user))
        # Through the link the notification list shows (it marks it read and goes to the page);
        # "My actions" redirects on to the filtered list.
        response = client.get(reverse("notification_open", args=[note.pk]), follow=True)
        assert response.status_code == 200, (note.event, note.user.username, note.url, response.status_code)
        assert response.redirect_chain[0][0] == note.url, (note.event, response.redirect_chain)
    # The supplier that originated the RAID item: its SDAG member was told and answered; its
    # service-user staff (named as the owner too) heard nothing of it, in the portal or by mail.
    assert Notification.objects.filter(user=sam, event="raid.closure_requested").exists()
    assert not Notification.objects.filter(user=supplier_a, event__startswith="raid.").exists()
    assert not Notification.objects.filter(user=supplier_a, event__startswith="action.").exists()
    assert client_for(supplier_a).get(theirs.get_absolute_url()).status_code == 404
    assert Decimal(Notification.objects.filter(user=supplier_a, event="statement.issued").count()) == 1


def test_dcc_sees_when_nobody_at_the_originator_is_told(orgs, dcc_operator, supplier_a, client_for):
    topic = workshops.topic_get_or_create(name="HAN")
    item = workshops.raid_save(kind=RaidKind.RISK, topic=topic, title="Albion's risk", originator=orgs["SUPA"],
                               owner=supplier_a, likelihood=2, impact=2, actor=dcc_operator)
    page = client_for(dcc_operator).get(item.get_absolute_url()).content.decode()
    assert 'id="originator-not-told"' in page and "Nobody at Albion Energy" in page
    sam = person("sam", orgs["SUPA"], PortalRole.SDAG_MEMBER)
    page = client_for(dcc_operator).get(item.get_absolute_url()).content.decode()
    assert 'id="originator-not-told"' not in page and str(sam) in page
