"""The audit log page: filters (person, object type, object, London days), pages of 50 newest
first, names instead of ids, creations as a list of values, the same scoping as before and
hostile filter values answered with a form error."""
import datetime as dt
import re

import pytest
import time_machine
from auditlog.context import set_actor
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from portal import services
from portal.choices import PortalRole

URL = reverse("audit_log")


def page_of(client, **params):
    response = client.get(URL, params)
    assert response.status_code == 200, response.content.decode()[:2000]
    return response


def person(username, organisation, role=PortalRole.DCC_OPERATIONS, actor=None):
    return services.person_upsert(username=username, first_name=username.title(), last_name="Auditor",
                                  organisation=organisation, role=role, actor=actor)


@pytest.mark.django_db
def test_filter_by_person(orgs, dcc_operator, dcc_admin, client_for):
    done_by_admin = person("made-by-admin", orgs["DCC"], actor=dcc_admin)
    done_by_operator = person("made-by-operator", orgs["DCC"], actor=dcc_operator)
    client = client_for(dcc_operator)
    shown = page_of(client, actor=dcc_admin.pk).context["entries"]
    assert shown and {e.actor_id for e in shown} == {dcc_admin.pk}
    assert str(done_by_admin.pk) in {e.object_pk for e in shown}
    assert str(done_by_operator.pk) not in {e.object_pk for e in shown if e.content_type.model == "user"}
    # the person is offered by name
    assert ">Administrator Tester</option>" in page_of(client).content.decode()


@pytest.mark.django_db
def test_filter_by_object_type_and_object(orgs, dcc_operator, client_for):
    person("someone", orgs["DCC"], actor=dcc_operator)
    client = client_for(dcc_operator)
    users = page_of(client, model="portal.user").context["entries"]
    assert users and {e.content_type.model for e in users} == {"user"}
    organisations = page_of(client, model="portal.organisation").context["entries"]
    assert organisations and {e.content_type.model for e in organisations} == {"organisation"}
    one = page_of(client, model="portal.organisation", object_pk=orgs["SUPA"].pk).context["entries"]
    assert {e.object_pk for e in one} == {str(orgs["SUPA"].pk)}
    # object types are offered as people name them
    html = page_of(client).content.decode()
    assert '<option value="inventory.device">Device</option>' in html
    assert '<option value="workshops.raiditem">RAID item</option>' in html


@pytest.mark.django_db
def test_filter_by_london_days(orgs, dcc_operator, client_for):
    # 23:30 UTC on 1 June is 00:30 on 2 June in London (BST): the entry belongs to 2 June.
    with time_machine.travel(dt.datetime(2026, 6, 1, 23, 30, tzinfo=dt.UTC), tick=False):
        late = person("late-in-utc", orgs["DCC"], actor=dcc_operator)
    with time_machine.travel(dt.datetime(2026, 6, 1, 22, 30, tzinfo=dt.UTC), tick=False):
        early = person("still-first-june", orgs["DCC"], actor=dcc_operator)
    client = client_for(dcc_operator)

    def pks(**days):
        return {e.object_pk for e in page_of(client, model="portal.user", **days).context["entries"]}

    assert str(late.pk) in pks(since="2026-06-02", until="2026-06-02")
    assert str(early.pk) not in pks(since="2026-06-02", until="2026-06-02")
    assert pks(since="2026-06-01", until="2026-06-01") >= {str(early.pk)}
    assert str(late.pk) not in pks(until="2026-06-01")
    assert {str(late.pk), str(early.pk)} <= pks(since="2026-06-01")
    html = page_of(client).content.decode()
    assert 'type="date" name="since"' in html and 'type="date" name="until"' in html


