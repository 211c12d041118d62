"""Rollouts: waves by count and percentage, the population frozen at the start, each wave sent as a
batch through the ordinary checks and dispatch (the simulator backend answers), the error threshold's
emergency stop on terminal failures, the success threshold starting the next wave, pause holding
sends, resume, cancel, a device at most once, the dry run, capabilities and isolation."""
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from adapter import rollouts, tasks
from adapter.models import Batch, RolloutEvent, RolloutMember, ServiceRequest
from portal.savedfilters.services import saved_filter_save
from tests.adapter.conftest import make_device

pytestmark = pytest.mark.django_db

SRV = "4.1.1"  # an on-demand read, not critical: sent at once


def north_and_south(supplier, north, south, *, prefix="00-DB-77-00-00"):
    """``north`` devices in the north (the simulator answers I0) then ``south`` in the south."""
    made = []
    for n in range(north + south):
        region = "north" if n < north else "south"
        made.append(make_device(f"{prefix}-{n // 256:02X}-{n % 256:02X}-01", supplier, region=region))
    return made


def listed(devices):
    return "device_id\n" + "\n".join(d.device_id for d in devices) + "\n"


def waves(*sizes, success=90, error=50, auto=True):
    """Waves as a person writes them ("2, 30%, rest"), with the same thresholds each."""
    return rollouts.parse_waves(", ".join(map(str, sizes)), success_threshold=success, error_threshold=error,
                                auto_advance=auto)


def create(user, devices, wave_list, **extra):
    return rollouts.rollout_create(actor=user, name="Reads", srv=SRV, params={}, waves=wave_list,
                                   device_list=listed(devices), **extra)


def run(callbacks, action, **kwargs):
    """Run a service and what it hands to django-q2 on commit (the test cluster runs tasks at once)."""
    with callbacks(execute=True):
        return action(**kwargs)


def test_wave_sizes_by_count_and_percentage_the_last_takes_the_rest():
    assert rollouts.wave_sizes(500, waves("0.1%", "1%", "10%", "rest")) == [1, 5, 50, 444]
    assert rollouts.wave_sizes(10, waves(3, "50%", 1)) == [3, 5, 2]
    assert rollouts.wave_sizes(4, waves(3, 3, 3)) == [3, 1, 0]
    assert [(w.size_kind, w.size) for w in rollouts.parse_waves("0.1%, 25, rest")] == [
        ("percent", Decimal("0.1")), ("count", Decimal(25)), ("percent", Decimal(100))]


def test_bad_input_is_refused_naming_the_field(srvs, devices, supplier_a):
    with pytest.raises(ValidationError) as error:
        rollouts.rollout_create(actor=supplier_a, name="x", srv="7.5", params={"switch": 9}, waves=waves("rest"),
                                device_list=devices["a_esme"].device_id)
    assert "params" in error.value.message_dict and "switch" in error.value.message_dict["params"][0]
    with pytest.raises(ValidationError) as error:
        rollouts.rollout_create(actor=supplier_a, name="x", srv=SRV, params={}, waves=waves("150%", 0),
                                device_list=devices["a_esme"].device_id)
    assert error.value.message_dict["waves"] == ["wave 1: a percentage is at most 100",
                                                 "wave 2: the size must be more than 0"]
    with pytest.raises(ValidationError) as error:
        rollouts.rollout_create(actor=supplier_a, name="x", srv="99.99", params={}, waves=waves("rest"),
                                device_list="x")
    assert "srv" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        rollouts.rollout_create(actor=supplier_a, name="x", srv=SRV, params={}, waves=waves("rest"))
    assert "population" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        rollouts.parse_waves("10%, lots")
    assert "wave 2" in error.value.message_dict["waves"][0]


