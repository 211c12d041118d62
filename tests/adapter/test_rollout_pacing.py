"""A rollout's pace, in the one engine's chunk dispatch: the most requests per second and in flight,
overall and per CSP region, counted per window with frozen time (the sender's waits move the
clock); the minute's sweep and single on-demand requests never wait on a rollout's throttle."""
import datetime as dt
from collections import Counter

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from adapter import pacing, rollouts, services, tasks
from adapter.models import Batch, SendAttempt, ServiceRequest
from tests.adapter.test_rollouts import listed, north_and_south, waves

pytestmark = pytest.mark.django_db

MOMENT = dt.datetime(2026, 6, 2, 2, 0, tzinfo=dt.UTC)


def paced(user, devices, wave_list=None, **throttle):
    return rollouts.rollout_create(actor=user, name="Paced reads", srv="4.1.1", params={},
                                   waves=wave_list or waves("rest"), device_list=listed(devices), throttle=throttle)


@pytest.fixture
def clock(monkeypatch):
    """Frozen time; a paced sender's wait moves it on instead of sleeping. Yields (traveller, waits)."""
    waits = []
    with time_machine.travel(MOMENT, tick=False) as traveller:
        def sleep(seconds):
            waits.append(seconds)
            traveller.shift(dt.timedelta(seconds=seconds))
        monkeypatch.setattr(tasks, "_sleep", sleep)
        yield traveller, waits


def attempts_of(rollout):
    return list(SendAttempt.objects.filter(request__batch__rollout=rollout).order_by("started_at")
                .values_list("started_at", "request__region"))


def most_in_any_second(times):
    """The most attempts started within any one second [t, t + 1 s)."""
    return max(sum(1 for other in times if t <= other < t + pacing.WINDOW) for t in times)


def test_throttle_figures_are_bounded_and_named(srvs, devices, supplier_a):
    for hostile in ({"max_per_second": "-1"}, {"max_per_second": 10 ** 9}, {"max_in_flight": "ten"},
                    {"max_in_flight": 1.5}, {"region_max_per_second": "0"}):
        with pytest.raises(ValidationError) as error:
            paced(supplier_a, [devices["a_esme"]], **hostile)
        assert set(error.value.message_dict) == set(hostile)
    with pytest.raises(ValidationError) as error:
        paced(supplier_a, [devices["a_esme"]], max_per_sec=5)
    assert "throttle" in error.value.message_dict
    rollout = paced(supplier_a, [devices["a_esme"]], max_per_second="50", region_max_in_flight=20)
    assert (rollout.max_per_second, rollout.region_max_in_flight, rollout.is_paced) == (50, 20, True)
    assert rollouts.throttle_text(rollout) == "50 per second; in each region 20 in flight"


def test_per_second_limit_is_honoured_over_the_wave(srvs, orgs, supplier_a, clock,
                                                     django_capture_on_commit_callbacks):
    _traveller, slept = clock
    rollout = paced(supplier_a, north_and_south(orgs["SUPA"], 23, 0), max_per_second=5)
    with django_capture_on_commit_callbacks(execute=True):
        rollouts.rollout_start(rollout=rollout, actor=supplier_a)
    rollout.refresh_from_db()
    assert rollout.state == "completed"
    times = [at for at, _region in attempts_of(rollout)]
    assert len(times) == 23
    assert most_in_any_second(times) == 5
    # five seconds of five, and the last three: the sender waited four times, one second each
    assert sorted(Counter(times).values()) == [3, 5, 5, 5, 5]
    assert times[-1] - times[0] == dt.timedelta(seconds=4)
    assert slept and all(0 < wait <= 1 for wait in slept)
    assert Batch.objects.get(rollout=rollout).paced


def test_per_region_limit_keeps_each_csp_to_its_own_rate(srvs, orgs, supplier_a, clock,
                                                          django_capture_on_commit_callbacks):
    rollout = paced(supplier_a, north_and_south(orgs["SUPA"], 6, 6), region_max_per_second=2)
    with django_capture_on_commit_callbacks(execute=True):
        rollouts.rollout_start(rollout=rollout, actor=supplier_a)
    sent = attempts_of(rollout)
    assert len(sent) == 12
    for region in ("north", "south"):
        times = [at for at, of in sent if of == region]
        assert len(times) == 6 and most_in_any_second(times) == 2
    # the regions do not wait for each other: each second both sent their two
    assert set(Counter(at for at, _region in sent).values()) == {4}


def test_in_flight_limit_waits_for_responses(srvs, orgs, supplier_a, monkeypatch,
                                              django_capture_on_commit_callbacks):
    rollout = paced(supplier_a, north_and_south(orgs["SUPA"], 7, 0), max_in_flight=2)
    with django_capture_on_commit_callbacks(execute=False) as started:
        rollouts.rollout_start(rollout=rollout, actor=supplier_a)
    rollouts.rollout_pause(rollout=rollout, actor=supplier_a)
    for callback in started:
        callback()  # the wave's check: 7 requests queued, none sent (paused)
    batch = Batch.objects.get(rollout=rollout)
    # two handed to the network, their responses still to come (DUIS answers later)
    waiting = list(ServiceRequest.objects.filter(batch=batch).order_by("pk").values_list("pk", flat=True)[:2])
    ServiceRequest.objects.filter(pk__in=waiting).update(state="sent")
    chunks = []
    real_send = tasks._send_chunk
    monkeypatch.setattr(tasks, "_send_chunk", lambda requests, backend: chunks.append(len(requests)) or
                        real_send(requests, backend))
    with django_capture_on_commit_callbacks(execute=True):
        rollouts.rollout_resume(rollout=rollout, actor=supplier_a)
    assert chunks == [] and ServiceRequest.objects.filter(batch=batch, state="queued").count() == 5
    allowance = pacing.allowance(rollout, cap=tasks.CHUNK)
    assert allowance.total == 0 and allowance.responses_awaited and "in flight limit of 2" in allowance.reason
    # the responses come; the minute's evaluation hands the rollout's sender out again
    ServiceRequest.objects.filter(pk__in=waiting).update(state="responded", outcome="I0")
    with django_capture_on_commit_callbacks(execute=True):
        tasks.rollouts_advance()
    assert ServiceRequest.objects.filter(batch=batch, state="responded").count() == 7
    assert chunks and max(chunks) <= 2 and sum(chunks) == 5


