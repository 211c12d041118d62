"""The generic views and the view_of decorator (portal.generic), on the ground's own model.

The views below are declared here, on a URLconf of this module that also holds the site's
(so the login page and the templates' links resolve): a create and an edit of an organisation
through a "service" that refuses with a ValidationError, a list, and decorated function views.
"""
import pytest
from django import forms
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.http import HttpResponse
from django.urls import include, path, reverse

from portal.generic import (
    FORBIDDEN,
    POST,
    ObjectDetailView,
    ObjectEditView,
    ObjectListView,
    ViewDeclaration,
    declaration_of,
    view_of,
)
from portal.models import Organisation
from tests.urlsweep import Route


class OrganisationNameForm(forms.Form):
    code = forms.CharField()
    name = forms.CharField()


def refusing_service(*, code, name):
    """Stands for a service: refuses a name on the field, an unknown field and a plain refusal."""
    if name == "taken":
        raise ValidationError({"name": ["That name is taken."]})
    if name == "elsewhere":
        raise ValidationError({"provider_code": ["Not a provider."]})
    if name == "plain":
        raise ValidationError("Refused outright.")
    return Organisation(code=code, name=name)


class OrganisationEdit(ObjectEditView):
    model = Organisation
    form_class = OrganisationNameForm
    template_name = "workshops/form.html"
    lookup = {"code": "code"}
    invalid_status = 400

    def save(self, form, organisation):
        return refusing_service(**form.cleaned_data)

    def success_url(self, result, organisation):
        return "/done/"


class OrganisationList(ObjectListView):
    model = Organisation
    capability = "portal.organisation.view"
    template_name = "portal/organisation_list.html"
    pagination = "keyset"
    context_object_name = "organisations"


class OrganisationDetail(ObjectDetailView):
    model = Organisation
    capability = "portal.organisation.view"
    template_name = "portal/organisation_list.html"
    lookup = {"code": "code"}
    context_object_name = "organisation"

    def extra_context(self, organisation):
        return {"organisations": [organisation]}


@view_of(Organisation, "portal.organisation.change", methods=POST)
def rename(request, code):
    return HttpResponse(f"renamed {code}")


@view_of(Organisation, "portal.organisation.view_list")
def directory(request):
    return HttpResponse("directory")


@view_of(None, "portal.organisation.view_list", refused=FORBIDDEN)
def directory_export(request, fmt):
    return HttpResponse(fmt)


def _token_user(request):
    from portal.models import User

    return User.objects.filter(username=request.GET.get("as", "")).first()


@view_of(Organisation, "portal.dashboard.view", authenticate=_token_user)
def feed(request):
    return HttpResponse(request.user.username)


@view_of(Organisation, "portal.organisation.frobnicate")
def misspelt(request):
    return HttpResponse("never")


urlpatterns = [
    path("t/organisations/new/", OrganisationEdit.as_view(capability="portal.organisation.add"), name="t_create"),
    path("t/organisations/<str:code>/edit/", OrganisationEdit.as_view(capability="portal.organisation.change"),
         name="t_edit"),
    path("t/organisations/", OrganisationList.as_view(), name="t_list"),
    path("t/organisations/<str:code>/", OrganisationDetail.as_view(), name="t_detail"),
    path("t/organisations/<str:code>/rename/", rename, name="t_rename"),
    path("t/directory/", directory, name="t_directory"),
    path("t/directory.<str:fmt>", directory_export, name="t_directory_export"),
    path("t/feed/", feed, name="t_feed"),
    path("t/misspelt/", misspelt, name="t_misspelt"),
    path("", include("config.urls")),
]

pytestmark = [pytest.mark.urls(__name__), pytest.mark.django_db]


def _form_errors(response):
    return response.context["form"].errors


# --- ObjectEditView ---------------------------------------------------------------------------