def test_a_device_is_in_a_rollout_at_most_once(srvs, devices, supplier_a, django_capture_on_commit_callbacks):
    esme = devices["a_esme"]
    text = f"{esme.device_id}\n{esme.device_id.replace('-', '').lower()}\n{devices['a_gsme'].device_id}\n"
    rollout = rollouts.rollout_create(actor=supplier_a, name="twice", srv=SRV, params={}, waves=waves("rest"),
                                      device_list=text)
    run(django_capture_on_commit_callbacks, rollouts.rollout_start, rollout=rollout, actor=supplier_a)
    rollout.refresh_from_db()
    assert rollout.population_size == 2 and rollout.duplicates_dropped == 1
    assert RolloutMember.objects.filter(rollout=rollout, device_ref=esme.device_id).count() == 1
    member = RolloutMember.objects.filter(rollout=rollout).first()
    with pytest.raises(IntegrityError), transaction.atomic():
        RolloutMember.objects.create(rollout=rollout, wave=member.wave, row=99, device_ref=member.device_ref)
    # the wave's batch made one request per device
    assert ServiceRequest.objects.filter(batch__rollout_wave__rollout=rollout).count() == 2


def test_success_threshold_starts_the_next_wave_and_the_rollout_completes(
        srvs, orgs, supplier_a, django_capture_on_commit_callbacks):
    devices = north_and_south(orgs["SUPA"], 10, 0)
    rollout = create(supplier_a, devices, waves(2, "30%", "rest", success=90))
    run(django_capture_on_commit_callbacks, rollouts.rollout_start, rollout=rollout, actor=supplier_a)
    rollout.refresh_from_db()
    # every wave's requests answered I0 (the simulator in the north): each reached 100 % and started the next
    assert rollout.state == "completed"
    sizes = list(rollout.waves.order_by("ordinal").values_list("member_count", "state"))
    assert sizes == [(2, "done"), (3, "done"), (5, "done")]
    assert ServiceRequest.objects.filter(batch__rollout_wave__rollout=rollout, state="responded",
                                         outcome="I0").count() == 10
    assert RolloutMember.objects.filter(rollout=rollout, request__isnull=False).count() == 10
    # the frozen population's requests carry the batch path's ids: unique per originator, each its own counter
    ids = list(ServiceRequest.objects.filter(batch__rollout_wave__rollout=rollout).values_list("request_id",
                                                                                                flat=True))
    assert len({i.rsplit(":", 1)[1] for i in ids}) == 10
    changes = list(RolloutEvent.objects.filter(rollout=rollout).values_list("from_state", "to_state"))
    assert ("draft", "running") in changes and ("running", "completed") in changes
    assert changes.count(("pending", "running")) == 3  # three waves started


def test_without_auto_advance_the_next_wave_waits_for_a_person(srvs, orgs, supplier_a,
                                                               django_capture_on_commit_callbacks):
    devices = north_and_south(orgs["SUPA"], 4, 0)
    rollout = create(supplier_a, devices, waves(1, "rest", auto=False))
    run(django_capture_on_commit_callbacks, rollouts.rollout_start, rollout=rollout, actor=supplier_a)
    first, second = rollout.waves.order_by("ordinal")
    assert (first.state, second.state) == ("done", "ready")
    assert not Batch.objects.filter(rollout_wave=second).exists()
    run(django_capture_on_commit_callbacks, rollouts.wave_start, wave=second, actor=supplier_a)
    rollout.refresh_from_db()
    assert rollout.state == "completed"
    assert RolloutEvent.objects.filter(rollout=rollout, wave=second, to_state="running", actor=supplier_a).exists()


def test_error_threshold_pauses_after_terminal_failures_and_holds_the_rest(
        srvs, orgs, supplier_a, quiet_simulator, django_capture_on_commit_callbacks):
    # the south cannot be reached: every request there fails E20 (terminal)
    quiet_simulator.configure(fail_e20={"north": 0, "central": 0, "south": 1.0})
    devices = north_and_south(orgs["SUPA"], 2, 8)  # wave 1: 2 north + 3 south
    rollout = create(supplier_a, devices, waves(5, "rest", success=50, error=40))
    run(django_capture_on_commit_callbacks, rollouts.rollout_start, rollout=rollout, actor=supplier_a)
    rollout.refresh_from_db()
    assert rollout.state == "paused"
    first, second = rollout.waves.order_by("ordinal")
    counts = rollouts.wave_counts(first)
    assert (counts.successes, counts.failures) == (2, 3)
    # the second wave never started: nothing of it made or sent
    assert second.state == "pending" and second.batch is None
    stop = RolloutEvent.objects.get(rollout=rollout, to_state="paused")
    assert stop.actor is None and "error threshold of 40" in stop.reason and "3 failures of 5" in stop.reason