@pytest.mark.django_db
def test_pages_of_fifty_newest_first(orgs, dcc_operator, client_for):
    content_type = ContentType.objects.get_for_model(type(orgs["SUPA"]))
    LogEntry.objects.bulk_create([
        LogEntry(content_type=content_type, object_pk=str(orgs["SUPA"].pk), object_repr=f"Albion {n}",
                 action=LogEntry.Action.UPDATE, changes={"name": [f"Albion {n - 1}", f"Albion {n}"]},
                 actor=dcc_operator)
        for n in range(120)])
    client = client_for(dcc_operator)
    first = page_of(client, actor=dcc_operator.pk)
    shown = first.context["entries"]
    assert len(shown) == 50
    assert [e.object_repr for e in shown[:2]] == ["Albion 119", "Albion 118"]
    next_url = first.context["next_url"]
    assert next_url and f"actor={dcc_operator.pk}" in next_url  # the filters are kept
    second = client.get(URL + next_url)
    assert [e.object_repr for e in second.context["entries"]][0] == "Albion 69"
    third = client.get(URL + second.context["next_url"])
    assert len(third.context["entries"]) == 20 and third.context["next_url"] == ""
    assert "Newest" in third.content.decode()


@pytest.mark.django_db
def test_names_instead_of_ids_in_bulk(orgs, dcc_operator, client_for):
    mover = person("mover", orgs["SUPA"], role=PortalRole.SERVICE_USER, actor=dcc_operator)
    person("mover", orgs["SUPB"], role=PortalRole.SERVICE_USER, actor=dcc_operator)
    client = client_for(dcc_operator)
    html = page_of(client, model="portal.user", object_pk=mover.pk).content.decode()
    # the foreign key reads as the organisations' names, the choice as its label, the actor by name
    assert "<td>organisation</td><td>Albion Energy</td><td>Brightwater Power</td>" in html
    assert f"<td>{orgs['SUPA'].pk}</td>" not in html
    assert "Operator Tester" in html
    # the object is linked to its page where the viewer may open it
    device = _device(orgs, dcc_operator)
    html = page_of(client, model="inventory.device").content.decode()
    assert f'<a href="{device.get_absolute_url()}">{device}</a>' in html
    # the object's own audit trail reads the same way: the supplier by name, times in London time
    html = client.get(device.get_absolute_url()).content.decode()
    assert '<span class="audit-field">supplier</span>: Albion Energy</li>' in html
    assert re.search(r'<span class="audit-field">created_at</span>: \d+ \w+ \d{4} \d\d:\d\d:\d\d (GMT|BST)', html)

    # the page's queries do not grow with the entries shown (no query per entry)
    def queries():
        with CaptureQueriesContext(connection) as captured:
            page_of(client, model="portal.user")
        return len(captured)

    few = queries()
    for n in range(8):
        person(f"more-{n}", orgs["SUPA" if n % 2 else "SUPB"], role=PortalRole.SERVICE_USER, actor=dcc_operator)
        person(f"more-{n}", orgs["SUPB" if n % 2 else "SUPA"], role=PortalRole.SERVICE_USER, actor=dcc_operator)
    assert queries() == few


def _device(orgs, actor):
    from inventory import services as inventory
    from inventory.choices import DeviceType

    with set_actor(actor):
        return inventory.device_create(device_id="00-DB-CC-00-00-00-00-01", device_type=DeviceType.ESME,
                                       supplier=orgs["SUPA"], region="north", mpxn="2200012345671",
                                       reason="audit log test")


@pytest.mark.django_db
def test_a_creation_lists_its_values(orgs, dcc_admin, client_for):
    created = services.organisation_upsert(code="NEWCO", name="Newco Energy", kind="service_user", actor=dcc_admin)
    client = client_for(dcc_admin)
    html = page_of(client, model="portal.organisation", object_pk=created.pk).content.decode()
    row = re.search(r"<tr><td>[^<]*</td><td>Administrator Tester</td><td>create</td>.*?</tr>", html, re.S)
    assert row, html
    assert '<li><span class="audit-field">name</span>: Newco Energy</li>' in row.group(0)
    assert '<li><span class="audit-field">kind</span>: Service user</li>' in row.group(0)
    assert "None" not in row.group(0)


