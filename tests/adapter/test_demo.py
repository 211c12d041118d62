"""The adapter's demo data: a request held in quarantine, waiting for a DCC operator, made through
the real submission service (a demo supplier's threshold exceeded), and made once however often
the demo loads."""
import pytest

from adapter import demo
from adapter.choices import RequestState
from adapter.models import ServiceRequest
from inventory import demo as inventory_demo
from portal import demo as portal_demo


@pytest.fixture
def demo_people(db, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    portal_demo.load()
    inventory_demo.load()


def test_the_demo_has_a_quarantined_request_waiting_for_a_decision(demo_people, django_capture_on_commit_callbacks):
    from adapter import catalogue
    from adapter.models import ServiceRequestVariant

    catalogue.load(ServiceRequestVariant)
    with django_capture_on_commit_callbacks(execute=True):
        demo.quarantined()
    held = ServiceRequest.objects.get(state=RequestState.QUARANTINED)
    assert held.user.username == "supa" and held.srv.code == demo.QUARANTINE_SRV
    assert held.released_by is None and held.notified_at is not None  # its sender was told; nobody decided yet
    assert "anomaly threshold" in held.message
    with django_capture_on_commit_callbacks(execute=True):
        demo.quarantined()  # idempotent: one is waiting already
    assert ServiceRequest.objects.filter(state=RequestState.QUARANTINED).count() == 1
    assert ServiceRequest.objects.filter(srv__code=demo.QUARANTINE_SRV).count() == 2  # the one within the limit


def test_the_quarantined_demo_request_waits_on_its_page_for_the_operator(demo_people, client_for):
    from portal.models import User

    demo.load(requests=20)
    held = ServiceRequest.objects.get(state=RequestState.QUARANTINED)
    page = client_for(User.objects.get(username="ops")).get(held.get_absolute_url())
    assert page.status_code == 200
    assert b"Release" in page.content


def test_the_demo_has_a_finished_a_stopped_and_a_waiting_rollout(demo_people, settings):
    from adapter import catalogue
    from adapter.models import Rollout, ServiceRequestVariant

    settings.ADAPTER_ROLLOUT_APPROVAL_SIZE = 10_000
    catalogue.load(ServiceRequestVariant)
    demo.rollouts()
    finished, stopped, waiting = (Rollout.objects.get(name=name) for name in demo.ROLLOUT_NAMES)
    assert finished.state == "completed" and set(finished.waves.values_list("state", flat=True)) == {"done"}
    assert stopped.state == "paused"
    stop = stopped.events.get(to_state="paused")
    assert stop.actor is None and stop.reason.startswith("Emergency stop: wave 1")
    assert waiting.state == "awaiting_approval" and waiting.needs_approval
    assert waiting.approval_reason == "7.5 is a critical SRV" and not waiting.batches.exists()
    demo.rollouts()  # idempotent
    assert Rollout.objects.count() == 3