def test_create_shows_the_services_refusal_on_the_field(orgs, dcc_admin, client_for):
    client = client_for(dcc_admin)
    assert client.get(reverse("t_create")).status_code == 200
    response = client.post(reverse("t_create"), {"code": "NEW", "name": "taken"})
    assert response.status_code == 400
    assert _form_errors(response) == {"name": ["That name is taken."]}
    assert "That name is taken." in response.content.decode()
    # a field the form does not have: above the form, named
    response = client.post(reverse("t_create"), {"code": "NEW", "name": "elsewhere"})
    assert response.context["form"].non_field_errors() == ["provider code: Not a provider."]
    # a refusal that names no field: above the form as it is
    response = client.post(reverse("t_create"), {"code": "NEW", "name": "plain"})
    assert response.context["form"].non_field_errors() == ["Refused outright."]
    # the form's own validation still comes first, with the same status
    response = client.post(reverse("t_create"), {"code": "NEW"})
    assert response.status_code == 400 and "name" in _form_errors(response)
    saved = client.post(reverse("t_create"), {"code": "NEW", "name": "Fine"})
    assert saved.status_code == 302 and saved["Location"] == "/done/"
    assert [str(m) for m in saved.wsgi_request._messages] == ["Saved Fine."]


def test_edit_shows_the_services_refusal_on_the_field(orgs, dcc_admin, client_for):
    client = client_for(dcc_admin)
    url = reverse("t_edit", args=["SUPA"])
    page = client.get(url)
    assert page.status_code == 200 and page.context["object"] == orgs["SUPA"]
    response = client.post(url, {"code": "SUPA", "name": "taken"})
    assert response.status_code == 400 and _form_errors(response) == {"name": ["That name is taken."]}
    assert client.post(url, {"code": "SUPA", "name": "Fine"}).status_code == 302


def test_create_refused_is_403(orgs, dcc_operator, supplier_a, sdag_member, client_for):
    # organisations are the directory: only DCC administrators add them
    for person in (dcc_operator, supplier_a, sdag_member):
        client = client_for(person)
        assert client.get(reverse("t_create")).status_code == 403
        assert client.post(reverse("t_create"), {"code": "NEW", "name": "Fine"}).status_code == 403


def test_edit_of_an_object_one_may_not_change_is_404(orgs, dcc_operator, supplier_a, client_for):
    url = reverse("t_edit", args=["SUPA"])
    for person in (dcc_operator, supplier_a):  # supplier A may see its own organisation, not change it
        assert client_for(person).get(url).status_code == 404
        assert client_for(person).post(url, {"code": "SUPA", "name": "Fine"}).status_code == 404
    assert client_for(supplier_a).get(reverse("t_edit", args=["NOPE"])).status_code == 404


