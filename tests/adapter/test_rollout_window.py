"""A rollout's time window in Europe/London: nothing handed over outside it, sending resumes
inside it (the minute's evaluation starts the sender again), windows across midnight, and both
clock changes (last Sunday of March: 01:00-02:00 does not happen; of October: it happens twice),
all with frozen time."""
import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError

from adapter import pacing, rollouts, tasks
from adapter.models import SendAttempt, ServiceRequest
from tests.adapter.test_rollouts import listed, north_and_south, waves

pytestmark = pytest.mark.django_db

SPRING = dt.date(2026, 3, 29)  # last Sunday of March 2026: 01:00 GMT becomes 02:00 BST
AUTUMN = dt.date(2026, 10, 25)  # last Sunday of October 2026: 02:00 BST becomes 01:00 GMT


def utc(day, hour, minute=0, second=0):
    return dt.datetime.combine(day, dt.time(hour, minute, second), tzinfo=dt.UTC)


def windowed(user, devices, start, end, **throttle):
    return rollouts.rollout_create(actor=user, name="Night reads", srv="4.1.1", params={}, waves=waves("rest"),
                                   device_list=listed(devices), throttle=throttle, window=(start, end))


def minutes_inside(rollout, since, hours):
    return sum(pacing.in_window(rollout, since + dt.timedelta(minutes=m)) for m in range(hours * 60))


def test_window_length_follows_the_clock_changes(srvs, devices, supplier_a):
    night = windowed(supplier_a, [devices["a_esme"]], "01:00", "05:00")
    assert minutes_inside(night, utc(SPRING, 0), 6) == 3 * 60  # 02:00-05:00 BST = 01:00-04:00 UTC
    assert not pacing.in_window(night, utc(SPRING, 0, 59))  # 00:59 GMT
    assert pacing.in_window(night, utc(SPRING, 1))  # 02:00 BST
    assert not pacing.in_window(night, utc(SPRING, 4))  # 05:00 BST
    assert minutes_inside(night, utc(AUTUMN, 0) - dt.timedelta(hours=1), 7) == 5 * 60  # 00:00-05:00 UTC
    assert pacing.in_window(night, utc(AUTUMN, 0, 30)) and pacing.in_window(night, utc(AUTUMN, 1, 30))  # 01:30 twice
    # across midnight: Saturday 22:00 GMT until Sunday 02:00 local, which on the spring Sunday comes at 01:00 UTC
    late = windowed(supplier_a, [devices["a_esme"]], "22:00", "02:00")
    assert minutes_inside(late, utc(SPRING, 20) - dt.timedelta(days=1), 8) == 3 * 60
    assert minutes_inside(late, utc(AUTUMN, 20) - dt.timedelta(days=1), 8) == 5 * 60  # 22:00 BST .. 02:00 GMT
    assert pacing.window_text(late) == "22:00-02:00 Europe/London"


def test_bad_windows_are_refused_naming_the_field(srvs, devices, supplier_a):
    for start, end, field in (("01:00", None, "window_end"), ("", "05:00", "window_start"),
                              ("25:00", "05:00", "window_start"), ("01:00", "'; drop", "window_end"),
                              ("03:00", "03:00", "window_end")):
        with pytest.raises(ValidationError) as error:
            windowed(supplier_a, [devices["a_esme"]], start, end)
        assert list(error.value.message_dict) == [field], (start, end)


def test_nothing_is_sent_outside_the_window_and_sending_resumes_inside_it(
        srvs, orgs, supplier_a, django_capture_on_commit_callbacks):
    devices = north_and_south(orgs["SUPA"], 4, 0)
    with time_machine.travel(utc(SPRING, 0, 30), tick=False) as traveller:  # 00:30 GMT: shut
        rollout = windowed(supplier_a, devices, "01:00", "05:00")
        with django_capture_on_commit_callbacks(execute=True):
            rollouts.rollout_start(rollout=rollout, actor=supplier_a)
        assert ServiceRequest.objects.filter(batch__rollout=rollout, state="queued").count() == 4
        for moment in (utc(SPRING, 0, 45), utc(SPRING, 0, 59, 59)):
            traveller.move_to(moment)
            with django_capture_on_commit_callbacks(execute=True):
                tasks.advance()
                tasks.rollouts_advance()
            assert not SendAttempt.objects.filter(request__batch__rollout=rollout).exists()
        traveller.move_to(utc(SPRING, 1))  # 01:00 GMT does not happen: it is 02:00 BST, inside
        with django_capture_on_commit_callbacks(execute=True):
            tasks.rollouts_advance()
    rollout.refresh_from_db()
    assert rollout.state == "completed"
    assert set(SendAttempt.objects.filter(request__batch__rollout=rollout).values_list("started_at", flat=True)) == {
        utc(SPRING, 1)}


