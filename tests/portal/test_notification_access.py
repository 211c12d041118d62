"""Named recipients, watchers, digests and webhooks hear about an object only if they may open it
(issue 18): a governance item reaches nobody outside the governance audience, not even its title."""
import datetime as dt

import pytest
import time_machine
from django.core import mail

from portal import services as portal_services
from portal.choices import PortalRole
from portal.events import publish
from portal.notifications import services as notifications
from portal.notifications.models import Notification
from portal.webhooks.models import WebhookDelivery, WebhookEndpoint
from workshops import services as workshops
from workshops.choices import RaidKind

pytestmark = pytest.mark.django_db

TITLE = "Secret coverage gap in flats"


def person(username, org, role):
    return portal_services.person_upsert(username=username, first_name=username.title(), last_name="Person",
                                         organisation=org, role=role, email=f"{username}@example.org",
                                         password=None)


def told(user):
    """Everything that reached ``user``: in-portal notifications and e-mails, as one text."""
    notes = " ".join(f"{n.summary} {n.body}" for n in Notification.objects.filter(user=user))
    mails = " ".join(f"{m.subject} {m.body}" for m in mail.outbox if user.email in m.to)
    return (notes + " " + mails).strip()


@pytest.fixture
def meeting(dcc_operator):
    series = workshops.series_save(code="sdag", name="SDAG", action_prefix="SDAG", actor=dcc_operator)
    return workshops.meeting_save(series=series, number=6, title="SDAG meeting #6", date=dt.date(2013, 4, 23),
                                  start=dt.time(10), end=dt.time(15), venue="BIS", actor=dcc_operator)


def test_a_raid_item_reaches_only_those_who_may_open_it_in_portal_mail_and_webhooks(orgs, dcc_operator,
                                                                                       supplier_a):
    sdag_of_supa = person("sam", orgs["SUPA"], PortalRole.SDAG_MEMBER)
    supa_hook = WebhookEndpoint.objects.create(organisation=orgs["SUPA"], name="SUPA", url="https://supa.example/h",
                                               events=["raid.closure_requested"])
    dcc_hook = WebhookEndpoint.objects.create(organisation=orgs["DCC"], name="DCC", url="https://dcc.example/h",
                                              events=["raid.closure_requested"])
    topic = workshops.topic_get_or_create(name="HAN")
    # Raised for Albion (a supplier), its owner a supplier's person: both named, neither may open it.
    item = workshops.raid_save(kind=RaidKind.RISK, topic=topic, title=TITLE, originator=orgs["SUPA"],
                               owner=supplier_a, likelihood=4, impact=5, actor=dcc_operator)
    notifications.watch_set(user=sdag_of_supa, obj=item, watching=True)
    mail.outbox.clear()
    workshops.raid_close(item=item, resolution="Covered by 868 MHz", actor=dcc_operator)

    assert told(supplier_a) == ""  # named as owner and as the originator's person: nothing at all
    assert TITLE in told(sdag_of_supa)  # the originator's SDAG member may open it
    assert all(TITLE not in f"{m.subject} {m.body}" for m in mail.outbox if supplier_a.email in m.to)
    # The supplier's endpoint (read by its service-user staff) hears nothing; DCC's hears it.
    assert not WebhookDelivery.objects.filter(endpoint=supa_hook).exists()
    assert WebhookDelivery.objects.get(endpoint=dcc_hook).payload["object"]["name"]


def test_an_action_owner_outside_the_governance_audience_gets_no_event_and_no_digest(meeting, dcc_operator,
                                                                                       supplier_a, sdag_member):
    with time_machine.travel(dt.datetime(2013, 5, 6, 7, tzinfo=dt.UTC)):
        action = workshops.action_raise(meeting=meeting, title=TITLE, owners=[supplier_a, sdag_member],
                                        due=dt.date(2013, 4, 30), actor=dcc_operator)
        workshops.action_overdue_announce(action=action)
        from workshops.tasks import action_digest_send

        assert action_digest_send() == 1  # the SDAG member only
    assert told(supplier_a) == ""
    assert TITLE in told(sdag_member)


def test_publish_leaves_out_named_people_and_parties_who_may_not_open_the_object(orgs, supplier_a, supplier_b,
                                                                                   dcc_operator, settings):
    settings.VALIDATE_EVENT_PAYLOADS = False
    from inventory.models import Device

    device = Device.objects.create(device_id="00-DB-00-00-00-00-00-01", device_type="ESME", supplier=orgs["SUPA"],
                                   region="north", status="pending")
    hooks = {code: WebhookEndpoint.objects.create(organisation=orgs[code], name=code, url=f"https://{code}.example/",
                                                  events=["request.failed"]) for code in ("SUPA", "SUPB")}
    publish("request.failed", obj=device, organisation=orgs["SUPA"], parties=[orgs["SUPB"]],
            recipients=[supplier_a, supplier_b, dcc_operator], summary=f"{device.device_id} failed")
    assert sorted(Notification.objects.values_list("user__username", flat=True)) == sorted(
        [supplier_a.username, dcc_operator.username])
    assert WebhookDelivery.objects.filter(endpoint=hooks["SUPA"]).count() == 1
    assert not WebhookDelivery.objects.filter(endpoint=hooks["SUPB"]).exists()


def test_the_daily_digest_leaves_out_what_the_person_may_no_longer_open(orgs, supplier_a, settings):
    settings.VALIDATE_EVENT_PAYLOADS = False
    from inventory.models import Device

    device = Device.objects.create(device_id="00-DB-00-00-00-00-00-02", device_type="ESME", supplier=orgs["SUPA"],
                                   region="north", status="pending")
    notifications.preference_set(user=supplier_a, delivery="digest")
    publish("request.failed", obj=device, organisation=orgs["SUPA"], recipients=[supplier_a],
            summary=f"{device.device_id} failed")
    publish("request.failed", recipients=[supplier_a], summary="about nothing in particular")
    assert len(mail.outbox) == 0
    Device.objects.filter(pk=device.pk).update(supplier=orgs["SUPB"])  # the device moved to another supplier
    assert notifications.digest_send() == 1
    assert "about nothing" in mail.outbox[0].body and device.device_id not in mail.outbox[0].body
    assert not Notification.objects.filter(email_due=True).exists()
