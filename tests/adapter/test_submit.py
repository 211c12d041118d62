"""request_submit: every check in order, idempotent resubmission, the two-step critical flow,
quarantine with notice, counters."""
import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone

from adapter import services
from adapter.choices import RequestState
from adapter.models import AnomalyThreshold, SendAttempt, ServiceRequest
from tests.adapter.conftest import sign_precommand

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


def test_checks_run_in_order(srvs, supplier_a, supplier_b, devices):
    # role fails before device: 4.2 to an unknown device is E2, not E19
    assert submit(supplier_b, "4.2", "00-DB-FF-FF-FF-FF-FF-FF").outcome == "E2"
    # responsibility before device type: a gas SRV on A's ESME is E4 for B (E11 would tell B the type)
    assert submit(supplier_b, "6.6", devices["a_esme"].device_id).outcome == "E4"
    assert submit(supplier_a, "6.6", devices["a_esme"].device_id).outcome == "E11"
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
        srvs, supplier_a, devices, supa_key, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        request = submit(supplier_a, "7.5", devices["a_esme"].device_id, {"switch": 2, "duration": 30})
    request.refresh_from_db()
    # the portal stops at the pre-command: nothing is sent until the user's own key signs it
    assert request.state == RequestState.AWAITING_SIGNATURE and not request.signature and not request.signed_at
    assert not request.send_attempts.exists()
    assert "<sr:ActivateAuxiliaryLoad>" in request.precommand and 'index="2"' in request.precommand
    assert "<sr:CommandVariant>4</sr:CommandVariant>" in request.precommand  # DUIS: transform request
    with django_capture_on_commit_callbacks(execute=True):
        services.request_sign(request=request, signature=sign_precommand(supa_key, request.precommand),
                              actor=supplier_a)
    request.refresh_from_db()
    assert request.received_at <= request.precommand_at <= request.signed_at <= request.dsp_sent_at
    assert request.state == RequestState.RESPONDED


def test_unsigned_critical_request_is_not_sent(srvs, supplier_a, devices, django_capture_on_commit_callbacks):
    from adapter import tasks

    request = submit(supplier_a, "7.2", devices["a_esme"].device_id)
    # even pushed into the queue with a made-up signature, the dispatch refuses it
    ServiceRequest.objects.filter(pk=request.pk).update(state=RequestState.QUEUED, signature="forged", attempts=2)
    tasks.dispatch(ids=[request.pk])
    request.refresh_from_db()
    assert request.state == RequestState.FAILED and request.outcome == "E20"
    assert "without a valid signature" in request.message
    assert request.dsp_sent_at is None


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


def test_another_suppliers_device_is_refused_alike_whatever_the_srv(srvs, supplier_b, devices, api_for):
    """B learns nothing of A's device from a refusal: a wrong-type SRV (6.6, gas, on an ESME), a
    right-type one (4.1.1) and one its status would refuse (A's pending ESME) answer the same E4,
    and neither the message, the stored request nor the API's answer names its type, region or status."""
    esme, gsme, pending = devices["a_esme"], devices["a_gsme"], devices["a_decom"]
    refusals = [submit(supplier_b, srv, device.device_id)
                for srv, device in (("6.6", esme), ("4.1.1", esme), ("4.1.1", gsme), ("6.6", gsme),
                                    ("4.1.1", pending))]
    for request in refusals:
        assert request.outcome == "E4"
        assert request.message == f"Your organisation is not responsible for device {request.device_ref}."
        assert request.device_id is None and request.region == ""
    for word in ("ESME", "GSME", "north", "south", "pending", "gas", "electricity"):
        assert all(word.lower() not in request.message.lower() for request in refusals), word
    api = api_for(supplier_b)
    answers = [api.post("/api/adapter/requests/", {"srv": srv, "device_id": esme.device_id}, format="json")
               for srv in ("6.6", "4.1.1")]
    assert [a.status_code for a in answers] == [422, 422]
    bodies = [{k: v for k, v in a.json().items() if k not in ("id", "request_id", "srv", "received_at",
                                                                 "completed_at", "start_at", "measurement_type")}
              for a in answers]
    assert bodies[0] == bodies[1], bodies
    assert bodies[0]["region"] == "" and bodies[0]["outcome"] == "E4"
