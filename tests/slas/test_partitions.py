"""Facts by month on PostgreSQL: the partitioned tables, partitions made ahead and on demand."""
import datetime as dt

import pytest
from django.db import connection

from slas import partitions
from slas.models import RequestFact

UTC = dt.UTC
pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="partitioning is PostgreSQL's")


def _kind(table):
    with connection.cursor() as cursor:
        cursor.execute("SELECT relkind, pg_get_partkeydef(oid) FROM pg_class WHERE relname = %s", [table])
        return cursor.fetchone()


def _where(request_id):
    with connection.cursor() as cursor:
        cursor.execute("SELECT tableoid::regclass::text FROM slas_requestfact WHERE request_id = %s", [request_id])
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_the_fact_tables_are_partitioned_by_month_after_migrate():
    for table in ("slas_requestfact", "slas_alertfact"):
        assert _kind(table) == ("p", "RANGE (day)")
        assert partitions.exists(partitions.default_name(table))
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_constraintdef(oid) FROM pg_constraint "
                       "WHERE conrelid = 'slas_requestfact'::regclass AND contype IN ('p', 'u') ORDER BY contype")
        assert [r[0] for r in cursor.fetchall()] == ["PRIMARY KEY (id, day)", "UNIQUE (request_id, day)"]


@pytest.mark.django_db
def test_partitions_ahead_are_made_once():
    made = partitions.ahead(today=dt.date(2031, 1, 20))
    assert made == [f"{t}_2031_{m:02}" for t in ("slas_requestfact", "slas_alertfact") for m in (1, 2, 3)]
    assert partitions.ahead(today=dt.date(2031, 1, 20)) == []
    assert list(partitions.months("slas_alertfact"))[-3:] == [dt.date(2031, m, 1) for m in (1, 2, 3)]


@pytest.mark.django_db
def test_a_fact_of_a_month_without_partition_waits_in_default_and_moves_when_it_is_made(orgs, measures):
    # The ORM (tests, the demo) writes wherever it likes: the DEFAULT partition takes it.
    start = dt.datetime(2032, 5, 3, 9, 0, tzinfo=UTC)
    RequestFact.objects.create(request_id="orm", measurement_type="on_demand", organisation=orgs["SUPA"],
                               start_at=start, day=start.date())
    assert _where("orm") == "slas_requestfact_default"
    assert partitions.ensure("slas_requestfact", dt.date(2032, 5, 1)) is True
    assert _where("orm") == "slas_requestfact_2032_05"
    assert partitions.ensure("slas_requestfact", dt.date(2032, 5, 1)) is False
    assert RequestFact.objects.get(request_id="orm").organisation_id == orgs["SUPA"].pk
