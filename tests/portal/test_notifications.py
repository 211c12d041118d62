"""In-app notifications, watches, e-mail at once or in a daily digest."""
import pytest
from django.core import mail

from portal.events import publish
from portal.notifications import services as notifications
from portal.notifications.models import Notification, Watch
from portal.registry import EVENTS, Event

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def synthetic_payloads(settings):
    # These tests publish made-up payloads to check who hears what and how; the payload schemas
    # are checked where the apps publish their real events (and tests/portal/test_event_schemas.py).
    settings.VALIDATE_EVENT_PAYLOADS = False


def test_named_recipients_get_a_notification_and_an_email_with_attachments(dcc_operator):
    sent = publish("statement.issued", recipients=[dcc_operator], summary="Statement for May issued",
                   body="See the statement.", url="/slas/statements/1/",
                   attachments=[("statement.pdf", b"%PDF-1.4", "application/pdf")])
    assert sent == 1
    assert mail.outbox[0].subject == "[DCC portal] Statement for May issued"
    assert mail.outbox[0].attachments[0][0] == "statement.pdf"
    assert "/slas/statements/1/" in mail.outbox[0].body
    note = Notification.objects.get(user=dcc_operator)
    assert (note.event, note.url, note.read_at, note.email_due) == ("statement.issued", "/slas/statements/1/", None,
                                                                    False)


@pytest.fixture
def organisation_changed():
    """An event of the test's own: no app publishes one about organisations (portal.registry)."""
    with EVENTS.registered(Event("organisation.changed", "An organisation's details changed (tests)")):
        yield


def test_watchers_hear_about_the_object_and_only_while_they_may_see_it(orgs, supplier_a, supplier_b, dcc_operator,
                                                                         client_for, organisation_changed):
    organisation = orgs["SUPA"]
    response = client_for(supplier_a).post("/watch/", {"model": "portal.organisation", "object_id": organisation.pk,
                                                       "watch": "1"})
    assert response.status_code == 302
    notifications.watch_set(user=dcc_operator, obj=organisation, watching=True)
    # Supplier B cannot watch what it cannot see: 404, and nothing is stored.
    response = client_for(supplier_b).post("/watch/", {"model": "portal.organisation", "object_id": organisation.pk,
                                                       "watch": "1"})
    assert response.status_code == 404
    # A watch planted behind the page's back is still not served.
    Watch.objects.create(user=supplier_b, content_type_id=Watch.objects.first().content_type_id,
                         object_id=str(organisation.pk))
    publish("organisation.changed", obj=organisation, recipients=[dcc_operator], summary="Albion changed")
    assert sorted(Notification.objects.values_list("user__username", flat=True)) == ["alice", "operator"]
    assert len(mail.outbox) == 2  # the operator once, although named and watching
    # Stop watching.
    client_for(supplier_a).post("/watch/", {"model": "portal.organisation", "object_id": organisation.pk,
                                            "watch": "0"})
    publish("organisation.changed", obj=organisation, summary="Albion changed again")
    assert Notification.objects.filter(user=supplier_a).count() == 1


def test_digest_preference_holds_email_for_one_daily_message(dcc_operator, client_for):
    response = client_for(dcc_operator).post("/notifications/preferences/", {"delivery": "digest", "email": "on"})
    assert response.status_code == 302
    for n in range(3):
        publish("action.overdue", recipients=[dcc_operator], summary=f"Action SDAG_5.0{n} is overdue",
                url=f"/workshops/actions/{n}/")
    assert mail.outbox == []
    assert Notification.objects.filter(user=dcc_operator, email_due=True).count() == 3
    assert notifications.digest_send() == 1
    assert len(mail.outbox) == 1
    digest = mail.outbox[0]
    assert digest.subject == "[DCC portal] Daily digest: 3 notifications"
    assert all(f"SDAG_5.0{n}" in digest.body for n in range(3))
    assert notifications.digest_send() == 0  # nothing owed twice


def test_in_app_only_preference_sends_no_email(dcc_operator):
    notifications.preference_set(user=dcc_operator, delivery="immediate", email=False)
    publish("alert.received", recipients=[dcc_operator], summary="Alert 8F3E")
    assert mail.outbox == [] and Notification.objects.filter(user=dcc_operator).count() == 1
    assert notifications.digest_send() == 0


def test_list_badge_open_and_mark_read(dcc_operator, supplier_a, client_for, api_for):
    publish("alert.received", recipients=[dcc_operator], summary="First alert", url="/adapter/alerts/1/")
    publish("alert.received", recipients=[dcc_operator], summary="Second alert")
    publish("alert.received", recipients=[supplier_a], summary="Albion only")
    client = client_for(dcc_operator)
    page = client.get("/notifications/").content.decode()
    assert "First alert" in page and "Second alert" in page and "Albion only" not in page
    assert "2 unread" in client.get("/notifications/badge/").content.decode()
    first = Notification.objects.get(summary="First alert")
    response = client.get(f"/notifications/{first.pk}/")
    assert response.status_code == 302 and response["Location"] == "/adapter/alerts/1/"
    assert "1 unread" in client.get("/notifications/badge/").content.decode()
    # Another person's notification is a 404 on the page and in the API.
    theirs = Notification.objects.get(summary="Albion only")
    assert client.get(f"/notifications/{theirs.pk}/").status_code == 404
    assert api_for(dcc_operator).post(f"/api/notifications/{theirs.pk}/read/").status_code == 404
    listed = api_for(dcc_operator).get("/api/notifications/").json()
    assert [n["summary"] for n in listed["results"]] == ["Second alert", "First alert"]
    second = Notification.objects.get(summary="Second alert")
    assert api_for(dcc_operator).post(f"/api/notifications/{second.pk}/read/").json()["read_at"]
    assert "0 unread" in client.get("/notifications/badge/").content.decode()
    # Supplier A marks all read.
    client_for(supplier_a).post("/notifications/read/")
    assert not Notification.objects.filter(user=supplier_a, read_at__isnull=True).exists()


def test_watch_button_renders_for_a_detail_page(orgs, supplier_a, rf):
    from django.template import Context, Template

    request = rf.get("/organisations/")
    request.user = supplier_a
    html = Template("{% load ops_tags %}{% watch_button obj %}").render(Context({"obj": orgs["SUPA"],
                                                                                "request": request}))
    assert 'name="model" value="portal.organisation"' in html and ">Watch<" in html
    notifications.watch_set(user=supplier_a, obj=orgs["SUPA"], watching=True)
    html = Template("{% load ops_tags %}{% watch_button obj %}").render(Context({"obj": orgs["SUPA"],
                                                                                "request": request}))
    assert "Watching" in html
