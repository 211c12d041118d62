"""The versioned API (portal.versioning, config/urls.py): every operation under /api/v1/, the old unversioned
paths as deprecated aliases that answer the same with Deprecation, Sunset and Link headers, one schema that
documents only v1 with the operation ids clients were generated with, and links that keep the version."""
import datetime as dt
import json
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest
from django.urls import resolve, reverse

from portal import versioning
from tests.gates.schema_routes import PARAM, operations
from tests.mfa import one_code

BEFORE_V1 = Path(__file__).resolve().parents[1] / "fixtures" / "api_operations_unversioned.json"
pytestmark = pytest.mark.django_db


def test_every_unversioned_list_answers_the_same_as_v1(orgs, dcc_operator, supplier_a, api_for):
    """Each GET operation without a path parameter, as two roles: same status, same body (links aside,
    which name the version called), and only the alias carries the deprecation headers."""
    compared = 0
    for user in (dcc_operator, supplier_a):
        api = api_for(user)
        for op in operations(api):
            if op.method != "get" or op.params:
                continue
            current = api.get(op.path)
            alias = api.get(op.path.replace(versioning.CURRENT_PREFIX, versioning.PREFIX, 1))
            assert alias.status_code == current.status_code, op.path
            assert alias["Content-Type"] == current["Content-Type"], op.path
            if not current.streaming:
                body = current.content.decode("utf-8", "replace").replace(versioning.CURRENT_PREFIX,
                                                                         versioning.PREFIX)
                assert alias.content.decode("utf-8", "replace") == body, op.path
            assert "Deprecation" not in current and "Sunset" not in current, op.path
            assert alias["Deprecation"] == versioning.DEPRECATION, op.path
            compared += 1
    assert compared > 60


def test_an_alias_announces_its_deprecation_sunset_and_successor(orgs, supplier_a, api_for):
    response = api_for(supplier_a).get("/api/organisations/", {"page_size": 2, "ordering": "code"})
    assert response.status_code == 200
    assert response["Deprecation"] == "@1796256000"  # RFC 9745: @<seconds>, 2026-12-03T00:00:00Z
    assert dt.datetime.fromtimestamp(int(response["Deprecation"][1:]), dt.UTC) == versioning.DEPRECATED_ON
    assert response["Sunset"] == "Fri, 31 Dec 2027 23:59:59 GMT"  # RFC 8594: an HTTP-date
    assert parsedate_to_datetime(response["Sunset"]).date() == dt.date(2027, 12, 31)
    assert response["Link"] == '</api/v1/organisations/?page_size=2&ordering=code>; rel="successor-version"'


