"""request_submit: every check in order, idempotent resubmission, the two-step critical flow,
quarantine with notice, counters."""
import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone

from adapter import services
from adapter.choices import RequestState
from adapter.models import AnomalyThreshold, SendAttempt, ServiceRequest
from adapter.signing import get_signer

pytestmark = pytest.mark.django_db


def submit(user, srv, device_id, params=None, **extra):
    return services.request_submit(user=user, srv=srv, device_id=device_id, params=params or {}, **extra)


def test_valid_request_is_acknowledged_and_sent(srvs, devices, supplier_a, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        request = submit(supplier_a, "4.1.1", "00db1234567890a0")
    assert request.outcome == "I99" and request.received_at is not None
    request.refresh_from_db()
    assert request.state == RequestState.RESPONDED and request.outcome == "I0"
    assert request.received_at <= request.dsp_sent_at < request.wan_delivered_at < request.device_responded_at
    assert request.device_responded_at < request.wan_returned_at < request.responded_at
    assert request.completed_at is not None and request.region == "north"
    assert request.request_id == "90-B3-D5-1F-30-01-00-01:00-DB-12-34-56-78-90-A0:1"
    assert SendAttempt.objects.filter(request=request, attempt=1, state="done").count() == 1


@pytest.mark.parametrize("srv, device, params, code, words", [
    ("4.2", "a_esme", {}, "E2", "may not send 4.2"),                 # ES/ED only; SUPB has IS GS
    ("4.1.1", None, {}, "E19", "unknown"),
    ("7.1", "b_gsme", {}, "E11", "does not apply to a GSME"),
    ("4.1.1", "a_esme", {}, "E4", "not responsible"),
    ("4.1.1", "b_pending", {}, "E5", "pending"),
    ("7.5", "b_esme", {"switch": 6}, "E40", "switch: must be at most 5"),
])
def test_each_check_answers_its_code(srvs, orgs, supplier_b, devices, srv, device, params, code, words):
    from tests.adapter.conftest import make_device

    extra = {
        "b_gsme": make_device("00-DB-12-34-56-78-90-B1", orgs["SUPB"], device_type="GSME"),
        "b_pending": make_device("00-DB-12-34-56-78-90-B2", orgs["SUPB"], status="pending"),
    }
    target = {**devices, **extra}[device].device_id if device else "00-DB-FF-FF-FF-FF-FF-FF"
    request = submit(supplier_b, srv, target, params)
    assert request.state == RequestState.REJECTED
    assert request.outcome == code, request.message
    assert words in request.message
    assert request.completed_at is not None
    assert not SendAttempt.objects.filter(request=request).exists()


def test_checks_run_in_order(srvs, supplier_b, devices):
    # role fails before device: 4.2 to an unknown device is E2, not E19
    assert submit(supplier_b, "4.2", "00-DB-FF-FF-FF-FF-FF-FF").outcome == "E2"
    # device type before responsibility: a gas SRV on A's ESME is E11 not E4
    assert submit(supplier_b, "6.6", devices["a_esme"].device_id).outcome == "E11"
    # responsibility before status: A's pending device is E4 for B
    assert submit(supplier_b, "4.1.1", devices["a_decom"].device_id).outcome == "E4"


def test_parameter_errors_name_the_field(srvs, supplier_a, devices):
    device = devices["a_esme"].device_id
    assert "Invalid parameter seconds: is required" in submit(supplier_a, "7.12", device, {}).message
    assert "boost_minutes: must be a multiple of 15" in submit(
        supplier_a, "7.9", device, {"switch": 1, "boost_minutes": 20}).message
    assert "colour: is not a parameter" in submit(supplier_a, "7.6", device, {"switch": 1, "colour": 1}).message
    later = timezone.now() + dt.timedelta(hours=2)
    assert "cannot be future-dated" in submit(supplier_a, "7.5", device, {"switch": 1}, execute_at=later).message


def test_resubmitted_id_returns_the_stored_request_and_sends_nothing(
        srvs, supplier_a, devices, django_capture_on_commit_callbacks):
    rid = "90-B3-D5-1F-30-01-00-01:00-DB-12-34-56-78-90-A0:777"
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        first = submit(supplier_a, "4.1.1", devices["a_esme"].device_id, request_id=rid)
    assert len(callbacks) == 1 and not first.resubmitted
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        again = submit(supplier_a, "4.1.1", devices["a_esme"].device_id, request_id=rid.lower())
    assert again.pk == first.pk and again.resubmitted
    assert callbacks == []
    assert ServiceRequest.objects.count() == 1
    assert SendAttempt.objects.filter(request=first).count() == 1


def test_request_id_must_be_the_users_own(srvs, supplier_a, devices):
    with pytest.raises(services.SubmitRefused, match="originator"):
        submit(supplier_a, "4.1.1", devices["a_esme"].device_id,
               request_id="90-B3-D5-1F-30-01-00-02:00-DB-12-34-56-78-90-A0:1")


def test_counters_are_per_originator_and_consecutive(srvs, supplier_a, devices):
    first = services.counters_allocate(originator=supplier_a.organisation.user_id, count=10)
    second = services.counters_allocate(originator=supplier_a.organisation.user_id)
    assert (first, second) == (1, 11)
    request = submit(supplier_a, "4.1.1", devices["a_esme"].device_id)
    assert request.counter == 12


def test_critical_request_is_transformed_signed_then_sent(
        srvs, supplier_a, devices, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        request = submit(supplier_a, "7.5", devices["a_esme"].device_id, {"switch": 2, "duration": 30})
    request.refresh_from_db()
    assert "<sr:ActivateAuxiliaryLoad>" in request.precommand and 'index="2"' in request.precommand
    assert "<sr:CommandVariant>4</sr:CommandVariant>" in request.precommand  # DUIS: transform request
    assert request.received_at <= request.precommand_at <= request.signed_at <= request.dsp_sent_at
    assert get_signer().verify(user_key=supplier_a.pk, payload=request.precommand, signature=request.signature)
    assert request.state == RequestState.RESPONDED


def test_unsigned_critical_request_is_not_sent(srvs, supplier_a, devices, django_capture_on_commit_callbacks):
    from adapter import tasks

    request = submit(supplier_a, "7.2", devices["a_esme"].device_id)
    ServiceRequest.objects.filter(pk=request.pk).update(signature="forged", attempts=2)
    tasks.dispatch(ids=[request.pk])
    request.refresh_from_db()
    assert request.state == RequestState.FAILED and request.outcome == "E20"


def test_over_threshold_is_quarantined_and_the_user_told(srvs, supplier_a, dcc_operator, devices,
                                                         django_capture_on_commit_callbacks):
    AnomalyThreshold.objects.create(organisation=supplier_a.organisation, srv=srvs["4.1.1"], period="hour", limit=2)
    device = devices["a_esme"].device_id
    with django_capture_on_commit_callbacks(execute=True):
        states = [submit(supplier_a, "4.1.1", device).state for _ in range(3)]
    assert states[:2] == [RequestState.QUEUED, RequestState.QUEUED] or all(
        s != RequestState.QUARANTINED for s in states[:2])
    third = ServiceRequest.objects.order_by("-pk").first()
    assert third.state == RequestState.QUARANTINED and third.notified_at is not None
    assert any("quarantined" in m.subject for m in mail.outbox)
    # another SRV is not counted against the 4.1.1 threshold
    assert submit(supplier_a, "7.4", device).state != RequestState.QUARANTINED
    with django_capture_on_commit_callbacks(execute=True):
        services.request_release(request=third, actor=dcc_operator)
    third.refresh_from_db()
    assert third.state == RequestState.RESPONDED and third.released_by == dcc_operator


def test_cancel_only_before_sending(srvs, supplier_a, devices):
    later = timezone.now() + dt.timedelta(hours=3)
    held = submit(supplier_a, "4.1.1", devices["a_esme"].device_id, execute_at=later)
    assert held.state == RequestState.QUEUED and held.measurement_type == "future_dated"
    services.request_cancel(request=held, actor=supplier_a)
    assert held.state == RequestState.CANCELLED and held.completed_at is not None
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        services.request_cancel(request=held, actor=supplier_a)


def test_a_single_request_and_its_continuation_stay_on_the_urgent_queue(srvs, devices, supplier_a, monkeypatch):
    """Single requests go to the urgent cluster; when a dispatch outlives its time budget (a slow
    DSP, a loaded machine), the rest it hands on must stay on that queue, never behind a batch."""
    import django_q.tasks

    from adapter import tasks

    queued = []
    monkeypatch.setattr(django_q.tasks, "async_task", lambda func, **kwargs: queued.append((func, kwargs)))
    request = submit(supplier_a, "4.1.1", "00db1234567890a0")
    services._enqueue_dispatch([request.pk])
    assert queued[-1][1]["cluster"] == tasks.URGENT_CLUSTER
    assert queued[-1][1]["cluster_name"] == tasks.URGENT_CLUSTER
    tasks.dispatch(ids=[request.pk], budget=-1, cluster_name=tasks.URGENT_CLUSTER)  # over budget at once
    func, kwargs = queued[-1]
    assert func == "adapter.tasks.dispatch" and kwargs["cluster"] == tasks.URGENT_CLUSTER
    assert kwargs["cluster_name"] == tasks.URGENT_CLUSTER and kwargs["ids"] == [request.pk]
    # A dispatch of the main queue (a batch's, the sweep's) hands on to the main queue, as before.
    second = submit(supplier_a, "4.1.1", "00db1234567890a0")
    assert tasks.dispatch(ids=[second.pk], budget=-1) == 1
    assert "cluster" not in queued[-1][1] and queued[-1][1]["ids"] == [second.pk]
