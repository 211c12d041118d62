"""Growing lists are paged by cursor: a walk sees every row once while rows are inserted."""
import pytest

from portal.notifications.models import Notification
from portal.pagination import MAX_PAGE_SIZE

pytestmark = pytest.mark.django_db


def _add(user, n, start):
    return [Notification.objects.create(user=user, event="request.failed", summary=f"n{start + i}").pk
            for i in range(n)]


def test_cursor_walk_sees_every_row_once_while_rows_are_inserted(supplier_a, api_for):
    api = api_for(supplier_a)
    before = set(_add(supplier_a, 23, 0))
    seen: list[int] = []
    url = "/api/notifications/?page_size=5"
    inserted: set[int] = set()
    pages = 0
    while url:
        body = api.get(url).json()
        assert "count" not in body  # no COUNT(*) for a growing list
        seen += [row["id"] for row in body["results"]]
        url = body["next"]
        pages += 1
        # Rows arriving between pages (newest first: they sort before the cursor) neither repeat nor hide a row.
        inserted |= set(_add(supplier_a, 3, 100 * pages))
        assert pages < 20
    assert len(seen) == len(set(seen))
    assert set(seen) == before
    assert not inserted & set(seen)
    # The new rows are on the first page of a fresh walk.
    first = api.get("/api/notifications/?page_size=500").json()["results"]
    assert {row["id"] for row in first} == before | inserted


def test_page_size_above_the_max_is_capped(supplier_a, api_for):
    _add(supplier_a, MAX_PAGE_SIZE + 7, 0)
    body = api_for(supplier_a).get(f"/api/notifications/?page_size={MAX_PAGE_SIZE * 10}").json()
    assert len(body["results"]) == MAX_PAGE_SIZE and body["next"]


@pytest.mark.parametrize("path", ["/api/audit/", "/api/webhook-deliveries/", "/api/notifications/",
                                  "/api/servicedesk/incidents/"])
def test_growing_lists_are_cursor_paged_and_document_the_bound(path):
    from drf_spectacular.generators import SchemaGenerator
    schema = SchemaGenerator(api_version="v1").get_schema(request=None, public=True)
    parameters = {p["name"]: p for p in schema["paths"][path.replace("/api/", "/api/v1/", 1)]["get"]["parameters"]}
    assert "cursor" in parameters and "page" not in parameters
    assert "at most 500" in parameters["page_size"]["description"]


def test_batch_rows_are_cursor_paged():
    from drf_spectacular.generators import SchemaGenerator
    schema = SchemaGenerator(api_version="v1").get_schema(request=None, public=True)
    path = next(p for p in schema["paths"] if p.endswith("/rows/"))
    assert "cursor" in {p["name"] for p in schema["paths"][path]["get"]["parameters"]}