def test_alias_errors_are_marked_too_and_current_paths_are_not(orgs, supplier_a, api_for, client):
    api = api_for(supplier_a)
    missing = api.get("/api/organisations/NOPE/")
    assert missing.status_code == 404 and missing["Sunset"] == versioning.SUNSET
    assert missing["Link"] == '</api/v1/organisations/NOPE/>; rel="successor-version"'
    anonymous = client.get("/api/devices/")
    assert anonymous.status_code == 401 and anonymous["Deprecation"] == versioning.DEPRECATION
    token = client.post("/api/auth/token/", {"username": "alice", "password": "test-password-123",
                                             "otp": one_code(supplier_a)}, content_type="application/json")
    assert token.status_code == 200 and token["Link"] == '</api/v1/auth/token/>; rel="successor-version"'
    # each call issues a new token (only its digest is kept): both work, on both paths
    second = client.post("/api/v1/auth/token/", {"username": "alice", "password": "test-password-123",
                                                  "otp": one_code(supplier_a)},
                         content_type="application/json").json()
    for key in (token.json()["token"], second["token"]):
        assert client.get("/api/v1/organisations/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 200
    for path in ("/api/v1/organisations/", "/api/v1/", "/api/schema/", "/api/v1/schema/"):
        response = api.get(path)
        assert response.status_code == 200, path
        assert "Deprecation" not in response and "Sunset" not in response and "Link" not in response, path
    assert "Deprecation" not in client.get("/api/nowhere/")  # a path of no route has no successor


def test_hostile_alias_paths_keep_the_link_one_valid_header(orgs, supplier_a, api_for):
    api = api_for(supplier_a)
    response = api.get("/api/items/a%0Ab%3E%3B%20rel%3Dx/", {"q": '<x>, "y"\r\nSet-Cookie: z'})
    assert response.status_code == 404
    link = response["Link"]
    assert "\n" not in link and "\r" not in link and link.count("<") == 1 and link.count(">") == 1
    assert link == ('</api/v1/items/a%0Ab%3E%3B%20rel%3Dx/?q=%3Cx%3E%2C+%22y%22%0D%0ASet-Cookie%3A+z>; '
                    'rel="successor-version"')


def test_the_schema_documents_only_v1_with_the_operation_ids_clients_have(orgs, dcc_operator, api_for):
    api = api_for(dcc_operator)
    schema = api.get("/api/schema/?format=json").json()
    paths = schema["paths"]
    assert paths and all(path.startswith("/api/v1/") for path in paths), [p for p in paths if "/v1/" not in p]
    documented = {(method.upper(), path): item[method]["operationId"]
                  for path, item in paths.items() for method in ("get", "post", "put", "patch", "delete")
                  if method in item}
    before = json.loads(BEFORE_V1.read_text())
    assert len(before) > 150
    for method, old_path, operation_id in before:  # every operation of the unversioned schema, as it was
        path = old_path.replace(versioning.PREFIX, versioning.CURRENT_PREFIX, 1)
        assert documented.get((method, path)) == operation_id, f"{method} {path}"
        # and its old path still reaches the same view
        alias, current = resolve(PARAM.sub("1", old_path)), resolve(PARAM.sub("1", path))
        assert alias.func.__name__ == current.func.__name__ and alias.url_name == current.url_name, old_path
        assert getattr(alias.func, "cls", None) is getattr(current.func, "cls", None), old_path
        assert current.namespace == versioning.CURRENT and alias.namespace == "", old_path
    pinned = api.get("/api/v1/schema/?format=json").json()
    assert pinned["paths"].keys() == paths.keys()


def test_the_schema_states_the_deprecation_of_the_aliases(dcc_operator, api_for):
    info = api_for(dcc_operator).get("/api/schema/?format=json").json()["info"]
    assert "deprecated aliases" in info["description"] and versioning.SUNSET in info["description"]
    assert info["x-deprecated-aliases"] == {
        "paths": "/api/* except /api/schema/", "successor": "/api/v1/", "deprecation": versioning.DEPRECATION,
        "deprecated_on": "2026-12-03T00:00:00+00:00", "sunset": "Fri, 31 Dec 2027 23:59:59 GMT"}
    assert info["version"].startswith("1.0.0")


def test_page_links_keep_the_version_called(orgs, dcc_operator, api_for):
    api = api_for(dcc_operator)
    for prefix in (versioning.CURRENT_PREFIX, versioning.PREFIX):
        first = api.get(f"{prefix}organisations/", {"page_size": 3, "ordering": "code"}).json()
        assert first["count"] == len(orgs) and first["next"].startswith(f"http://testserver{prefix}organisations/?")
        second = api.get(first["next"]).json()
        assert second["previous"].startswith(f"http://testserver{prefix}organisations/")
        assert [o["code"] for o in first["results"] + second["results"]] == sorted(orgs)[:6]
        if prefix == versioning.PREFIX:
            assert "/v1/" not in first["next"] + second["previous"]


def test_cursor_links_keep_the_version_called(orgs, dcc_operator, api_for):
    from tests.inventory.factories import device

    made = sorted(device(orgs["SUPA"]).device_id for _ in range(3))
    api = api_for(dcc_operator)
    for prefix in (versioning.CURRENT_PREFIX, versioning.PREFIX):
        first = api.get(f"{prefix}devices/", {"page_size": 2}).json()
        assert first["next"].startswith(f"http://testserver{prefix}devices/?cursor=")
        second = api.get(first["next"]).json()
        assert second["previous"].startswith(f"http://testserver{prefix}devices/?cursor=")
        assert sorted(d["device_id"] for d in first["results"] + second["results"]) == made


def test_reversing_names_gives_both_versions(orgs, dcc_operator, api_for):
    assert reverse("organisation-list") == "/api/organisations/"
    assert reverse("v1:organisation-list") == "/api/v1/organisations/"
    assert reverse("v1:organisation-detail", args=["SUPA"]) == "/api/v1/organisations/SUPA/"
    assert reverse("api_token") == "/api/auth/token/" and reverse("v1:api_token") == "/api/v1/auth/token/"
    assert reverse("api_schema") == "/api/schema/" and reverse("v1:api_schema") == "/api/v1/schema/"
    api = api_for(dcc_operator)
    for prefix in (versioning.CURRENT_PREFIX, versioning.PREFIX):
        root = api.get(prefix).json()
        assert root["organisations"] == f"http://testserver{prefix}organisations/", prefix


def test_pages_link_the_current_api_docs(orgs, supplier_a, client_for):
    client = client_for(supplier_a)
    assert 'href="/api/v1/docs/"' in client.get(reverse("account")).content.decode()
    docs = client.get("/api/v1/docs/")
    assert docs.status_code == 200 and "Deprecation" not in docs
    assert client.get("/api/docs/")["Link"] == '</api/v1/docs/>; rel="successor-version"'
