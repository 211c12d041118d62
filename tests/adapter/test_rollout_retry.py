"""Failure classes and retrying the failed of a class: one table of codes (adapter.failures), per
wave counts by class, a retry sends new requests with new ids to those devices only after the
back-off (doubling with each attempt), a device stays one member, classes not retried are refused."""
import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError

from adapter import failures, rollouts, tasks
from adapter.models import RolloutMember, RolloutRetry, ServiceRequest
from tests.adapter.test_rollouts import listed, north_and_south, waves

pytestmark = pytest.mark.django_db

MOMENT = dt.datetime(2026, 5, 12, 9, 0, tzinfo=dt.UTC)


def test_the_table_classes_every_code():
    assert [failures.class_of(c) for c in ("E20", "E21", "E30", "E4", "E5", "E11", "E19", "E1", "E2", "E40",
                                           "E7", "E99")] == [
        "communication"] * 3 + ["eligibility"] * 4 + ["request"] * 3 + ["device"] * 2
    assert failures.class_of("", "timed_out") == "communication"
    assert failures.RETRIED == ("communication",)


def test_retry_of_communication_failures_with_back_off(srvs, orgs, supplier_a, quiet_simulator, settings,
                                                       django_capture_on_commit_callbacks):
    settings.ADAPTER_ROLLOUT_RETRY_BACKOFF_SECONDS = 300
    quiet_simulator.configure(fail_e20={"north": 0, "central": 0, "south": 1.0})  # the south is unreachable
    devices = north_and_south(orgs["SUPA"], 2, 3) + north_and_south(orgs["SUPA"], 0, 1, prefix="00-DB-78-00-00")
    devices[-1].status = "pending"  # E5 at the check: not eligible
    devices[-1].save(update_fields=["status"])
    with time_machine.travel(MOMENT, tick=False) as traveller:
        rollout = rollouts.rollout_create(actor=supplier_a, name="Tariff", srv="4.1.1", params={},
                                          waves=waves("rest", success=10, error=100), device_list=listed(devices))
        with django_capture_on_commit_callbacks(execute=True):
            rollouts.rollout_start(rollout=rollout, actor=supplier_a)
        rollout.refresh_from_db()
        wave = rollout.waves.get()
        assert rollout.state == "completed"
        assert rollouts.class_counts(wave) == {"communication": 3, "eligibility": 1}
        first_ids = set(ServiceRequest.objects.filter(batch__rollout=rollout).values_list("request_id", flat=True))
        with pytest.raises(ValidationError) as refused:
            rollouts.rollout_retry(rollout=rollout, actor=supplier_a, failure_class="eligibility")
        assert "not retried" in refused.value.message_dict["failure_class"][0]
        with pytest.raises(ValidationError) as refused:
            rollouts.rollout_retry(rollout=rollout, actor=supplier_a, failure_class="communication", wave=7)
        assert "wave" in refused.value.message_dict
        # first retry: the south still fails; nothing goes before the back-off
        with django_capture_on_commit_callbacks(execute=True):
            retry = rollouts.rollout_retry(rollout=rollout, actor=supplier_a, failure_class="communication",
                                           reason="CSP outage over")
        assert (retry.attempt, retry.member_count, retry.not_before) == (2, 3, MOMENT + dt.timedelta(seconds=300))
        rollout.refresh_from_db()
        assert rollout.state == "running" and rollout.ended_at is None
        traveller.shift(dt.timedelta(seconds=299))
        with django_capture_on_commit_callbacks(execute=True):
            tasks.advance()
            tasks.rollouts_advance()
        assert ServiceRequest.objects.filter(batch=retry.batch, state="queued").count() == 3
        with pytest.raises(ValidationError):  # its members are in a retry still to go
            rollouts.rollout_retry(rollout=rollout, actor=supplier_a, failure_class="communication")
        traveller.shift(dt.timedelta(seconds=1))
        with django_capture_on_commit_callbacks(execute=True):
            tasks.rollouts_advance()
        assert set(ServiceRequest.objects.filter(batch=retry.batch).values_list("state", "outcome")) == {
            ("failed", "E20")}
        with django_capture_on_commit_callbacks(execute=True):
            tasks.rollouts_advance()
        rollout.refresh_from_db()
        assert rollout.state == "completed"
        # second retry: the back-off doubles; the CSP is back
        quiet_simulator.configure(fail_e20={"south": 0})
        with django_capture_on_commit_callbacks(execute=True):
            second = rollouts.rollout_retry(rollout=rollout, actor=supplier_a, failure_class="communication", wave=1)
        assert second.attempt == 3
        assert second.not_before == MOMENT + dt.timedelta(seconds=300 + 600)
        traveller.move_to(second.not_before)
        with django_capture_on_commit_callbacks(execute=True):
            tasks.rollouts_advance()
            tasks.rollouts_advance()
    rollout.refresh_from_db()
    assert rollout.state == "completed"
    assert rollouts.class_counts(wave) == {"eligibility": 1}
    # a device stays one member; its latest attempt is its request; every attempt had its own id
    assert RolloutMember.objects.filter(rollout=rollout).count() == 6
    south = RolloutMember.objects.filter(rollout=rollout, attempt=3)
    assert south.count() == 3 and {m.request.state for m in south} == {"responded"}
    all_ids = list(ServiceRequest.objects.filter(batch__rollout=rollout).values_list("request_id", flat=True))
    assert len(all_ids) == len(set(all_ids)) == 5 + 3 + 3 and first_ids < set(all_ids)
    assert len({i.rsplit(":", 1)[1] for i in all_ids}) == 11  # counters unique per originator
    assert RolloutRetry.objects.filter(rollout=rollout).count() == 2
    assert rollout.events.filter(reason__contains="retry of 3 devices with communication failures").count() == 2


