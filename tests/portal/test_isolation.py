"""Tenant isolation over every route the site has (enumerated from the URLconf, so new pages and
API routes are covered without editing this file).

Supplier B owns one object of every scoped kind (each app's tests/<app>/isolation.py makes them).
Logged in as supplier A, every page and API route is fetched with B's objects' keys filled in:
no response may carry B's markers, a detail route of the object's own model answers 404, and
no write to B's object succeeds or changes it. Anonymous users get the login page or 401/403.
"""
from importlib import import_module, util

import pytest
from django.conf import settings
from django.forms.models import model_to_dict
from django.urls import NoReverseMatch, reverse

from tests.urlsweep import body_of, iter_routes

# pages that are meant to be seen before logging in (the passkey script's translations are static text)
PUBLIC = {"login", "otp_webauthn:js-i18n-catalog"}
ALLOWED_ANON = {200: PUBLIC, 302: None, 401: None, 403: None, 405: None}


def foreign_objects(organisation, person):
    made = []
    for app in settings.PORTAL_APPS:
        if util.find_spec(f"tests.{app}.isolation"):
            made += import_module(f"tests.{app}.isolation").owned_objects(organisation, person)
    return made


def param_value(obj, name):
    if name in ("pk", "id") or name.endswith("_pk"):
        return obj.pk
    value = getattr(obj, name, None)
    return obj.pk if value is None or callable(value) else value


def urls_for(route, objects):
    """(url, object) pairs: the route filled with each foreign object's keys (or once with none)."""
    if not route.params:
        try:
            yield reverse(route.name), None
        except NoReverseMatch:
            return
        return
    for obj, _marker in objects:
        try:
            yield reverse(route.name, kwargs={p: param_value(obj, p) for p in route.params}), obj
        except NoReverseMatch:
            continue


# The read sweep fetches every route with every foreign object's keys (thousands of pages, more with
# each new register): it runs as SHARDS tests, each over every SHARDS-th route, so each stays well
# inside the per-test timeout on a loaded machine while together they cover every route.
SHARDS = 4


def sweep_reads(orgs, supplier_a, supplier_b, client_for, shard=None):
    """Every GET route (or, given ``shard``, every SHARDS-th one) as supplier A with B's keys."""
    objects = foreign_objects(orgs["SUPB"], supplier_b)
    markers = [marker for _obj, marker in objects]
    client = client_for(supplier_a)
    checked = 0
    for index, route in enumerate(iter_routes()):
        if shard is not None and index % SHARDS != shard:
            continue
        for url, obj in urls_for(route, objects):
            response = client.get(url)
            checked += 1
            assert response.status_code < 500, f"{url} answered {response.status_code}"
            body = body_of(response)
            for marker in markers:
                assert marker not in body, f"{url} shows supplier B's {marker!r} to supplier A"
            if obj is not None and route.model is type(obj):
                assert response.status_code in (404, 405), f"{url} gave {response.status_code} for B's object"
    assert checked > 10


@pytest.mark.django_db
@pytest.mark.parametrize("shard", range(SHARDS))
def test_supplier_sees_nothing_of_another_supplier(orgs, supplier_a, supplier_b, client_for, shard):
    sweep_reads(orgs, supplier_a, supplier_b, client_for, shard)


@pytest.mark.django_db
def test_supplier_cannot_change_another_suppliers_objects(orgs, supplier_a, supplier_b, client_for):
    objects = foreign_objects(orgs["SUPB"], supplier_b)
    client = client_for(supplier_a)
    before = {(type(o), o.pk): model_to_dict(o) for o, _ in objects}
    for route in iter_routes():
        if not route.params:
            continue
        for url, obj in urls_for(route, objects):
            if route.model is not type(obj):
                continue
            for method in ("post", "put", "patch", "delete"):
                response = getattr(client, method)(url, data={}, content_type="application/json")
                assert response.status_code in (403, 404, 405), f"{method.upper()} {url} -> {response.status_code}"
    for obj, _ in objects:
        fresh = type(obj)._default_manager.filter(pk=obj.pk).first()
        assert fresh is not None, f"{obj!r} was deleted"
        assert model_to_dict(fresh) == before[(type(obj), obj.pk)], f"{obj!r} was changed"


@pytest.mark.django_db
def test_anonymous_users_get_login_or_refusal(orgs, supplier_b, client):
    objects = foreign_objects(orgs["SUPB"], supplier_b)
    markers = [marker for _obj, marker in objects]
    for route in iter_routes():
        for url, _obj in urls_for(route, objects):
            response = client.get(url)
            status = response.status_code
            assert status in ALLOWED_ANON, f"anonymous GET {url} -> {status}"
            if status == 200:
                assert route.name in PUBLIC, f"anonymous GET {url} shows a page"
            if status == 302:
                assert reverse("login") in response["Location"], f"{url} redirects elsewhere than the login page"
            body = body_of(response)
            for marker in markers:
                assert marker not in body