@pytest.mark.django_db
def test_a_deletion_lists_the_values_it_had(orgs, dcc_admin, client_for):
    gone = services.organisation_upsert(code="GONE", name="Gone Energy", kind="service_user", actor=dcc_admin)
    gone_pk = gone.pk
    with set_actor(dcc_admin):
        gone.delete()
    html = page_of(client_for(dcc_admin), model="portal.organisation", object_pk=gone_pk).content.decode()
    row = re.search(r"<tr><td>[^<]*</td><td>Administrator Tester</td><td>delete</td>.*?</tr>", html, re.S)
    assert row and '<span class="audit-field">name</span>: Gone Energy' in row.group(0)
    assert "href" not in row.group(0)  # nothing to link to


@pytest.mark.django_db
def test_scoped_as_before_for_suppliers_and_other_roles(orgs, supplier_a, supplier_b, sdag_member, dcc_admin,
                                                        client_for):
    services.organisation_upsert(code="SUPB", name="Brightwater Renamed", kind="service_user", actor=dcc_admin)
    services.organisation_upsert(code="SUPA", name="Albion Renamed", kind="service_user", actor=dcc_admin)
    supplier = client_for(supplier_a)
    # no object named: nothing, and no other organisation's people offered
    response = page_of(supplier)
    assert response.context["entries"] == [] and "No changes recorded" in response.content.decode()
    assert "Bob Tester" not in response.content.decode() and "Brightwater" not in response.content.decode()
    # the trail of another supplier's organisation: nothing; of its own: its entries
    assert page_of(supplier, model="portal.organisation", object_pk=orgs["SUPB"].pk).context["entries"] == []
    own = page_of(supplier, model="portal.organisation", object_pk=orgs["SUPA"].pk).context["entries"]
    assert own and {e.object_pk for e in own} == {str(orgs["SUPA"].pk)}
    # a person the supplier may not see is not a valid filter (a form error, not an answer)
    assert supplier.get(URL, {"actor": supplier_b.pk}).status_code == 400
    # an SDAG member reads nothing of the directory's trail either
    sdag = client_for(sdag_member)
    assert page_of(sdag).context["entries"] == []
    assert page_of(sdag, model="portal.organisation", object_pk=orgs["SUPA"].pk).context["entries"] == []


@pytest.mark.django_db
@pytest.mark.parametrize("params, field", [
    ({"since": "2026-13-45"}, "since"),
    ({"until": "not-a-day"}, "until"),
    ({"since": "0001-01-01"}, "since"),
    ({"until": "9999-12-31"}, "until"),
    ({"since": "2026-06-02", "until": "2026-06-01"}, "until"),
    ({"actor": "999999"}, "actor"),
    ({"actor": "abc"}, "actor"),
    ({"actor": "1 OR 1=1"}, "actor"),
    ({"model": "nope.nope"}, "model"),
    ({"model": "<script>alert(1)</script>"}, "model"),
    ({"object_pk": "1; DROP TABLE auditlog_logentry"}, "object_pk"),
    ({"object_pk": "x" * 500}, "object_pk"),
])
def test_hostile_filters_are_form_errors(orgs, dcc_operator, client_for, params, field):
    response = client_for(dcc_operator).get(URL, {**params, "before": "'; --"})
    assert response.status_code == 400
    assert field in response.context["form"].errors
    html = response.content.decode()
    assert "Correct the filters above" in html and "<script>alert(1)</script>" not in html
    assert response.context["entries"] == []


@pytest.mark.django_db
def test_a_bad_page_key_starts_from_the_newest(orgs, dcc_operator, client_for):
    response = client_for(dcc_operator).get(URL, {"before": "'; --"})
    assert response.status_code == 200 and response.context["entries"]
