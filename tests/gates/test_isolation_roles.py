"""Isolation beyond tests/portal/test_isolation.py: the SDAG member, and the API as its schema documents it.

- An SDAG member sees nothing operational: supplier A's objects of every operational kind (each app's
  tests/<app>/isolation.py makes them) never show on any page or API route, their details answer 404 and
  no write reaches them.
- Every API operation of /api/schema/ (so paths outside the router are covered too), as supplier A with
  supplier B's keys in the path: reads answer 404 (never 403) and show none of B's markers; writes are
  refused and change nothing. List operations, with every documented query parameter set to B's
  organisation code or id, still show none of B's markers.
"""
import pytest
from django.forms.models import model_to_dict

from portal.scoping import Domain, rule_for
from tests.gates.schema_routes import model_of, operations
from tests.portal.test_isolation import foreign_objects, param_value, urls_for
from tests.urlsweep import body_of, iter_routes

pytestmark = pytest.mark.django_db


def snapshot(objects):
    return {(type(o), o.pk): model_to_dict(o) for o, _ in objects}


def assert_unchanged(objects, before):
    for obj, _ in objects:
        fresh = type(obj)._default_manager.filter(pk=obj.pk).first()
        assert fresh is not None, f"{obj!r} was deleted"
        assert model_to_dict(fresh) == before[(type(obj), obj.pk)], f"{obj!r} was changed"


def sample(objects):
    """One object of each model."""
    seen, picked = set(), []
    for obj, marker in objects:
        if type(obj) not in seen:
            seen.add(type(obj))
            picked.append((obj, marker))
    return picked


def is_operational(obj):
    try:
        return rule_for(type(obj)).domain == Domain.OPERATIONAL
    except Exception:
        return False


def test_sdag_member_sees_nothing_operational(orgs, supplier_a, sdag_member, client_for, api_for):
    objects = [(o, m) for o, m in foreign_objects(orgs["SUPA"], supplier_a) if is_operational(o)]
    markers = [m for _o, m in objects]
    before = snapshot(objects)
    web = client_for(sdag_member)
    checked = 0
    for route in iter_routes():
        # A route of a known model is filled with every object of that model; others with a few of each kind.
        mine = [(o, m) for o, m in objects if type(o) is route.model] if route.model else sample(objects)
        for url, obj in urls_for(route, mine):
            response = web.get(url)
            checked += 1
            assert response.status_code < 500, f"SDAG GET {url} -> {response.status_code}"
            body = body_of(response)
            for marker in markers:
                assert marker not in body, f"{url} shows operational {marker!r} to the SDAG member"
            if obj is not None and route.model is type(obj):
                assert response.status_code in (404, 405), f"SDAG GET {url} -> {response.status_code}"
                for method in ("post", "put", "patch", "delete"):
                    status = getattr(web, method)(url, data={}, content_type="application/json").status_code
                    assert status in (403, 404, 405), f"SDAG {method.upper()} {url} -> {status}"
    api = api_for(sdag_member)
    for op in operations(api):
        if op.method != "get":
            continue
        for obj, _marker in objects if op.params else [(None, None)]:
            if obj is not None and model_of(op.path) is not type(obj):
                continue
            url = op.fill({p: param_value(obj, p) for p in op.params}) if obj is not None else op.path
            response = api.get(url)
            checked += 1
            assert response.status_code < 500, f"SDAG GET {url} -> {response.status_code}"
            for marker in markers:
                assert marker not in body_of(response), f"{url} shows operational {marker!r} to the SDAG member"
            if obj is not None:
                assert response.status_code == 404, f"SDAG GET {url} -> {response.status_code}"
    assert_unchanged(objects, before)
    assert checked > 10


def test_schema_operations_give_a_supplier_nothing_of_another(orgs, supplier_a, supplier_b, api_for):
    objects = foreign_objects(orgs["SUPB"], supplier_b)
    markers = [m for _o, m in objects]
    before = snapshot(objects)
    api = api_for(supplier_a)
    probes = [orgs["SUPB"].code, str(orgs["SUPB"].pk), str(supplier_b.pk)]
    ops = operations(api)
    assert ops, "the schema documents no operation"
    for op in ops:
        if not op.params:
            if op.method != "get":
                continue
            for url in [op.path] + [f"{op.path}?{name}={value}" for name in op.query for value in probes]:
                response = api.get(url)
                assert response.status_code < 500, f"GET {url} -> {response.status_code}"
                for marker in markers:
                    assert marker not in body_of(response), f"GET {url} shows supplier B's {marker!r} to A"
            continue
        model = model_of(op.path)
        for obj, _marker in objects:
            if model is not None and type(obj) is not model:
                continue
            try:
                url = op.fill({p: param_value(obj, p) for p in op.params})
            except KeyError:
                continue
            response = getattr(api, op.method)(url, data={}, format="json")
            assert response.status_code < 500, f"{op.method.upper()} {url} -> {response.status_code}"
            for marker in markers:
                assert marker not in body_of(response), f"{op.method.upper()} {url} shows B's {marker!r} to A"
            if model is not None:
                allowed = (404,) if op.method == "get" else (403, 404, 405)
                assert response.status_code in allowed, f"{op.method.upper()} {url} -> {response.status_code}"
    assert_unchanged(objects, before)
