"""Issue 18, exactness under concurrency on PostgreSQL, with real threads (each its own database
connection and transaction): parallel submissions and two batches at once never slip past an
anomaly threshold, and two people of one organisation never get the same request id."""
import threading

import pytest
from django.db import connection, connections

from adapter import services, tasks
from adapter.choices import RequestState
from adapter.models import AnomalyThreshold, BatchRow, ServiceRequest
from portal import services as portal_services
from portal.choices import PortalRole

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 10


@pytest.fixture(autouse=True)
def _postgres_only(db):
    if connection.vendor != "postgresql":
        pytest.skip("row locks and advisory locks: the PostgreSQL pass proves it")


def in_threads(work, count):
    """Run ``work(n)`` in ``count`` threads released at the same moment; re-raise the first error."""
    barrier = threading.Barrier(count)
    errors, results = [], [None] * count

    def run(n):
        try:
            barrier.wait(timeout=30)
            results[n] = work(n)
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    if errors:
        raise errors[0]
    return results


def colleague(organisation, n):
    return portal_services.person_upsert(username=f"person{n}", first_name=f"Person{n}", last_name="Tester",
                                         organisation=organisation, role=PortalRole.SERVICE_USER,
                                         email=f"person{n}@example.org", password="test-password-123")


def test_parallel_submissions_stop_exactly_at_the_limit(srvs, devices, supplier_a):
    limit = 4
    AnomalyThreshold.objects.create(organisation=supplier_a.organisation, srv=srvs["4.1.1"], period="day",
                                    limit=limit)
    device = devices["a_esme"].device_id
    # (the request is queued on commit; the test's synchronous task queue then sends it in the thread)
    states = in_threads(lambda n: services.request_submit(user=supplier_a, srv="4.1.1", device_id=device,
                                                          params={}).state, THREADS)
    quarantined = ServiceRequest.objects.filter(state=RequestState.QUARANTINED).count()
    assert quarantined == THREADS - limit, states
    assert ServiceRequest.objects.exclude(state=RequestState.QUARANTINED).count() == limit


def test_two_batches_at_once_stop_exactly_at_the_limit(srvs, devices, supplier_a):
    limit = 5
    AnomalyThreshold.objects.create(organisation=supplier_a.organisation, srv=None, period="day", limit=limit)
    rows = ("srv,device_id\n" + f"4.1.1,{devices['a_esme'].device_id}\n" * 4).encode()
    # batch_create queues the check on commit: with the synchronous test queue it would run at once,
    # so the batches are stored first and checked below, two at once, plus single requests beside them.
    from adapter.models import Batch

    batches = [Batch.objects.create(organisation=supplier_a.organisation, user=supplier_a, source=rows,
                                    filename=f"b{n}.csv") for n in range(2)]
    device = devices["a_esme"].device_id

    def work(n):
        if n < 2:
            tasks.batch_check(batches[n].pk)
        else:
            services.request_submit(user=supplier_a, srv="4.1.1", device_id=device, params={})

    in_threads(work, 4)
    assert ServiceRequest.objects.count() == 10
    assert ServiceRequest.objects.exclude(state=RequestState.QUARANTINED).count() == limit
    assert BatchRow.objects.filter(code="Q").count() == ServiceRequest.objects.filter(
        batch__isnull=False, state=RequestState.QUARANTINED).count()


def test_people_of_one_organisation_at_once_never_share_a_request_id(srvs, devices, supplier_a):
    people = [supplier_a] + [colleague(supplier_a.organisation, n) for n in range(3)]
    device = devices["a_esme"].device_id

    def work(n):
        return [services.request_submit(user=people[n % len(people)], srv="4.1.1", device_id=device,
                                        params={}).counter for _ in range(3)]

    counters = sorted(c for batch in in_threads(work, 8) for c in batch)
    assert counters == list(range(1, 25))
    assert ServiceRequest.objects.values("request_id").distinct().count() == 24
