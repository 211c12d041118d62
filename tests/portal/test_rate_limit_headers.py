"""RateLimit-* headers (portal.throttling): every answer a throttle counted says how much is left, counting
down to the 429, whose Retry-After agrees with RateLimit-Reset; anonymous and signed-in callers are
counted by their own quotas; the schema documents the headers."""
from contextlib import contextmanager

import pytest
from django.core.cache import cache
from django.test import Client
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle


@contextmanager
def rates(**overrides):
    # DRF reads the rates once, at import: patch the class attribute as test_auth's 429 test does.
    original = SimpleRateThrottle.THROTTLE_RATES
    SimpleRateThrottle.THROTTLE_RATES = {**api_settings.DEFAULT_THROTTLE_RATES, **overrides}
    cache.clear()
    try:
        yield
    finally:
        SimpleRateThrottle.THROTTLE_RATES = original
        cache.clear()


@pytest.mark.django_db
def test_headers_count_down_to_a_429_whose_retry_after_matches_reset(supplier_a, api_for):
    api = api_for(supplier_a)
    with rates(user="3/min"):
        answers = [api.get("/api/v1/organisations/") for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [a["RateLimit-Limit"] for a in answers] == ["3"] * 4
    assert [a["RateLimit-Remaining"] for a in answers] == ["2", "1", "0", "0"]
    assert all(0 < int(a["RateLimit-Reset"]) <= 60 for a in answers)
    assert answers[0]["RateLimit-Policy"] == '3;w=60;comment="user"'
    refused = answers[-1]
    assert int(refused["Retry-After"]) > 0
    assert abs(int(refused["Retry-After"]) - int(refused["RateLimit-Reset"])) <= 1
    assert refused["Content-Type"].startswith("application/problem+json")


@pytest.mark.django_db
def test_anonymous_callers_are_announced_their_own_quota(supplier_a):
    with rates(anon="5/min", user="100/min"):
        answer = Client().post("/api/v1/auth/token/", {"username": "alice", "password": "wrong"},
                               content_type="application/json")
    assert answer.status_code == 400
    # Both quotas count an anonymous request; the one nearest to running out is announced.
    assert answer["RateLimit-Limit"] == "5" and answer["RateLimit-Remaining"] == "4"
    assert 'comment="anon"' in answer["RateLimit-Policy"] and 'comment="user"' in answer["RateLimit-Policy"]


@pytest.mark.django_db
def test_one_users_spending_does_not_count_against_another(supplier_a, supplier_b, api_for):
    with rates(user="2/min"):
        first = api_for(supplier_a)
        first.get("/api/v1/organisations/")
        first.get("/api/v1/organisations/")
        assert first.get("/api/v1/organisations/").status_code == 429
        other = api_for(supplier_b).get("/api/v1/organisations/")
    assert other.status_code == 200 and other["RateLimit-Remaining"] == "1"


@pytest.mark.django_db
def test_pages_outside_the_api_carry_no_rate_limit_headers(supplier_a, client_for):
    answer = client_for(supplier_a).get("/")
    assert answer.status_code == 200 and "RateLimit-Limit" not in answer


@pytest.mark.django_db
def test_schema_documents_the_headers_on_every_operation():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator(api_version="v1").get_schema(request=None, public=True)
    missing = [f"{method.upper()} {path} {status}"
               for path, item in schema["paths"].items() for method, op in item.items()
               for status, response in op["responses"].items()
               if status != "401" and "RateLimit-Remaining" not in response.get("headers", {})]
    assert not missing, missing[:10]