def test_the_window_shuts_mid_wave_and_the_rest_goes_the_next_night(srvs, orgs, supplier_a, monkeypatch,
                                                                  django_capture_on_commit_callbacks):
    devices = north_and_south(orgs["SUPA"], 10, 0)
    # the autumn Sunday: 01:00-02:00 happens twice, so "until 02:00" means 02:00 GMT (01:00 UTC is still inside)
    with time_machine.travel(utc(AUTUMN, 1, 59, 58), tick=False) as traveller:
        monkeypatch.setattr(tasks, "_sleep", lambda seconds: traveller.shift(dt.timedelta(seconds=seconds)))
        rollout = windowed(supplier_a, devices, "01:00", "02:00", max_per_second=2)
        with django_capture_on_commit_callbacks(execute=True):
            rollouts.rollout_start(rollout=rollout, actor=supplier_a)
        sent = list(SendAttempt.objects.filter(request__batch__rollout=rollout).values_list("started_at", flat=True))
        assert sorted(sent) == [utc(AUTUMN, 1, 59, 58)] * 2 + [utc(AUTUMN, 1, 59, 59)] * 2
        assert ServiceRequest.objects.filter(batch__rollout=rollout, state="queued").count() == 6
        traveller.move_to(utc(AUTUMN, 12))
        with django_capture_on_commit_callbacks(execute=True):
            tasks.rollouts_advance()  # midday: shut
        assert ServiceRequest.objects.filter(batch__rollout=rollout, state="queued").count() == 6
        traveller.move_to(utc(AUTUMN + dt.timedelta(days=1), 1, 0, 30))  # Monday 01:00:30 GMT
        with django_capture_on_commit_callbacks(execute=True):
            tasks.rollouts_advance()
    rollout.refresh_from_db()
    assert rollout.state == "completed" and rollout.events.filter(to_state="completed").exists()
    assert SendAttempt.objects.filter(request__batch__rollout=rollout).count() == 10


def test_window_through_the_api_and_the_page(srvs, orgs, supplier_a, supplier_b, api_for, client_for):
    from django.urls import reverse

    devices = north_and_south(orgs["SUPA"], 1, 0)
    api = api_for(supplier_a)
    body = {"name": "Night", "srv": "4.1.1", "device_ids": [d.device_id for d in devices], "waves": [{"size": 100}],
            "window_start": "23:00", "window_end": "04:30"}
    assert "window_end" in str(api.post("/api/v1/adapter/rollouts/", {**body, "window_end": None},
                                        format="json").json())
    created = api.post("/api/v1/adapter/rollouts/", body, format="json").json()
    assert (created["window_start"], created["window_end"]) == ("23:00:00", "04:30:00")
    pk = created["id"]
    changed = api.post(f"/api/v1/adapter/rollouts/{pk}/window/", {"window_start": None, "window_end": None},
                       format="json")
    assert changed.status_code == 200 and changed.json()["window_start"] is None
    assert api_for(supplier_b).post(f"/api/v1/adapter/rollouts/{pk}/window/", {"window_start": None,
                                    "window_end": None}, format="json").status_code == 404
    assert "/api/v1/adapter/rollouts/{id}/window/" in api.get("/api/schema/?format=json").json()["paths"]
    client = client_for(supplier_a)
    client.post(reverse("adapter:rollout_window", args=[pk]), {"window_start": "01:00", "window_end": "05:00",
                                                               "reason": "quiet hours"})
    with time_machine.travel(utc(dt.date(2026, 7, 1), 12), tick=False):
        page = client.get(reverse("adapter:rollout_detail", args=[pk])).content.decode()
    assert "Time window: 01:00-05:00 Europe/London (shut now" in page
    event = api.get(f"/api/v1/adapter/rollouts/{pk}/events/").json()["results"][-1]
    assert "to 01:00-05:00 Europe/London: quiet hours" in event["reason"]
