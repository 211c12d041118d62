"""The read-replica router's decisions (portal.dbrouter), without a replica: which alias a read or
a write goes to inside and outside ``reading_from_replica()``, how often the replica is asked about
its lag, when the warning is logged and who sees it. tests/gates/test_replica.py proves the same on
a real streaming replica."""
import logging

import pytest
from django.db import OperationalError
from django.http import HttpResponse
from django.test import RequestFactory

from portal import dbrouter
from portal.dbrouter import PRIMARY, REPLICA, Health, ReplicaRouter, reading_from_replica, replica_reads
from portal.models import Organisation


@pytest.fixture
def replica(monkeypatch, settings):
    """A configured replica whose health the test sets: replica.health = Health(...)."""
    settings.REPLICA_CHECK_SECONDS = 5
    settings.REPLICA_MAX_LAG_SECONDS = 30
    clock = {"now": 1000.0}
    measured = []

    class Fake:
        health = Health(True, 0.0)

    def measure():
        measured.append(clock["now"])
        h = Fake.health
        return Health(h.usable, h.lag, h.reason, clock["now"])

    monkeypatch.setattr(dbrouter, "configured", lambda: True)
    monkeypatch.setattr(dbrouter, "_measure", measure)
    monkeypatch.setattr(dbrouter.time, "monotonic", lambda: clock["now"])
    monkeypatch.setattr(dbrouter, "_health", Health(False, reason="not checked yet"))
    Fake.clock, Fake.measured = clock, measured
    return Fake


def test_without_a_replica_every_read_and_write_goes_to_the_primary():
    router = ReplicaRouter()
    assert not dbrouter.configured()
    with reading_from_replica() as state:
        assert not state.use_replica
        assert router.db_for_read(Organisation) == PRIMARY
    assert router.db_for_read(Organisation) == PRIMARY and router.db_for_write(Organisation) == PRIMARY


def test_only_reads_inside_the_context_go_to_the_replica_and_a_write_pins_the_primary(replica):
    router = ReplicaRouter()
    assert router.db_for_read(Organisation) == PRIMARY  # outside: not reading work
    with reading_from_replica() as state:
        assert state.use_replica and not state.fallback_reason
        assert router.db_for_read(Organisation) == REPLICA
        assert router.db_for_write(Organisation) == PRIMARY
        # read your own writes: after a write the context's reads come from the primary
        assert router.db_for_read(Organisation) == PRIMARY
    assert router.db_for_read(Organisation) == PRIMARY
    assert router.allow_migrate(REPLICA, "portal") is False and router.allow_migrate(PRIMARY, "portal") is None


def test_lag_is_checked_at_most_every_check_seconds_and_a_late_replica_sends_reads_to_the_primary(replica, caplog):
    router = ReplicaRouter()
    with caplog.at_level(logging.INFO, logger="portal.dbrouter"):
        for _ in range(3):
            with reading_from_replica():
                assert router.db_for_read(Organisation) == REPLICA
        assert len(replica.measured) == 1  # cached for REPLICA_CHECK_SECONDS
        replica.health = Health(False, 42.0, "the replica is 42.0 s behind (more than 30 s)")
        replica.clock["now"] += 2
        with reading_from_replica() as state:
            assert router.db_for_read(Organisation) == REPLICA  # the cached answer still holds
        replica.clock["now"] += 4
        for _ in range(2):
            with reading_from_replica() as state:
                assert not state.use_replica and "42.0 s behind" in state.fallback_reason
                assert router.db_for_read(Organisation) == PRIMARY
        assert len(replica.measured) == 2
        replica.health = Health(True, 0.5)
        replica.clock["now"] += 6
        with reading_from_replica():
            assert router.db_for_read(Organisation) == REPLICA
    fallbacks = [r for r in caplog.records if "fall back" in r.getMessage()]
    assert [r.levelno for r in fallbacks] == [logging.WARNING], "one warning when the replica falls behind"
    assert any("return to the replica" in r.getMessage() for r in caplog.records)


def test_the_warning_is_shown_to_dcc_administrators_only(replica, rf, dcc_admin, dcc_operator, supplier_a):
    replica.health = Health(False, None, "the replica does not answer (connection refused)")
    for user, shown in ((dcc_admin, True), (dcc_operator, False), (supplier_a, False)):
        request = rf.get("/")
        request.user = user
        with reading_from_replica():
            context = dbrouter.replica_status(request)
        assert ("replica_warning" in context) is shown, user.username
    request = rf.get("/")
    request.user = dcc_admin
    assert dbrouter.replica_status(request) == {}  # outside reading work nothing is said


def test_a_page_whose_replica_fails_midway_is_built_again_from_the_primary(replica, dcc_admin):
    router = ReplicaRouter()
    seen = []

    @replica_reads
    def view(request):
        alias = router.db_for_read(Organisation)
        seen.append(alias)
        if alias == REPLICA:
            replica.health = Health(False, None, "the replica does not answer (server closed the connection)")
            raise OperationalError("server closed the connection unexpectedly")
        return HttpResponse(dbrouter.replica_status(request).get("replica_warning", ""))

    request = RequestFactory().get("/slas/")
    request.user = dcc_admin
    response = view(request)
    assert seen == [REPLICA, PRIMARY]
    assert "does not answer" in response.content.decode()


def test_an_error_that_is_not_the_replica_s_is_not_hidden(replica, dcc_admin):
    @replica_reads
    def view(request):
        ReplicaRouter().db_for_read(Organisation)
        raise OperationalError("a real error")

    request = RequestFactory().get("/")
    request.user = dcc_admin
    with pytest.raises(OperationalError, match="a real error"):
        view(request)  # the replica is healthy when checked again: the error is the page's own


def test_posts_are_never_routed_to_the_replica(replica, dcc_admin):
    @replica_reads
    def view(request):
        return HttpResponse(ReplicaRouter().db_for_read(Organisation))

    request = RequestFactory().post("/")
    request.user = dcc_admin
    assert view(request).content.decode() == PRIMARY
    request = RequestFactory().get("/")
    request.user = dcc_admin
    assert view(request).content.decode() == REPLICA