def test_pause_holds_sends_resume_sends_them(srvs, orgs, supplier_a, dcc_operator,
                                              django_capture_on_commit_callbacks):
    devices = north_and_south(orgs["SUPA"], 6, 0)
    rollout = create(supplier_a, devices, waves("rest"))
    # The test cluster runs each task at once: the wave's check (and its sends) wait for the commit,
    # and DCC's emergency stop comes first. The check then stores the requests, queued, and sends none.
    with django_capture_on_commit_callbacks(execute=False) as started:
        rollouts.rollout_start(rollout=rollout, actor=supplier_a)
    rollouts.rollout_pause(rollout=rollout, actor=dcc_operator, reason="meters answering strangely")
    for callback in started:
        callback()
    batch = Batch.objects.get(rollout_wave__rollout=rollout)
    assert batch.held
    queued = ServiceRequest.objects.filter(batch=batch, state="queued").count()
    assert queued == 6
    # nothing is sent while paused: neither the batch's own task, the minute's sweep nor the evaluation
    tasks.dispatch(batch_id=batch.pk)
    tasks.advance()
    tasks.rollouts_advance()
    assert ServiceRequest.objects.filter(batch=batch, state="queued").count() == 6
    assert not ServiceRequest.objects.filter(batch=batch, dsp_sent_at__isnull=False).exists()
    pause = RolloutEvent.objects.get(rollout=rollout, to_state="paused")
    assert pause.actor == dcc_operator and pause.reason == "meters answering strangely"
    run(django_capture_on_commit_callbacks, rollouts.rollout_resume, rollout=rollout, actor=supplier_a,
        reason="checked with the CSP")
    rollout.refresh_from_db()
    assert rollout.state == "completed"
    assert ServiceRequest.objects.filter(batch=batch, state="responded").count() == 6
    assert RolloutEvent.objects.filter(rollout=rollout, from_state="paused", to_state="running",
                                       reason="checked with the CSP").exists()


def test_cancel_cancels_what_is_not_sent(srvs, orgs, supplier_a, django_capture_on_commit_callbacks):
    devices = north_and_south(orgs["SUPA"], 5, 0)
    rollout = create(supplier_a, devices, waves(2, "rest"))
    with django_capture_on_commit_callbacks(execute=False) as started:
        rollouts.rollout_start(rollout=rollout, actor=supplier_a)
    rollouts.rollout_pause(rollout=rollout, actor=supplier_a)
    for callback in started:
        callback()
    rollouts.rollout_cancel(rollout=rollout, actor=supplier_a, reason="wrong tariff")
    rollout.refresh_from_db()
    assert rollout.state == "cancelled" and rollout.ended_at
    assert set(ServiceRequest.objects.filter(batch__rollout_wave__rollout=rollout).values_list(
        "state", flat=True)) == {"cancelled"}
    assert list(rollout.waves.values_list("state", flat=True)) == ["cancelled", "cancelled"]
    with pytest.raises(rollouts.services.Conflict):
        rollouts.rollout_resume(rollout=rollout, actor=supplier_a)


def test_a_population_from_a_saved_filter_is_frozen_at_the_start(srvs, orgs, supplier_a,
                                                                 django_capture_on_commit_callbacks):
    north_and_south(orgs["SUPA"], 3, 2)
    make_device("00-DB-77-00-00-FF-00-01", orgs["SUPB"], region="south")  # another supplier's: never in it
    saved = saved_filter_save(user=supplier_a, page="inventory:device_list", name="South", querystring="region=south")
    rollout = rollouts.rollout_create(actor=supplier_a, name="South", srv=SRV, params={}, waves=waves("rest"),
                                      saved_filter=saved)
    with django_capture_on_commit_callbacks(execute=False):
        rollouts.rollout_start(rollout=rollout, actor=supplier_a)
    make_device("00-DB-77-00-00-FF-00-02", orgs["SUPA"], region="south")  # after the start: not in it
    rollout.refresh_from_db()
    assert rollout.population_size == 2 and rollout.population_query == "region=south"
    assert set(RolloutMember.objects.filter(rollout=rollout).values_list("device__region", flat=True)) == {"south"}


