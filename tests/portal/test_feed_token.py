"""Calendar-feed tokens (portal.models.FeedToken): issued from the account page and shown once, kept
only as a digest, opening the person's calendar feeds and nothing else (not the API, not a page),
revoked or replaced at once; the API token opens no feed."""
import hashlib

import pytest
from django.test import Client
from django.urls import reverse

from portal import services
from portal.models import FeedToken

pytestmark = pytest.mark.django_db



@pytest.fixture
def feed_url():
    return reverse("servicedesk:maintenance_feed")


def test_issued_once_on_the_account_page_and_stored_as_a_digest(supplier_a, client_for, feed_url):
    client = client_for(supplier_a)
    assert "You have no feed token" in client.get(reverse("account")).content.decode()
    answer = client.post(reverse("account_feed_token_issue"))
    assert answer.status_code == 200 and answer["Cache-Control"] == "no-store"
    token = answer.context["new_feed_token"]
    assert len(token) >= 40 and token in answer.content.decode()
    stored = FeedToken.objects.get(user=supplier_a)
    assert stored.digest == hashlib.sha256(token.encode()).hexdigest() and token not in stored.digest
    later = client.get(reverse("account")).content.decode()
    assert token not in later and "not used yet" in later
    assert Client().get(feed_url, {"token": token}).status_code == 200
    stored.refresh_from_db()
    assert stored.last_used_at is not None
    assert "last used" in client.get(reverse("account")).content.decode()


def test_the_api_token_opens_no_feed_and_the_feed_token_opens_nothing_else(supplier_a, feed_url):
    anonymous = Client()
    api_token = services.api_token_get_or_create(user=supplier_a).key
    assert anonymous.get(feed_url, {"token": api_token}).status_code == 302
    token = services.feed_token_issue(user=supplier_a)
    assert anonymous.get(feed_url, {"token": token}).status_code == 200
    # Not an API credential, in either place an API token would go ...
    assert anonymous.get("/api/v1/devices/", HTTP_AUTHORIZATION=f"Token {token}").status_code == 401
    assert anonymous.get("/api/v1/devices/", {"token": token}).status_code == 401
    # ... and no other page takes it.
    for page in (reverse("account"), "/", reverse("inventory:index")):
        answer = anonymous.get(page, {"token": token})
        assert answer.status_code == 302 and "/accounts/login/" in answer["Location"], page


def test_a_new_token_replaces_the_old_and_a_revoked_one_stops_at_once(supplier_a, client_for, feed_url):
    anonymous = Client()
    first = services.feed_token_issue(user=supplier_a)
    second = services.feed_token_issue(user=supplier_a)
    assert first != second and FeedToken.objects.filter(user=supplier_a).count() == 1
    assert anonymous.get(feed_url, {"token": first}).status_code == 302
    assert anonymous.get(feed_url, {"token": second}).status_code == 200
    answer = client_for(supplier_a).post(reverse("account_feed_token_revoke"), follow=True)
    assert "revoked" in answer.content.decode()
    assert anonymous.get(feed_url, {"token": second}).status_code == 302
    assert not FeedToken.objects.exists()
    assert services.feed_token_revoke(user=supplier_a) is False


@pytest.mark.parametrize("hostile", ["", " ", "x" * 5000, "' OR 1=1 --", "%00", "\x00", "null"])
def test_hostile_tokens_stay_anonymous(hostile, supplier_a, feed_url):
    services.feed_token_issue(user=supplier_a)
    assert Client().get(feed_url, {"token": hostile}).status_code == 302
    assert services.feed_token_user(hostile) is None


def test_an_inactive_person_s_token_opens_nothing(supplier_a, feed_url):
    token = services.feed_token_issue(user=supplier_a)
    supplier_a.is_active = False
    supplier_a.save(update_fields=["is_active"])
    assert Client().get(feed_url, {"token": token}).status_code == 302


def test_a_feed_read_with_the_token_has_the_person_s_rights_only(supplier_a, supplier_b, client_for):
    """Each person's token reads the feed as that person: the series feed of a governance series is
    refused to whoever may not view series, exactly as with a session."""
    from workshops import services as workshops_services

    series = workshops_services.series_save(code="sdag", name="SDAG", action_prefix="SDAG", actor=None)
    url = reverse("workshops:series_feed", args=[series.pk])
    token = services.feed_token_issue(user=supplier_a)
    by_session = client_for(supplier_a).get(url).status_code
    assert Client().get(url, {"token": token}).status_code == by_session
    # only the issuing person's token counts: nothing another person holds opens supplier A's feeds
    other = services.feed_token_issue(user=supplier_b)
    assert FeedToken.objects.get(user=supplier_b).digest != FeedToken.objects.get(user=supplier_a).digest
    assert services.feed_token_user(other) == supplier_b