def test_single_requests_and_the_sweep_do_not_wait_on_a_rollout(srvs, orgs, devices, supplier_a, clock,
                                                               django_capture_on_commit_callbacks):
    traveller, _slept = clock
    rollout = paced(supplier_a, north_and_south(orgs["SUPA"], 4, 0), max_per_second=1)
    seen = {}

    def meanwhile(seconds):
        if not seen:
            # while the rollout waits on its throttle: the minute's sweep leaves its requests alone,
            # and a single on-demand request goes at once (the urgent path)
            queued = ServiceRequest.objects.filter(batch__rollout=rollout, state="queued").count()
            tasks.dispatch(budget=5.0)
            seen["sweep_left"] = (queued, ServiceRequest.objects.filter(batch__rollout=rollout,
                                                                        state="queued").count())
            single = services.request_submit(user=supplier_a, srv="4.1.1", device_id=devices["a_esme"].device_id,
                                             params={})
            tasks.dispatch(ids=[single.pk], cluster_name=tasks.URGENT_CLUSTER)
            single.refresh_from_db()
            seen["single"] = (single.state, single.dsp_sent_at is not None)
        traveller.shift(dt.timedelta(seconds=seconds))

    tasks._sleep = meanwhile  # the clock fixture's monkeypatch puts the real sleep back
    with django_capture_on_commit_callbacks(execute=True):
        rollouts.rollout_start(rollout=rollout, actor=supplier_a)
    assert seen["sweep_left"] == (3, 3)
    assert seen["single"] == ("responded", True)
    rollout.refresh_from_db()
    assert rollout.state == "completed"
    assert most_in_any_second([at for at, _region in attempts_of(rollout)]) == 1


def test_throttle_changes_while_running_and_is_recorded(srvs, orgs, supplier_a, supplier_b,
                                                         django_capture_on_commit_callbacks):
    rollout = paced(supplier_a, north_and_south(orgs["SUPA"], 2, 0))
    assert not rollout.is_paced
    with django_capture_on_commit_callbacks(execute=False):
        rollouts.rollout_start(rollout=rollout, actor=supplier_a)
    rollouts.rollout_throttle(rollout=rollout, actor=supplier_a, throttle={"max_per_second": 10},
                              reason="the CSP asked")
    assert Batch.objects.get(rollout=rollout).paced
    event = rollout.events.order_by("-id").first()
    assert event.actor == supplier_a and "to 10 per second: the CSP asked" in event.reason
    with pytest.raises(PermissionDenied):
        rollouts.rollout_throttle(rollout=rollout, actor=supplier_b, throttle={})
    rollouts.rollout_cancel(rollout=rollout, actor=supplier_a)
    with pytest.raises(rollouts.services.Conflict):
        rollouts.rollout_throttle(rollout=rollout, actor=supplier_a, throttle={})


def test_throttle_through_the_api_and_the_page(srvs, orgs, supplier_a, supplier_b, api_for, client_for):
    from django.urls import reverse

    devices = north_and_south(orgs["SUPA"], 2, 0)
    api = api_for(supplier_a)
    body = {"name": "API paced", "srv": "4.1.1", "device_ids": [d.device_id for d in devices],
            "waves": [{"size": 100}], "throttle": {"max_per_second": 20, "region_max_in_flight": 5}}
    bad = api.post("/api/v1/adapter/rollouts/", {**body, "throttle": {"max_per_second": -3}}, format="json")
    assert bad.status_code == 400 and "max_per_second" in str(bad.json())
    created = api.post("/api/v1/adapter/rollouts/", body, format="json").json()
    assert (created["max_per_second"], created["region_max_in_flight"], created["max_in_flight"]) == (20, 5, None)
    pk = created["id"]
    changed = api.post(f"/api/v1/adapter/rollouts/{pk}/throttle/", {"max_in_flight": 50, "reason": "CSP ok"},
                       format="json")
    assert changed.status_code == 200
    assert (changed.json()["max_per_second"], changed.json()["max_in_flight"]) == (None, 50)
    assert api_for(supplier_b).post(f"/api/v1/adapter/rollouts/{pk}/throttle/", {}, format="json").status_code == 404
    assert "/api/v1/adapter/rollouts/{id}/throttle/" in api.get("/api/schema/?format=json").json()["paths"]
    client = client_for(supplier_a)
    url = reverse("adapter:rollout_detail", args=[pk])
    assert "Throttle: 50 in flight." in client.get(url).content.decode()
    client.post(reverse("adapter:rollout_throttle", args=[pk]), {"region_max_per_second": "7", "reason": "night"})
    assert "Throttle: in each region 7 per second." in client.get(url).content.decode()
    refused = client.post(reverse("adapter:rollout_throttle", args=[pk]), {"max_per_second": "0"}, follow=True)
    assert "Most per second" in refused.content.decode()
    assert client_for(supplier_b).post(reverse("adapter:rollout_throttle", args=[pk]), {}).status_code == 404
