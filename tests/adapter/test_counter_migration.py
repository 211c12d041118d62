"""adapter 0006: request-id counters move from one per person to one per originator (the
organisation's DUIS user id), each starting at the highest counter any of its people had, so no
id handed out before is handed out again.

On PostgreSQL the walk (back to 0005, per-person counters written, forward again) runs inside the
test's transaction, which rolls it back afterwards; SQLite cannot change its schema inside one.
"""
import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from adapter import services
from portal import services as portal_services
from portal.choices import OrganisationKind, PortalRole

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL: schema changes in a transaction"),
]

BEFORE = [("adapter", "0005_certificates_and_held_states")]
AFTER = [("adapter", "0006_four_eyes_floors_originator_counters")]


def _migrate(targets):
    # the rows written so far have deferred foreign-key checks pending; a schema change waits for none
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_counters_carry_over_the_highest_of_each_organisation(orgs, supplier_a, supplier_b, dcc_operator):
    carol = portal_services.person_upsert(username="carol", first_name="Carol", last_name="Tester",
                                          organisation=orgs["SUPA"], role=PortalRole.SERVICE_USER,
                                          password="test-password-123")
    no_id = portal_services.organisation_upsert(code="NOID", name="No Id", kind=OrganisationKind.SERVICE_USER)
    nadia = portal_services.person_upsert(username="nadia", first_name="Nadia", last_name="Tester",
                                          organisation=no_id, role=PortalRole.SERVICE_USER,
                                          password="test-password-123")
    old = _migrate(BEFORE)
    RequestCounter = old.get_model("adapter", "RequestCounter")
    for person, value in ((supplier_a, 7), (carol, 12), (supplier_b, 3), (dcc_operator, 5), (nadia, 9)):
        RequestCounter.objects.create(user_id=person.pk, value=value)
    new = _migrate(AFTER)
    counters = dict(new.get_model("adapter", "OriginatorCounter").objects.values_list("originator", "value"))
    # supplier A's two people: the higher; those of an organisation without a user id had DCC's
    assert counters == {"90-B3-D5-1F-30-01-00-01": 12, "90-B3-D5-1F-30-01-00-02": 3,
                        "90-B3-D5-1F-30-00-00-00": 9}
    assert services.counters_allocate(originator="90-B3-D5-1F-30-01-00-01") == 13
