"""API tokens (portal.models.ApiToken): shown once and stored as a digest, read-only scope (403 on a
write), expiry (401), revocation, the API's token endpoint, and the carry-over of DRF's plaintext tokens."""
import datetime as dt
import hashlib
import importlib
import re

import pytest
from django.apps import apps
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from portal import services
from portal.models import ApiToken
from tests.mfa import one_code, verified_login

pytestmark = pytest.mark.django_db


def api(key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_a_token_is_shown_once_and_only_its_digest_is_stored(supplier_a, client_for):
    client = client_for(supplier_a)
    answer = client.post(reverse("account_token_issue"), {"name": "billing system", "expires_in_days": 30})
    assert answer.status_code == 200 and answer["Cache-Control"] == "no-store"
    key = re.search(r'<code class="token">([^<]+)</code>', answer.content.decode()).group(1)
    assert api(key).get("/api/v1/organisations/").status_code == 200
    stored = ApiToken.objects.get(user=supplier_a)
    assert stored.digest == hashlib.sha256(key.encode()).hexdigest() and stored.name == "billing system"
    assert key not in str(list(ApiToken.objects.values()))
    assert timezone.now() + dt.timedelta(days=29) < stored.expires_at < timezone.now() + dt.timedelta(days=31)
    later = client.get(reverse("account")).content.decode()
    assert key not in later and stored.prefix in later and "billing system" in later
    bad = client.post(reverse("account_token_issue"), {"expires_in_days": -1})
    assert bad.status_code == 400 and "expires_in_days" in bad.context["token_form"].errors


def test_a_read_only_token_reads_but_cannot_write(supplier_a):
    client = api(services.api_token_issue(user=supplier_a, read_only=True).key)
    assert client.get("/api/v1/webhook-endpoints/").status_code == 200
    assert client.options("/api/v1/webhook-endpoints/").status_code == 200
    refused = client.post("/api/v1/webhook-endpoints/", {"name": "x"}, format="json")
    assert refused.status_code == 403 and "read-only" in refused.json()["detail"]
    for method in ("put", "patch", "delete"):
        assert getattr(client, method)("/api/v1/webhook-endpoints/1/").status_code == 403
    # a token without the scope gets as far as the body's check
    writer = api(services.api_token_issue(user=supplier_a).key)
    assert writer.post("/api/v1/webhook-endpoints/", {"name": "x"}, format="json").status_code == 400


def test_an_expired_token_answers_401(supplier_a):
    issued = services.api_token_issue(user=supplier_a, expires_at=timezone.now() + dt.timedelta(hours=1))
    assert api(issued.key).get("/api/v1/organisations/").status_code == 200
    ApiToken.objects.filter(pk=issued.token.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    answer = api(issued.key).get("/api/v1/organisations/")
    assert answer.status_code == 401 and "expired" in answer.json()["detail"]
    assert answer["WWW-Authenticate"] == "Token"


def test_expiry_must_be_in_the_future_and_defaults_to_api_token_days(supplier_a, settings):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as error:
        services.api_token_issue(user=supplier_a, expires_at=timezone.now() - dt.timedelta(days=1))
    assert "expires_at" in error.value.message_dict
    settings.API_TOKEN_DAYS = 7
    token = services.api_token_issue(user=supplier_a).token
    assert token.expires_at - timezone.now() > dt.timedelta(days=6, hours=23)
    settings.API_TOKEN_DAYS = 0
    assert services.api_token_issue(user=supplier_a).token.expires_at is None


def test_unknown_revoked_and_inactive_answer_401(supplier_a, client_for):
    assert api("not-a-token").get("/api/v1/organisations/").status_code == 401
    assert api("x" * 5000).get("/api/v1/organisations/").status_code == 401
    issued = services.api_token_issue(user=supplier_a)
    client_for(supplier_a).post(reverse("account_token_revoke", args=[issued.token.pk]))
    assert api(issued.key).get("/api/v1/organisations/").status_code == 401
    other = services.api_token_issue(user=supplier_a)
    supplier_a.is_active = False
    supplier_a.save()
    assert api(other.key).get("/api/v1/organisations/").status_code == 401


def test_one_person_cannot_revoke_anothers_token(supplier_a, supplier_b, client_for):
    issued = services.api_token_issue(user=supplier_a)
    assert client_for(supplier_b).post(reverse("account_token_revoke", args=[issued.token.pk])).status_code == 404
    assert api(issued.key).get("/api/v1/organisations/").status_code == 200


def test_token_endpoint_scope_and_expiry(supplier_a):
    answer = Client().post("/api/v1/auth/token/", {"username": "alice", "password": "test-password-123",
                                                   "read_only": True, "expires_in_days": 2,
                                                   "otp": one_code(supplier_a)},
                           content_type="application/json")
    assert answer.status_code == 200
    body = answer.json()
    assert body["read_only"] is True and body["expires_at"]
    assert api(body["token"]).get("/api/v1/organisations/").status_code == 200
    assert api(body["token"]).post("/api/v1/webhook-endpoints/", {}, format="json").status_code == 403
    bad = Client().post("/api/v1/auth/token/", {"username": "alice", "password": "test-password-123",
                                                "expires_in_days": 0, "otp": one_code(supplier_a)},
                        content_type="application/json")
    assert bad.status_code == 400 and "expires_in_days" in bad.json()["errors"]


def test_old_plaintext_tokens_are_carried_over_by_digest(supplier_a):
    from rest_framework.authtoken.models import Token

    old = Token.objects.create(user=supplier_a)
    migration = importlib.import_module("portal.migrations.0006_api_tokens_hashed")
    migration.carry_over(apps, None)
    assert not Token.objects.exists()  # no plaintext left
    carried = ApiToken.objects.get(user=supplier_a)
    assert carried.digest == hashlib.sha256(old.key.encode()).hexdigest() and carried.expires_at is None
    assert api(old.key).get("/api/v1/organisations/").status_code == 200  # it keeps working


def test_replacing_revokes_the_others(supplier_a):
    first = services.api_token_issue(user=supplier_a)
    client = Client(enforce_csrf_checks=True)  # the form posts its CSRF token and nothing else
    verified_login(client, supplier_a)
    page = client.get(reverse("account"))
    answer = client.post(reverse("account_token_regenerate"), {"csrfmiddlewaretoken": page.context["csrf_token"]})
    assert answer.status_code == 200 and ApiToken.objects.filter(user=supplier_a).count() == 1
    assert ApiToken.objects.get(user=supplier_a).expires_at is not None  # the default expiry
    assert api(first.key).get("/api/v1/organisations/").status_code == 401