def test_edit_pages_need_a_login_and_refuse_other_methods(orgs, dcc_admin, client, client_for):
    response = client.get(reverse("t_create"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert client_for(dcc_admin).put(reverse("t_create")).status_code == 405


# --- ObjectListView and ObjectDetailView --------------------------------------------------------

def test_list_is_scoped_and_keyset_paged(orgs, dcc_operator, supplier_a, client_for):
    first = client_for(dcc_operator).get(reverse("t_list"), {"size": 3})
    rows = first.context["organisations"]
    assert [o.pk for o in rows] == sorted((o.pk for o in orgs.values()), reverse=True)[:3]
    assert first.context["next_url"] == f"?size=3&before={rows[-1].pk}"
    seen = [o.pk for o in rows]
    url = reverse("t_list") + first.context["next_url"]
    while url:
        page = client_for(dcc_operator).get(url)
        seen += [o.pk for o in page.context["organisations"]]
        url = reverse("t_list") + page.context["next_url"] if page.context["next_url"] else ""
    assert sorted(seen) == sorted(o.pk for o in orgs.values())
    mine = client_for(supplier_a).get(reverse("t_list"))
    assert list(mine.context["organisations"]) == [orgs["SUPA"]] and mine.context["next_url"] == ""


def test_detail_is_404_for_another_organisations_object(orgs, supplier_a, client_for):
    client = client_for(supplier_a)
    assert client.get(reverse("t_detail", args=["SUPA"])).context["organisation"] == orgs["SUPA"]
    assert client.get(reverse("t_detail", args=["SUPB"])).status_code == 404


# --- view_of ----------------------------------------------------------------------------------

def test_view_of_records_the_declaration_the_sweep_reads():
    assert declaration_of(rename) == ViewDeclaration(Organisation, "portal.organisation.change")
    assert declaration_of(directory_export) == ViewDeclaration(None, "portal.organisation.view_list")
    create = OrganisationEdit.as_view(capability="portal.organisation.add")
    assert declaration_of(create) == ViewDeclaration(Organisation, "portal.organisation.add")
    route = Route("t_rename", ["code"], rename, "t/organisations/<str:code>/rename/")
    assert (route.model, route.capability) == (Organisation, "portal.organisation.change")
    assert declaration_of(lambda request: None) is None


def test_view_of_checks_login_method_and_capability(orgs, dcc_admin, dcc_operator, supplier_a, client, client_for):
    url = reverse("t_rename", args=["SUPA"])
    anonymous = client.post(url)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith(reverse("login"))
    assert client_for(dcc_admin).get(url).status_code == 405
    assert client_for(dcc_admin).post(url).content == b"renamed SUPA"
    # refused on a route that names an object: 404, as for an object one may not see
    assert client_for(dcc_operator).post(url).status_code == 404
    assert client_for(supplier_a).post(url).status_code == 404
    # refused on a route that names none: 403
    assert client_for(dcc_operator).get(reverse("t_directory")).status_code == 200
    assert client_for(supplier_a).get(reverse("t_directory")).status_code == 403
    # refused=FORBIDDEN: 403 although the URL has a parameter (a format, not an object)
    assert client_for(supplier_a).get(reverse("t_directory_export", args=["csv"])).status_code == 403
    assert client_for(dcc_operator).get(reverse("t_directory_export", args=["csv"])).content == b"csv"


def test_view_of_with_its_own_authentication(orgs, supplier_a, client):
    assert client.get(reverse("t_feed"), {"as": "alice"}).content == b"alice"
    refused = client.get(reverse("t_feed"))
    assert refused.status_code == 302 and refused["Location"].startswith(reverse("login"))


def test_a_misspelt_capability_fails_loudly(orgs, dcc_admin, client_for):
    with pytest.raises(ImproperlyConfigured):
        client_for(dcc_admin).get(reverse("t_misspelt"))


# --- the shared pieces under them ---------------------------------------------------------------

def test_keyset_page_reads_instances_and_named_rows(orgs):
    from portal.pagination import keyset_page

    ids = sorted((o.pk for o in orgs.values()), reverse=True)
    rows, after = keyset_page(Organisation.objects.all(), size=5)
    assert [o.pk for o in rows] == ids[:5] and after == ids[4]
    named, named_after = keyset_page(Organisation.objects.values_list("id", "code", named=True), before=str(after))
    assert [r.id for r in named] == ids[5:] and named_after is None
    # a key that is not a number starts from the beginning instead of failing
    assert keyset_page(Organisation.objects.all(), before="x", size=50)[0][0].pk == ids[0]


def test_one_mapping_of_a_validation_error_for_forms_and_the_api():
    from django.core.exceptions import NON_FIELD_ERRORS

    from portal.api import exception_handler
    from portal.errors import error_text, messages_by_field

    named = ValidationError({"name": ["Too long."], NON_FIELD_ERRORS: ["Clashes."]})
    assert messages_by_field(named) == {"name": ["Too long."], NON_FIELD_ERRORS: ["Clashes."]}
    assert messages_by_field(ValidationError("No.")) == {NON_FIELD_ERRORS: ["No."]}
    assert messages_by_field(ValidationError("No."), unnamed="detail") == {"detail": ["No."]}
    assert error_text(named) == "Too long.; Clashes."
    response = exception_handler(ValidationError({"name": ["Too long."]}), {})
    assert (response.status_code, response.data["errors"]) == (400, {"name": ["Too long."]})
    assert response.data["name"] == ["Too long."]  # the top-level copy kept for a deprecation period
    unnamed = exception_handler(ValidationError("No."), {}).data
    assert (unnamed["status"], unnamed["detail"], unnamed["errors"]) == (400, "No.", {})
