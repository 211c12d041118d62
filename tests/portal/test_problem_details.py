"""Every error under /api/ is one shape: an RFC 9457 problem (application/problem+json) with type, title,
status, detail and instance, plus ``errors`` by field for a 400; pages elsewhere keep their HTML errors.
The views that raise what no real endpoint raises on demand (a service's ValidationError, a batch's row
error, a throttle, a crash) are in this module's test-only URLconf, which includes the real one."""
import pytest
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, OperationalError
from django.http import HttpResponse
from django.test import Client
from django.urls import include, path
from rest_framework.exceptions import PermissionDenied, Throttled
from rest_framework.exceptions import ValidationError as ApiValidationError
from rest_framework.permissions import AllowAny
from rest_framework.test import APIClient
from rest_framework.views import APIView

from portal.api import PROBLEM_BASE

pytestmark = pytest.mark.django_db


class _Raises(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []
    error: Exception = RuntimeError("unset")

    def get(self, request):
        raise self.error


class _Crashes(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []

    def get(self, request):
        raise RuntimeError("boom")


def _page_crashes(request):
    raise RuntimeError("boom")


def _raising(error):
    return _Raises.as_view(error=error)


urlpatterns = [
    path("api/test/service/", _raising(DjangoValidationError({"hub": ["This hub is not yours."]}))),
    path("api/test/refused/", _raising(DjangoValidationError("The incident is already closed."))),
    path("api/test/rows/", _raising(ApiValidationError({
        "detail": "nothing was written: row 3: category: unknown", "committed": False,
        "rows": [{"row": 2, "error": ""}, {"row": 3, "error": "category: unknown"}]}))),
    path("api/test/forbidden/", _raising(PermissionDenied("Only DCC may do this."))),
    path("api/test/throttled/", _raising(Throttled(wait=30))),
    path("api/test/crash/", _Crashes.as_view()),
    path("api/test/bad-data/", _raising(DataError("text fields cannot contain NUL (0x00) bytes"))),
    path("api/test/db-down/", _raising(OperationalError("connection refused"))),
    path("test/crash/", _page_crashes),
    path("", include("config.urls")),
]
handler400 = "portal.views.bad_request"
handler403 = "portal.views.permission_denied"
handler404 = "portal.views.page_not_found"
handler500 = "portal.views.server_error"


@pytest.fixture
def test_urls(settings):
    settings.ROOT_URLCONF = __name__
    HttpResponse  # noqa: B018 (the module is a URLconf)


def assert_problem(response, status, slug, instance):
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert body["type"] == PROBLEM_BASE + slug
    assert body["status"] == status and body["instance"] == instance
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    return body


def test_a_bad_body_is_a_validation_problem_naming_each_field_kept_at_the_top_level_too():
    response = APIClient().post("/api/auth/token/", {}, format="json")
    body = assert_problem(response, 400, "validation", "/api/auth/token/")
    assert set(body["errors"]) == {"username", "password"}
    assert body["errors"]["username"] == ["This field is required."]
    assert body["username"] == ["This field is required."]  # the deprecated top-level copy
    assert "username" in body["detail"]


def test_malformed_json_is_a_400_problem_naming_the_body():
    response = APIClient().post("/api/auth/token/", "{not json", content_type="application/json")
    body = assert_problem(response, 400, "parse-error", "/api/auth/token/")
    assert body["errors"]["body"]


def test_a_services_validation_error_is_a_400_problem_by_field(test_urls):
    body = assert_problem(APIClient().get("/api/test/service/"), 400, "validation", "/api/test/service/")
    assert body["errors"] == {"hub": ["This hub is not yours."]} and body["hub"] == ["This hub is not yours."]


def test_a_services_unnamed_validation_error_is_the_detail(test_urls):
    body = assert_problem(APIClient().get("/api/test/refused/"), 400, "validation", "/api/test/refused/")
    assert body["detail"] == "The incident is already closed."


def test_a_batch_row_error_keeps_naming_its_row(test_urls):
    body = assert_problem(APIClient().get("/api/test/rows/"), 400, "validation", "/api/test/rows/")
    assert body["errors"] == {"row 3": ["category: unknown"]}  # rows without an error, and context, are not errors
    assert body["committed"] == "False"  # the context stays at the top level, as before
    assert "row 3" in body["detail"]


def test_no_token_is_401_with_www_authenticate():
    response = APIClient().get("/api/organisations/")
    assert_problem(response, 401, "not-authenticated", "/api/organisations/")
    assert response["WWW-Authenticate"].startswith("Token")


def test_a_bad_token_is_401_with_www_authenticate():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token nonsense")
    response = client.get("/api/organisations/")
    assert_problem(response, 401, "not-authenticated", "/api/organisations/")
    assert "WWW-Authenticate" in response


def test_forbidden_is_403(test_urls):
    body = assert_problem(APIClient().get("/api/test/forbidden/"), 403, "permission-denied", "/api/test/forbidden/")
    assert body["detail"] == "Only DCC may do this."


def test_an_object_that_is_not_there_is_404(api_for, dcc_operator):
    response = api_for(dcc_operator).get("/api/organisations/999999/")
    assert_problem(response, 404, "not-found", "/api/organisations/999999/")


def test_a_method_not_allowed_is_405_with_allow(api_for, dcc_operator):
    response = api_for(dcc_operator).delete("/api/auth/token/")
    assert_problem(response, 405, "method-not-allowed", "/api/auth/token/")
    assert "POST" in response["Allow"]


def test_an_unacceptable_accept_is_406(api_for, dcc_operator):
    response = api_for(dcc_operator).get("/api/organisations/", HTTP_ACCEPT="application/xml")
    assert_problem(response, 406, "not-acceptable", "/api/organisations/")


def test_a_form_body_is_415():
    response = APIClient().post("/api/auth/token/", {"username": "x", "password": "y"}, format="multipart")
    assert_problem(response, 415, "unsupported-media-type", "/api/auth/token/")


def test_throttled_is_429_with_retry_after(test_urls):
    response = APIClient().get("/api/test/throttled/")
    assert_problem(response, 429, "throttled", "/api/test/throttled/")
    assert response["Retry-After"] == "30"


def test_errors_are_json_even_for_a_browser(api_for, dcc_operator):
    response = api_for(dcc_operator).get("/api/organisations/999999/", HTTP_ACCEPT="text/html")
    assert_problem(response, 404, "not-found", "/api/organisations/999999/")


def test_an_unknown_api_url_is_a_404_problem(api_for, dcc_operator):
    response = api_for(dcc_operator).get("/api/no-such-thing/")
    assert_problem(response, 404, "not-found", "/api/no-such-thing/")


def test_an_unknown_page_is_still_html(client_for, dcc_operator):
    response = client_for(dcc_operator).get("/no-such-page/")
    assert response.status_code == 404 and response["Content-Type"].startswith("text/html")


def test_a_server_error_under_api_is_a_500_problem_without_a_trace(test_urls):
    response = Client(raise_request_exception=False).get("/api/test/crash/")
    body = assert_problem(response, 500, "server-error", "/api/test/crash/")
    assert "boom" not in response.content.decode() and "Traceback" not in body["detail"]


def test_a_server_error_on_a_page_is_still_html(test_urls):
    response = Client(raise_request_exception=False).get("/test/crash/")
    assert response.status_code == 500 and response["Content-Type"].startswith("text/html")


def test_the_schema_declares_problem_json_for_each_error_status(api_for, dcc_operator):
    schema = api_for(dcc_operator).get("/api/schema/?format=json").json()
    components = schema["components"]["schemas"]
    assert {"type", "title", "status", "detail", "instance"} <= set(components["ProblemDetails"]["required"])
    assert "errors" in components["ValidationProblem"]["allOf"][1]["properties"]
    assert "Error" not in components

    def content(path, method, status):
        return schema["paths"][path][method]["responses"][status]["content"]

    for status in ("400", "401", "403", "406", "415", "429"):
        assert "application/problem+json" in content("/api/v1/auth/token/", "post", status)
        assert "application/json" not in content("/api/v1/auth/token/", "post", status)
    ref = content("/api/v1/auth/token/", "post", "400")["application/problem+json"]["schema"]["$ref"]
    assert ref.endswith("/ValidationProblem")
    detail = schema["paths"]["/api/v1/organisations/{code}/"]["get"]["responses"]
    assert "application/problem+json" in detail["404"]["content"]
    assert detail["429"]["headers"]["Retry-After"]
    assert "400" not in detail and "415" not in detail  # no body, no query parameters
    for path_item in schema["paths"].values():
        for operation in path_item.values():
            for status, response in operation.get("responses", {}).items():
                if status.startswith("4"):
                    media = set(response["content"])
                    # A DUIS check that fails answers 422 with the stored request (JSON), beside the problem.
                    allowed = {"application/problem+json"} | ({"application/json"} if status == "422" else set())
                    assert "application/problem+json" in media and media <= allowed, (status, operation)


def test_only_a_lost_database_is_a_503_a_bad_value_is_a_500(test_urls):
    """A DataError is our bug (a value the database refused): 500, logged, so the fuzz gate counts it;
    a lost connection is an outage: 503 with Retry-After."""
    client = Client(raise_request_exception=False)
    bad = assert_problem(client.get("/api/test/bad-data/"), 500, "server-error", "/api/test/bad-data/")
    assert "NUL" not in bad["detail"]
    down = client.get("/api/test/db-down/")
    body = assert_problem(down, 503, "service-unavailable", "/api/test/db-down/")
    assert down["Retry-After"] == "30" and "temporarily unavailable" in body["detail"]


@pytest.mark.parametrize("body, field", [
    ({"name": "Albion\u0000ops", "url": "https://hooks.example/x"}, "name"),
    ({"name": "ok", "events": ["request.failed", "x\u0000"]}, "events[1]"),
    ({"a\u0000b": 1}, "a\\u0000b"),
    ({"rows": [{"params": {"tariff": "\u0000"}}]}, "rows[0].params.tariff"),
])
def test_a_nul_character_anywhere_in_a_json_body_is_a_400_naming_where(supplier_a, api_for, body, field):
    import json

    from portal.webhooks.models import WebhookEndpoint

    raw = json.dumps(body)  # JSON escapes the NUL as \\u0000, as a client would send it
    response = api_for(supplier_a).generic("POST", "/api/v1/webhook-endpoints/", raw,
                                          content_type="application/json")
    problem = assert_problem(response, 400, "validation", "/api/v1/webhook-endpoints/")
    assert list(problem["errors"]) == [field] and "NUL" in problem["errors"][field][0]
    assert not WebhookEndpoint.objects.exists()


def test_the_duis_422_of_a_service_request_is_documented_beside_the_problem(api_for, dcc_operator):
    schema = api_for(dcc_operator).get("/api/schema/?format=json").json()
    content = schema["paths"]["/api/v1/adapter/requests/"]["post"]["responses"]["422"]["content"]
    assert content["application/json"]["schema"]["$ref"].endswith("/Request")
    assert content["application/problem+json"]["schema"]["$ref"].endswith("/ProblemDetails")
    assert "Error" not in schema["components"]["schemas"]