def test_dry_run_counts_every_outcome_and_sends_nothing(srvs, devices, orgs, supplier_a):
    from adapter.models import AnomalyThreshold, ServiceRequestVariant

    AnomalyThreshold.objects.create(organisation=orgs["SUPA"], srv=ServiceRequestVariant.objects.get(code=SRV),
                                    period="day", limit=1)
    text = "\n".join([devices["a_esme"].device_id, devices["a_gsme"].device_id, devices["a_decom"].device_id,
                      devices["a_hcalcs"].device_id, devices["b_esme"].device_id, "00-DB-99-99-99-99-99-99",
                      "not-a-device"])
    rollout = rollouts.rollout_create(actor=supplier_a, name="dry", srv=SRV, params={}, waves=waves("rest"),
                                      device_list=text)
    result = rollouts.rollout_dry_run(rollout=rollout, actor=supplier_a)
    # ESME and GSME pass (the second is over the threshold of 1 a day: would be quarantined), the
    # pending ESME is E5, the HCALCS E11, supplier B's E4, the unknown ones E19
    assert result.counts == {"eligible": 1, "quarantined": 1, "E5": 1, "E11": 1, "E4": 1, "E19": 2}
    assert [row[1] for row in result.rows] == ["eligible", "quarantined", "E5", "E11", "E4", "E19", "E19"]
    assert not ServiceRequest.objects.exists() and not Batch.objects.exists()
    rollout.refresh_from_db()
    assert rollout.dry_run_counts == result.counts and rollout.state == "draft"
    e2 = rollouts.rollout_create(actor=supplier_a, name="dcc only", srv="9.1", params={}, waves=waves("rest"),
                                 device_list=devices["a_esme"].device_id)
    assert rollouts.rollout_dry_run(rollout=e2, actor=supplier_a).counts == {"E2": 1}


def test_capabilities_and_isolation_of_rollouts(srvs, devices, supplier_a, supplier_b, dcc_operator,
                                                django_capture_on_commit_callbacks):
    from portal.access import may
    from portal.scoping import scope

    rollout = create(supplier_a, [devices["a_esme"]], waves("rest"))
    assert scope(supplier_b, rollout.__class__.objects.all()).count() == 0
    assert scope(dcc_operator, rollout.__class__.objects.all()).count() == 1
    for capability in ("adapter.rollout.start", "adapter.rollout.pause", "adapter.rollout.cancel",
                       "adapter.rollout.dry_run"):
        assert may(supplier_a, capability, rollout)
        assert not may(supplier_b, capability, rollout)
    # DCC may stop anyone's rollout, but starts only its own (the requests are sent as the supplier)
    assert may(dcc_operator, "adapter.rollout.pause", rollout) and may(dcc_operator, "adapter.rollout.cancel", rollout)
    assert not may(dcc_operator, "adapter.rollout.start", rollout)
    with pytest.raises(PermissionDenied):
        rollouts.rollout_start(rollout=rollout, actor=supplier_b)
    with pytest.raises(PermissionDenied):
        rollouts.rollout_dry_run(rollout=rollout, actor=supplier_b)


def test_pages_draw_up_dry_run_start_and_show_waves(srvs, orgs, supplier_a, supplier_b, client_for,
                                                    django_capture_on_commit_callbacks):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    from adapter.models import Rollout

    devices = north_and_south(orgs["SUPA"], 4, 0)
    client = client_for(supplier_a)
    assert client.get(reverse("adapter:rollout_create")).status_code == 200
    bad = client.post(reverse("adapter:rollout_create"), {
        "name": "Reads", "srv": SRV, "params_json": "{", "waves": "1, rest", "success_threshold": 90,
        "error_threshold": 10, "auto_advance": "on", "device_list": listed(devices)})
    assert bad.status_code == 200 and "not valid JSON" in bad.content.decode()
    response = client.post(reverse("adapter:rollout_create"), {
        "name": "Morning reads", "srv": SRV, "params_json": "{}", "waves": "1, rest", "success_threshold": 90,
        "error_threshold": 10, "auto_advance": "on",
        "device_file": SimpleUploadedFile("ids.csv", listed(devices).encode())})
    rollout = Rollout.objects.get()
    assert response.status_code == 302 and response["Location"] == rollout.get_absolute_url()
    client.post(reverse("adapter:rollout_dry_run", args=[rollout.pk]))
    csv = client.get(reverse("adapter:rollout_dry_run_download", args=[rollout.pk])).getvalue().decode("utf-8-sig")
    assert csv.splitlines()[0] == "device_id,outcome,message" and csv.count(",eligible,") == 4
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("adapter:rollout_start", args=[rollout.pk]))
    page = client.get(rollout.get_absolute_url()).content.decode()
    assert "Morning reads" in page and "Completed" in page and "I0 3" in page and "4 eligible" in page
    assert "Morning reads" in client.get(reverse("adapter:rollout_list")).content.decode()
    # another supplier neither sees nor controls it
    other = client_for(supplier_b)
    assert other.get(rollout.get_absolute_url()).status_code == 404
    assert other.post(reverse("adapter:rollout_cancel", args=[rollout.pk])).status_code == 404
    assert "Morning reads" not in other.get(reverse("adapter:rollout_list")).content.decode()


