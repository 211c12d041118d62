"""The scoping table of portal.scoping, role by role."""
import pytest

from portal.models import Organisation, User
from portal.scoping import can, can_create, get_scoped_or_404, scope


@pytest.mark.django_db
def test_directory_scope(orgs, dcc_operator, dcc_admin, supplier_a, sdag_member):
    assert scope(dcc_operator, Organisation).count() == len(orgs)
    assert list(scope(supplier_a, Organisation)) == [orgs["SUPA"]]
    assert list(scope(sdag_member, Organisation)) == [orgs["DECC"]]
    assert not scope(dcc_operator, Organisation, "change").exists()
    assert scope(dcc_admin, Organisation, "change").count() == len(orgs)
    assert set(scope(supplier_a, User)) == {supplier_a}


@pytest.mark.django_db
def test_anonymous_and_inactive_users_see_nothing(orgs, supplier_a):
    from django.contrib.auth.models import AnonymousUser

    assert not scope(AnonymousUser(), Organisation).exists()
    supplier_a.is_active = False
    assert not scope(supplier_a, Organisation).exists()


@pytest.mark.django_db
def test_can_and_404(orgs, supplier_a):
    from django.http import Http404

    assert can(supplier_a, orgs["SUPA"]) and not can(supplier_a, orgs["SUPB"])
    with pytest.raises(Http404):
        get_scoped_or_404(supplier_a, Organisation.objects.all(), pk=orgs["SUPB"].pk)
    assert not can_create(supplier_a, Organisation)


def test_a_model_without_a_rule_is_refused():
    from django.contrib.auth.models import Group
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured, match="no scope_rule"):
        scope(None, Group)


@pytest.mark.django_db
def test_a_directory_model_without_an_owner_is_dccs_alone(orgs, dcc_operator, supplier_a, sdag_member):
    # A directory record with no path to an owner belongs to no organisation: outside DCC nobody
    # sees it (it used to fail with "keywords must be strings" building the owner filter).
    from portal.scoping import Domain, ScopeRule, allows

    class Unowned:
        scope_rule = ScopeRule(Domain.DIRECTORY)

    assert allows(dcc_operator, Unowned)
    assert not allows(supplier_a, Unowned)
    assert not allows(sdag_member, Unowned)
