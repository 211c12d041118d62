"""The ground of every register list (portal.lists): sort whitelist, page sizes, remembered
columns (per person, never another's), counts (exact, or the planner's estimate), the bulk
selection's bounds and the filter form made readable."""
import django_filters
import django_tables2 as tables
import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.http import Http404, QueryDict

from portal.lists import services
from portal.lists.models import ListPreference
from portal.lists.tables import (
    BULK_LIMIT,
    EXACT_UP_TO,
    Count,
    Table,
    bulk_ids,
    chosen_columns,
    chosen_sort,
    humanise_filter_form,
    page_size,
    result_count,
    selected,
)
from portal.models import Organisation


class OrganisationTable(Table):
    name = "tests.organisations"
    code = tables.Column()
    name_ = tables.Column(accessor="name", verbose_name="Name")
    kind = tables.Column()
    default_columns = ("code", "name_")
    fixed = ("code",)
    sorts = {"code": "code", "name_": "name"}  # noqa: RUF012
    default_sort = "code"


def test_only_declared_sorts_are_taken():
    assert chosen_sort("-name_", OrganisationTable) == ("name_", True)
    assert chosen_sort("name_", OrganisationTable) == ("name_", False)
    # a column without a declared sort, a field name, an injection: the default
    for hostile in ("kind", "password", "-id", "name); DROP TABLE x;--", "", None, "--code"):
        assert chosen_sort(hostile, OrganisationTable) == ("code", False)


def test_page_sizes_are_bounded():
    assert page_size("100", 50) == 100
    for hostile in ("0", "-5", "100000", "abc", "", None, "25.5", "1e9", "250 "):
        assert page_size(hostile, 50) in (50, 250)
    assert page_size("1e9", 50) == 50 and page_size("100000", 50) == 50 and page_size("-5", 50) == 50


def test_columns_are_remembered_per_person_and_isolated(supplier_a, supplier_b):
    assert chosen_columns(supplier_a, OrganisationTable) == ["code", "name_"]  # the defaults
    services.list_columns_set(user=supplier_a, table="tests.organisations", columns=["kind", "bogus"])
    # the fixed column stays; an unknown one is dropped; the table's own order
    assert chosen_columns(supplier_a, OrganisationTable) == ["code", "kind"]
    assert chosen_columns(supplier_b, OrganisationTable) == ["code", "name_"]
    services.list_columns_set(user=supplier_b, table="tests.organisations", columns=["name_"])
    assert chosen_columns(supplier_a, OrganisationTable) == ["code", "kind"]
    assert ListPreference.objects.count() == 2
    services.list_columns_set(user=supplier_a, table="tests.organisations", columns=[], reset=True)
    assert chosen_columns(supplier_a, OrganisationTable) == ["code", "name_"]
    with pytest.raises(ValidationError):
        services.list_columns_set(user=supplier_a, table="no.such.table", columns=["code"])
    with pytest.raises(ValidationError):
        services.list_columns_set(user=supplier_a, table="tests.organisations", columns=["bogus"])


def test_the_column_chooser_page(client_for, supplier_a):
    client = client_for(supplier_a)
    response = client.post("/lists/columns/", {"table": "tests.organisations", "columns": ["kind"],
                                               "next": "/inventory/devices/?status=commissioned"})
    assert response.status_code == 302 and response["Location"] == "/inventory/devices/?status=commissioned"
    assert chosen_columns(supplier_a, OrganisationTable) == ["code", "kind"]
    # another host as next: home, not there
    response = client.post("/lists/columns/", {"table": "tests.organisations", "columns": ["kind"],
                                               "next": "https://evil.example/"})
    assert response["Location"] == "/"
    assert client.get("/lists/columns/").status_code == 405


def test_exact_counts(orgs):
    queryset = Organisation.objects.all()
    assert result_count(queryset, estimate=False) == Count(len(orgs))
    assert result_count(queryset, estimate=True) == Count(len(orgs))  # small: exact even when estimating
    assert str(Count(1234)) == "1,234" and str(Count(1234, estimated=True)) == "about 1,234"


@pytest.mark.django_db
def test_a_large_count_is_estimated_on_postgresql_and_exact_on_sqlite(orgs):
    from inventory.models import Device
    from tests.inventory.factories import eui

    Device.objects.bulk_create([Device(device_id=eui(), device_type="ESME", supplier=orgs["SUPA"], region="north",
                                       status="pending") for _ in range(EXACT_UP_TO + 50)])
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE inventory_device")
    count = result_count(Device.objects.all(), estimate=True)
    if connection.vendor == "postgresql":
        assert count.estimated and count.value > EXACT_UP_TO
        assert abs(count.value - (EXACT_UP_TO + 50)) < 200
    else:
        assert count == Count(EXACT_UP_TO + 50)


def test_bulk_ids_are_bounded():
    assert bulk_ids(QueryDict("pk=3&pk=1&pk=3")) == [1, 3]
    for hostile in ("", "pk=", "pk=-1", "pk=1%3B", "pk=abc", "pk=1.5", "pk=" + "9" * 40):
        with pytest.raises(ValidationError):
            bulk_ids(QueryDict(hostile))
    with pytest.raises(ValidationError, match="At most"):
        bulk_ids(QueryDict("&".join(f"pk={i}" for i in range(BULK_LIMIT + 1))))


def test_a_selection_outside_scope_is_404(orgs, supplier_a):
    own = Organisation.objects.get(code="SUPA")
    other = Organisation.objects.get(code="SUPB")
    with pytest.raises(Http404):
        selected(supplier_a, Organisation.objects.all(), [own.pk, other.pk], action="view")
    with pytest.raises(Http404):
        selected(supplier_a, Organisation.objects.all(), [own.pk, 10**9], action="view")
    assert list(selected(supplier_a, Organisation.objects.all(), [own.pk], action="view")) == [own]


class _Filters(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=[("a", "A")])
    organisation = django_filters.ModelChoiceFilter(queryset=Organisation.objects.all())
    created_after = django_filters.DateFilter(field_name="created", lookup_expr="gte")

    class Meta:
        model = Organisation
        fields = ["kind", "organisation"]


def test_filter_form_for_people(db):
    form = humanise_filter_form(_Filters(QueryDict("")).form)
    assert list(form.fields["kind"].choices)[0] == ("", "Any")
    assert form.fields["organisation"].empty_label == "Any"
    assert form.fields["created_after"].widget.input_type == "date"
    assert "---------" not in form.as_p()
