"""Saved filters: per person, per list page, saved and deleted from the include any list page uses."""
import pytest
from django.template import Context, Template
from django.urls import resolve

from portal.savedfilters.models import SavedFilter

pytestmark = pytest.mark.django_db


def render_box(rf, user, url):
    request = rf.get(url)
    request.user = user
    request.resolver_match = resolve(url.split("?")[0])
    return Template('{% include "partials/saved_filters.html" %}').render(Context({"request": request}))


def test_save_use_and_delete_a_filter(dcc_operator, supplier_a, client_for, rf):
    client = client_for(dcc_operator)
    html = render_box(rf, dcc_operator, "/organisations/?kind=service_user&page=3")
    # The box offers to save the current filters (without the page number) for this page.
    assert 'name="page" value="organisation_list"' in html
    assert 'name="querystring" value="kind=service_user"' in html
    response = client.post("/filters/save/", {"page": "organisation_list", "name": "Service users",
                                              "querystring": "kind=service_user&page=3"})
    assert response.status_code == 302 and response["Location"] == "/organisations/?kind=service_user"
    saved = SavedFilter.objects.get(user=dcc_operator)
    assert (saved.page, saved.name, saved.querystring) == ("organisation_list", "Service users", "kind=service_user")
    # Saving again under the same name replaces it.
    client.post("/filters/save/", {"page": "organisation_list", "name": "Service users",
                                   "querystring": "kind=provider"})
    assert list(SavedFilter.objects.values_list("querystring", flat=True)) == ["kind=provider"]
    html = render_box(rf, dcc_operator, "/organisations/")
    assert 'href="/organisations/?kind=provider">Service users</a>' in html
    # It is the operator's own: nobody else sees it or can delete it.
    assert "Service users" not in render_box(rf, supplier_a, "/organisations/")
    assert client_for(supplier_a).post(f"/filters/{saved.pk}/delete/").status_code == 404
    response = client.post(f"/filters/{saved.pk}/delete/", {"next": "/organisations/?kind=provider"})
    assert response.status_code == 302 and response["Location"] == "/organisations/?kind=provider"
    assert not SavedFilter.objects.exists()


def test_a_filter_for_an_unknown_page_or_without_a_name_is_refused(dcc_operator, client_for):
    client = client_for(dcc_operator)
    response = client.post("/filters/save/", {"page": "no_such:page", "name": "x", "querystring": "a=1"},
                           follow=True)
    assert "No list page is called" in response.content.decode()
    client.post("/filters/save/", {"page": "organisation_list", "name": "", "querystring": "a=1"})
    assert not SavedFilter.objects.exists()
    # An outside address in "next" is never followed.
    response = client.post("/filters/save/", {"page": "organisation_list", "name": "", "next": "https://evil.example/"})
    assert response["Location"] == "/"