def test_api_create_start_pause_resume_cancel_and_dry_run(srvs, orgs, supplier_a, supplier_b, dcc_operator,
                                                          api_for, django_capture_on_commit_callbacks):
    devices = north_and_south(orgs["SUPA"], 4, 0)
    api = api_for(supplier_a)
    body = {"name": "API reads", "srv": SRV, "device_ids": [d.device_id for d in devices],
            "waves": [{"size": 1, "size_kind": "count", "success_threshold": 100, "error_threshold": 50,
                       "auto_advance": False}, {"size": 100}]}
    bad = api.post("/api/v1/adapter/rollouts/", {**body, "waves": [{"size": 0}]}, format="json")
    assert bad.status_code == 400 and "waves" in str(bad.json())
    created = api.post("/api/v1/adapter/rollouts/", body, format="json")
    assert created.status_code == 201, created.json()
    pk = created.json()["id"]
    assert created.json()["state"] == "draft" and len(created.json()["waves"]) == 2
    dry = api.post(f"/api/v1/adapter/rollouts/{pk}/dry-run/?devices=1").json()
    assert dry["counts"] == {"eligible": 4} and len(dry["devices"]) == 4
    with django_capture_on_commit_callbacks(execute=True):
        assert api.post(f"/api/v1/adapter/rollouts/{pk}/start/").json()["state"] == "running"
    started = api.get(f"/api/v1/adapter/rollouts/{pk}/").json()  # the wave's check and sends ran after the commit
    assert [w["state"] for w in started["waves"]] == ["done", "ready"]
    assert started["waves"][0]["counts"]["by_outcome"] == {"I0": 1}
    assert api.post(f"/api/v1/adapter/rollouts/{pk}/start/").status_code == 409
    assert api_for(supplier_b).post(f"/api/v1/adapter/rollouts/{pk}/pause/").status_code == 404
    dcc = api_for(dcc_operator)
    paused = dcc.post(f"/api/v1/adapter/rollouts/{pk}/pause/", {"reason": "CSP incident"}, format="json").json()
    assert paused["state"] == "paused"
    assert dcc.post(f"/api/v1/adapter/rollouts/{pk}/waves/2/start/").status_code == 403  # DCC starts its own only
    assert api.post(f"/api/v1/adapter/rollouts/{pk}/waves/2/start/").status_code == 409  # paused: resume first
    assert api.post(f"/api/v1/adapter/rollouts/{pk}/resume/").json()["state"] == "running"
    with django_capture_on_commit_callbacks(execute=True):
        assert api.post(f"/api/v1/adapter/rollouts/{pk}/waves/2/start/").status_code == 200
    assert api.get(f"/api/v1/adapter/rollouts/{pk}/").json()["state"] == "completed"
    assert api.post(f"/api/v1/adapter/rollouts/{pk}/cancel/").status_code == 409
    changes = api.get(f"/api/v1/adapter/rollouts/{pk}/events/").json()["results"]
    assert any(c["to_state"] == "paused" and c["reason"] == "CSP incident" and c["actor"] == str(dcc_operator)
               for c in changes)
    schema = api.get("/api/schema/?format=json").json()
    for path in ("/api/v1/adapter/rollouts/", "/api/v1/adapter/rollouts/{id}/dry-run/",
                 "/api/v1/adapter/rollouts/{id}/waves/{ordinal}/start/", "/api/v1/adapter/rollouts/{id}/pause/"):
        assert path in schema["paths"], path