def test_retry_through_the_api_and_the_page(srvs, orgs, supplier_a, supplier_b, quiet_simulator, api_for,
                                            client_for, django_capture_on_commit_callbacks):
    from django.urls import reverse

    quiet_simulator.configure(fail_e20={"north": 1.0})
    devices = north_and_south(orgs["SUPA"], 2, 0)
    api = api_for(supplier_a)
    body = {"name": "Retry me", "srv": "4.1.1", "device_ids": [d.device_id for d in devices],
            "waves": [{"size": 100, "success_threshold": 10, "error_threshold": 100}]}
    pk = api.post("/api/v1/adapter/rollouts/", body, format="json").json()["id"]
    with django_capture_on_commit_callbacks(execute=True):
        api.post(f"/api/v1/adapter/rollouts/{pk}/start/")
    read = api.get(f"/api/v1/adapter/rollouts/{pk}/").json()
    assert read["waves"][0]["counts"]["by_class"] == {"communication": 2}
    assert api.post(f"/api/v1/adapter/rollouts/{pk}/retry/", {"failure_class": "nonsense"},
                    format="json").status_code == 400
    assert api.post(f"/api/v1/adapter/rollouts/{pk}/retry/", {"failure_class": "device"},
                    format="json").status_code == 400
    assert api_for(supplier_b).post(f"/api/v1/adapter/rollouts/{pk}/retry/", {"failure_class": "communication"},
                                    format="json").status_code == 404
    made = api.post(f"/api/v1/adapter/rollouts/{pk}/retry/", {"failure_class": "communication", "reason": "again"},
                    format="json")
    assert made.status_code == 201 and made.json()["member_count"] == 2 and made.json()["attempt"] == 2
    assert api.get(f"/api/v1/adapter/rollouts/{pk}/").json()["retries"][0]["failure_class"] == "communication"
    assert "/api/v1/adapter/rollouts/{id}/retry/" in api.get("/api/schema/?format=json").json()["paths"]
    page = client_for(supplier_a).get(reverse("adapter:rollout_detail", args=[pk])).content.decode()
    assert "communication 2" in page and "Retry the failed of" in page and "not retried" in page
    refused = client_for(supplier_a).post(reverse("adapter:rollout_retry", args=[pk]),
                                          {"failure_class": "communication", "wave": "x<script>"}, follow=True)
    assert "the wave&#x27;s number" in refused.content.decode() or "the wave's number" in refused.content.decode()


def test_results_download_and_the_estimate(srvs, orgs, supplier_a, supplier_b, quiet_simulator, api_for, client_for,
                                           django_capture_on_commit_callbacks):
    import csv
    import io

    from django.urls import reverse

    quiet_simulator.configure(fail_e20={"south": 1.0})
    devices = north_and_south(orgs["SUPA"], 2, 1)
    rollout = rollouts.rollout_create(actor=supplier_a, name="Results", srv="4.1.1", params={},
                                      waves=waves(2, "rest", success=10, error=100, auto=False),
                                      device_list=listed(devices), throttle={"max_per_second": 4})
    with time_machine.travel(MOMENT, tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            rollouts.rollout_start(rollout=rollout, actor=supplier_a)
        found = rollouts.estimate(rollout)
    assert (found.remaining, found.seconds) == (1, 300)  # two sends in ten minutes: 1 device at 2/600 a second
    assert found.basis == "the last ten minutes' 0.00333 per second (below its throttle)"
    client = client_for(supplier_a)
    body = b"".join(client.get(reverse("adapter:rollout_results", args=[rollout.pk])).streaming_content)
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0] == rollouts.RESULT_HEADERS and len(rows) == 4
    by_device = {r[0]: r for r in rows[1:]}
    assert by_device[devices[0].device_id][1:3] == ["1", "1"] and by_device[devices[0].device_id][4:6] == [
        "responded", "I0"]
    assert by_device[devices[0].device_id][3].endswith(":" + by_device[devices[0].device_id][3].rsplit(":", 1)[1])
    assert by_device[devices[2].device_id][4:7] == ["pending", "", ""]
    assert client.get(reverse("adapter:rollout_results", args=[rollout.pk]) + "?format=xlsx")[
        "Content-Type"].startswith("application/vnd.openxmlformats")
    assert client_for(supplier_b).get(reverse("adapter:rollout_results", args=[rollout.pk])).status_code == 404
    page = client.get(rollout.get_absolute_url()).content.decode()
    assert "To finish: 1 devices" in page
    api = api_for(supplier_a)
    assert api.get(f"/api/v1/adapter/rollouts/{rollout.pk}/").json()["estimate"]["remaining"] == 1
    got = api.get(f"/api/v1/adapter/rollouts/{rollout.pk}/results/?export=csv")
    assert got.status_code == 200 and got["Content-Type"].startswith("text/csv")
    assert "/api/v1/adapter/rollouts/{id}/results/" in api.get("/api/schema/?format=json").json()["paths"]
