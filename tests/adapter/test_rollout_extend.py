"""A population from the failed devices of an earlier rollout (of a class, or any), and extending a
running rollout with new devices as a new last wave (a device already in it is refused)."""
import pytest
from django.core.exceptions import ValidationError

from adapter import rollouts
from adapter.models import RolloutMember
from tests.adapter.test_rollouts import listed, north_and_south, waves

pytestmark = pytest.mark.django_db


def test_a_population_from_the_failures_of_an_earlier_rollout(srvs, orgs, supplier_a, supplier_b, quiet_simulator,
                                                              django_capture_on_commit_callbacks):
    quiet_simulator.configure(fail_e20={"south": 1.0})
    devices = north_and_south(orgs["SUPA"], 2, 3)
    devices[0].status = "pending"  # E5 at the check: an eligibility failure
    devices[0].save(update_fields=["status"])
    earlier = rollouts.rollout_create(actor=supplier_a, name="First go", srv="4.1.1", params={},
                                      waves=waves("rest", success=10, error=100), device_list=listed(devices))
    with django_capture_on_commit_callbacks(execute=True):
        rollouts.rollout_start(rollout=earlier, actor=supplier_a)
    south = {d.device_id for d in devices[2:]}
    assert {r for r, _pk in rollouts.failed_members(earlier.pk, "communication")} == south
    assert [r for r, _pk in rollouts.failed_members(earlier.pk, "eligibility")] == [devices[0].device_id]
    assert len(rollouts.failed_members(earlier.pk)) == 4
    quiet_simulator.configure(fail_e20={"south": 0})
    again = rollouts.rollout_create(actor=supplier_a, name="Second go", srv="4.1.1", params={}, waves=waves("rest"),
                                    from_rollout=earlier, failure_class="communication")
    with django_capture_on_commit_callbacks(execute=True):
        rollouts.rollout_start(rollout=again, actor=supplier_a)
    again.refresh_from_db()
    assert again.state == "completed" and again.population_source == "failures" and again.population_size == 3
    assert set(RolloutMember.objects.filter(rollout=again).values_list("device_ref", flat=True)) == south
    with pytest.raises(ValidationError) as refused:  # another supplier's rollout is not a population
        rollouts.rollout_create(actor=supplier_b, name="x", srv="4.1.1", params={}, waves=waves("rest"),
                                from_rollout=earlier)
    assert "from_rollout" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        rollouts.rollout_create(actor=supplier_a, name="x", srv="4.1.1", params={}, waves=waves("rest"),
                                from_rollout=earlier, failure_class="<script>")
    assert "failure_class" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        rollouts.rollout_create(actor=supplier_a, name="x", srv="4.1.1", params={}, waves=waves("rest"),
                                from_rollout=earlier, device_list=devices[0].device_id)
    assert "population" in refused.value.message_dict


def test_extend_a_running_rollout_with_a_new_wave(srvs, orgs, supplier_a, api_for,
                                                  django_capture_on_commit_callbacks):
    first = north_and_south(orgs["SUPA"], 3, 0)
    more = north_and_south(orgs["SUPA"], 2, 0, prefix="00-DB-7B-00-00")
    rollout = rollouts.rollout_create(actor=supplier_a, name="Growing", srv="4.1.1", params={},
                                      waves=waves(1, "rest", auto=False), device_list=listed(first))
    with django_capture_on_commit_callbacks(execute=True):
        rollouts.rollout_start(rollout=rollout, actor=supplier_a)
    with pytest.raises(ValidationError) as refused:
        rollouts.rollout_extend(rollout=rollout, actor=supplier_a, device_list=listed([more[0], first[1]]))
    assert "in the rollout already" in refused.value.message_dict["device_list"][0]
    assert first[1].device_id in refused.value.message_dict["device_list"][0]
    wave = rollouts.rollout_extend(rollout=rollout, actor=supplier_a, device_list=listed(more), reason="late ones")
    assert (wave.ordinal, wave.member_count, wave.state) == (3, 2, "pending")
    api = api_for(supplier_a)
    dup = api.post(f"/api/v1/adapter/rollouts/{rollout.pk}/extend/", {"device_ids": [more[0].device_id]},
                   format="json")
    assert dup.status_code == 400 and "device_list" in str(dup.json())
    with django_capture_on_commit_callbacks(execute=True):
        rollouts.wave_start(wave=rollout.waves.get(ordinal=2), actor=supplier_a)
    assert rollout.waves.get(ordinal=3).state == "ready"
    with django_capture_on_commit_callbacks(execute=True):
        rollouts.wave_start(wave=rollout.waves.get(ordinal=3), actor=supplier_a)
    rollout.refresh_from_db()
    assert rollout.state == "completed" and rollout.population_size == 5
    assert RolloutMember.objects.filter(rollout=rollout).count() == 5
    assert rollout.events.filter(reason="extended with 2 devices as wave 3: late ones").exists()
    assert api.post(f"/api/v1/adapter/rollouts/{rollout.pk}/extend/", {"device_ids": ["00-DB-7C-00-00-00-00-01"]},
                    format="json").status_code == 409  # completed: no longer extended
