"""The fold of the adapter's completed requests and alerts into facts and rollups."""
import datetime as dt

from adapter.models import Alert, ServiceRequest, ServiceRequestVariant
from slas import report, tasks
from slas.models import AlertFact, RequestFact

UTC = dt.UTC


def _request(request_id, organisation, start, *, state="responded", completed=None, outbound=1):
    srv = ServiceRequestVariant.objects.first()
    if srv is None:  # a transactional test earlier on this worker flushed the data migration's catalogue
        from io import StringIO

        from django.core.management import call_command

        call_command("load_catalogue", stdout=StringIO())
        srv = ServiceRequestVariant.objects.first()
    t1 = start + dt.timedelta(seconds=outbound)
    return ServiceRequest.objects.create(
        request_id=request_id, srv=srv, organisation=organisation, region="north", measurement_type="on_demand",
        state=state, outcome="I0" if state == "responded" else "E19", start_at=start, received_at=start,
        dsp_sent_at=t1 if state == "responded" else None,
        wan_delivered_at=t1 + dt.timedelta(seconds=2) if state == "responded" else None,
        device_responded_at=t1 + dt.timedelta(seconds=3) if state == "responded" else None,
        wan_returned_at=t1 + dt.timedelta(seconds=5) if state == "responded" else None,
        responded_at=t1 + dt.timedelta(seconds=5.5) if state == "responded" else start,
        completed_at=completed or start + dt.timedelta(seconds=10))


def test_fold_copies_completed_requests_and_alerts_once(orgs, measures):
    start = dt.datetime(2025, 6, 2, 8, 0, tzinfo=UTC)
    _request("a:b:1", orgs["SUPA"], start)
    _request("a:b:2", orgs["SUPA"], start, outbound=7)
    _request("a:b:3", orgs["SUPA"], start, state="rejected")
    still_open = _request("a:b:4", orgs["SUPB"], start)
    ServiceRequest.objects.filter(pk=still_open.pk).update(completed_at=None)
    Alert.objects.create(alert_id="al-1", alert_code="0x8F3A", organisation=orgs["SUPA"], region="north",
                         raised_at=start, wan_received_at=start + dt.timedelta(seconds=20),
                         delivered_at=start + dt.timedelta(seconds=21))
    assert tasks.fold_facts() == (3, 1)
    assert tasks.fold_facts() == (0, 0)  # the watermark moved on: nothing twice
    assert RequestFact.objects.get(request_id="a:b:3").measured is False
    assert AlertFact.objects.get().end_to_end_us == 21_000_000
    # The open request completes later (its clock started in June, so it counts in June).
    ServiceRequest.objects.filter(pk=still_open.pk).update(completed_at=dt.datetime(2025, 7, 3, tzinfo=UTC))
    assert tasks.fold_facts() == (1, 0)
    built = report.build(dt.date(2025, 6, 1))
    sm11 = next(r for r in built["measures"] if r["code"] == "SM1.1" and r["type"] == "on_demand")
    assert (sm11["measured"], sm11["within"]) == (3, 2)
    pm3 = next(r for r in built["measures"] if r["code"] == "PM3")
    assert (pm3["measured"], pm3["within"]) == (1, 1)


def test_a_refold_over_folded_records_adds_only_the_new_ones_to_the_rollups(orgs, measures):
    """Records already folded are skipped by their key (ON CONFLICT on PostgreSQL, where each skipped
    row still spends an id, so the batch's ids have gaps and its rollups read the ids, not a range)."""
    from slas.models import FoldState, MonthRollup

    start = dt.datetime(2025, 6, 2, 8, 0, tzinfo=UTC)
    _request("r:1", orgs["SUPA"], start, completed=start + dt.timedelta(seconds=10))
    assert tasks.fold_facts() == (1, 0)
    _request("r:0", orgs["SUPA"], start, completed=start + dt.timedelta(seconds=5))
    _request("r:2", orgs["SUPA"], start, completed=start + dt.timedelta(seconds=15))
    FoldState.objects.all().delete()  # from the start again: r:1 sits between the two new ones
    assert tasks.fold_facts() == (2, 0)
    assert RequestFact.objects.count() == 3
    sm11 = MonthRollup.objects.get(month=dt.date(2025, 6, 1), measure__code="SM1.1",
                                   measure__measurement_type="on_demand", organisation=orgs["SUPA"])
    assert sm11.measured == 3


def test_the_schedule_works_off_a_backlog_batch_after_batch_within_its_budget(orgs, measures):
    from slas import facts

    start = dt.datetime(2025, 6, 2, 8, 0, tzinfo=UTC)
    for n in range(5):
        _request(f"q:{n}", orgs["SUPA"], start, completed=start + dt.timedelta(seconds=n))
    # No time left after the first batch: one batch, the rest waits for the next run.
    assert facts.fold_backlog(limit=2, budget_s=0) == (2, 0)
    assert facts.fold_backlog(limit=2) == (3, 0)  # batch after batch until one folds nothing
    assert RequestFact.objects.filter(request_id__startswith="q:").count() == 5
