"""The ALCS state machine of the device simulator, with frozen time (time-machine)."""
import datetime as dt
import random

import pytest
import time_machine

from adapter.alcs import CLOSED, OPEN, Alcs, AlcsError

START = dt.datetime(2025, 1, 15, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def later(clock, **delta):
    clock.move_to(START + dt.timedelta(**delta))


def test_close_with_duration_then_open(clock):
    alcs = Alcs()
    alcs.command(1, CLOSED, duration_minutes=30)
    assert alcs.state(1) == CLOSED and alcs.state(2) == OPEN
    later(clock, minutes=29, seconds=59)
    assert alcs.state(1) == CLOSED
    later(clock, minutes=30)
    assert alcs.state(1) == OPEN and alcs.events("duration_ended")


def test_newer_command_supersedes(clock):
    alcs = Alcs()
    alcs.command(3, CLOSED, duration_minutes=60)
    later(clock, minutes=10)
    alcs.command(3, OPEN)
    assert alcs.state(3) == OPEN and alcs.events("command_superseded")
    later(clock, minutes=50)
    alcs.command(3, CLOSED)
    later(clock, hours=5)
    assert alcs.state(3) == CLOSED  # no duration: closed until changed


def test_switch_numbers_and_delay_timer_limits():
    alcs = Alcs()
    with pytest.raises(AlcsError):
        alcs.command(6, CLOSED)
    for bad in (0, 1441, "5"):
        with pytest.raises(AlcsError):
            alcs.set_delay(1, bad)
    alcs.set_delay(1, 1) or alcs.set_delay(1, 1440)


def test_random_offset_is_one_off_for_ad_hoc_commands(clock):
    alcs = Alcs()
    alcs.set_offset_limit(2, 600)
    alcs.command(2, CLOSED, rng=random.Random(4))
    offset = (dt.datetime.fromisoformat(alcs.data["switches"]["2"]["adhoc"]["from"]) - START).total_seconds()
    assert 0 < offset <= 600
    assert alcs.state(2) == OPEN
    later(clock, seconds=offset)
    assert alcs.state(2) == CLOSED


def test_calendar_in_london_time(clock):
    alcs = Alcs()
    alcs.set_calendar(4, [("23:00", "07:00")])  # crosses midnight
    assert alcs.state(4) == OPEN
    later(clock, hours=11, minutes=30)  # 23:30 in winter London
    assert alcs.state(4) == CLOSED


def test_fail_open_on_supply_loss_and_refresh_repeated_until_answered(clock):
    alcs = Alcs()
    alcs.command(1, CLOSED)
    alcs.set_delay(1, 10)
    alcs.supply_lost()
    assert alcs.states() == {n: OPEN for n in range(1, 6)}
    later(clock, minutes=5)
    alcs.supply_restored()
    assert alcs.state(1) == OPEN and alcs.data["refresh_requests"] == 1
    for minute in (6, 7, 8):
        later(clock, minutes=minute)
        alcs.tick()
    assert alcs.data["refresh_requests"] == 4 and len(alcs.take_alerts()) == 4
    alcs.answer_refresh()
    later(clock, minutes=9)
    alcs.tick()
    assert alcs.data["refresh_requests"] == 4  # answered: no more requests
    assert alcs.state(1) == OPEN  # delay timer of 10 minutes still running
    later(clock, minutes=18)
    assert alcs.state(1) == CLOSED


def test_boost_in_15_minute_steps_up_to_60(clock):
    alcs = Alcs()
    for _ in range(6):
        alcs.boost(5)
    until = dt.datetime.fromisoformat(alcs.data["switches"]["5"]["boost_until"])
    assert until == START + dt.timedelta(minutes=60)
    later(clock, minutes=59)
    assert alcs.state(5) == CLOSED
    later(clock, minutes=60)
    assert alcs.state(5) == OPEN


def test_test_flips_for_five_minutes_then_calendar_with_event(clock):
    alcs = Alcs()
    alcs.set_calendar(2, [("11:00", "13:00")])
    alcs.command(2, OPEN)
    assert alcs.state(2) == OPEN
    alcs.test(2)
    assert alcs.state(2) == CLOSED
    later(clock, minutes=5)
    assert alcs.state(2) == CLOSED  # back on its calendar (closed 11:00-13:00), not the ad hoc open
    assert alcs.events("test_started") and alcs.events("test_ended")
    assert alcs.data["switches"]["2"]["adhoc"] is None


def test_override_notified_and_refused_in_no_override_period(clock):
    alcs = Alcs()
    alcs.add_no_override_period(START + dt.timedelta(hours=1), START + dt.timedelta(hours=2))
    alcs.override(1, CLOSED, minutes=30)
    assert alcs.state(1) == CLOSED
    later(clock, minutes=30)
    assert alcs.state(1) == OPEN
    assert [a["event"] for a in alcs.take_alerts()] == ["override_start", "override_end"]
    later(clock, minutes=70)
    with pytest.raises(AlcsError, match="no-override"):
        alcs.override(1, CLOSED, minutes=10)
    assert alcs.state(1) == OPEN and alcs.events("override_refused")


@pytest.mark.django_db
def test_simulator_applies_switch_commands_and_stores_alerts(srvs, devices, supplier_a, supa_key,
                                                             django_capture_on_commit_callbacks):
    from adapter import services
    from adapter.models import Alert, SimulatedDevice
    from tests.adapter.conftest import sign_precommand

    device = devices["a_esme"]
    with django_capture_on_commit_callbacks(execute=True):
        request = services.request_submit(user=supplier_a, srv="7.5", device_id=device.device_id,
                                          params={"switch": 2, "duration": 20})
        services.request_sign(request=request, signature=sign_precommand(supa_key, request.precommand),
                              actor=supplier_a)
    alcs = Alcs(SimulatedDevice.objects.get(device=device).state)
    assert alcs.state(2) == CLOSED
    alcs.override(2, OPEN, minutes=5)
    from adapter.alcs import _store_alerts
    from adapter.models import ServiceRequest

    _store_alerts(ServiceRequest.objects.get(), alcs.take_alerts())
    assert Alert.objects.get().alert_code == "0x8F3E" and Alert.objects.get().organisation == supplier_a.organisation


def test_simulator_latency_set_to_zero_makes_every_leg_instant():
    # The benchmark runs the simulator this way (bench.runner): all timestamps equal the hand-over.
    from adapter import simulator

    zero = {"median": 0, "sigma": 0}
    profile = {**simulator.DEFAULT_PROFILE, "dsp_out": zero, "dsp_in": zero, "han": zero, "dcc_only": zero,
               "csp": {region: zero for region in ("north", "central", "south")},
               "fail_e20": {}, "fail_e21": {}}
    start = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
    outcome = simulator.simulate(srv_code="4.1.1", non_device=False, region="north", start=start, profile=profile)
    assert outcome.code == "I0" and set(outcome.times.values()) == {start}
    assert simulator.simulate(srv_code="6.14.1", non_device=True, region="", start=start,
                              profile=profile).times == {"responded_at": start}
