"""The DUIS codec (fixtures of every required SRV, acknowledgements and errors, the commands) and
the duis backend against headend_sim running as a real server in another process."""
import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.management import call_command

from adapter import backends, duis
from adapter.choices import RequestState
from adapter.models import ServiceRequest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "duis"
REQUIRED = ["4.1.1", "4.17", "6.14.1", "7.1", "7.2", "7.4", "7.5", "7.6", "7.8", "7.9", "7.12", "8.2", "11.2", "11.3"]


@pytest.mark.parametrize("code", REQUIRED)
def test_fixture_requests_parse_and_render_back(code):
    text = (FIXTURES / f"request_{code.replace('.', '_')}.xml").read_text()
    parsed = duis.parse(text)
    header = parsed["header"]
    assert header["serviceReferenceVariant"] == code
    assert header["serviceReference"] == ".".join(code.split(".")[:2])
    assert header["requestId"]["originatorId"] == "90-B3-D5-1F-30-01-00-01" and header["requestId"]["counter"] > 1000
    assert list(parsed["body"]) == [duis.SERVICES[code][0]]
    request_id = "{originatorId}:{targetId}:{counter}".format(**header["requestId"])
    again = duis.render_request(request_id=request_id, srv_code=code, params=parsed["params"],
                                execute_at=parsed["executeAt"], critical=header["commandVariant"] in (2, 3),
                                non_device=header["commandVariant"] == 8,
                                signature="3f1c9a0b7e" if header["commandVariant"] == 2 else "")
    assert again.strip() == text.strip()


def test_activate_auxiliary_load_shape():
    parsed = duis.parse((FIXTURES / "request_7_5.xml").read_bytes())
    assert parsed["body"] == {"ActivateAuxiliaryLoad": {"ActivateALCSHCALCS": {"@index": "1", "Duration": "30"}}}
    assert parsed["params"] == {"switch": 1, "duration": 30}
    assert 'schemaVersion="5.1"' in (FIXTURES / "request_7_5.xml").read_text()
    assert f'xmlns:sr="{duis.NS}"' in (FIXTURES / "request_7_5.xml").read_text()


def test_acknowledgement_error_and_success_responses():
    ack = duis.parse((FIXTURES / "response_ack_I99.xml").read_bytes())
    assert ack["kind"] == "response" and ack["header"]["responseCode"] == "I99" and ack["body"] == {}
    error = duis.parse((FIXTURES / "response_error_E19.xml").read_bytes())
    assert error["header"]["responseCode"] == "E19"
    assert error["body"]["ResponseMessage"] == {"ErrorCode": "E19", "ErrorText": "Device unknown"}
    ok = duis.parse((FIXTURES / "response_4_1_1_I0.xml").read_bytes())
    assert ok["body"]["ReadInstantaneousImportRegistersResponse"]["ImportRegister"] == {"@unit": "kWh",
                                                                                          "#text": "48213"}
    with pytest.raises(duis.DuisError, match="namespace"):
        duis.parse("<Request><Header/></Request>")
    with pytest.raises(duis.DuisError, match="well-formed"):
        duis.parse("<sr:Request")


def test_parse_command_prints_the_json_shape(capsys):
    call_command("duis", "parse", str(FIXTURES / "request_7_12.xml"))
    out = json.loads(capsys.readouterr().out)
    assert out["header"] == {"requestId": {"originatorId": "90-B3-D5-1F-30-01-00-01",
                                           "targetId": "00-DB-12-34-56-78-90-A0", "counter": 1011},
                             "serviceReference": "7.12", "serviceReferenceVariant": "7.12", "commandVariant": 2}
    assert out["body"] == {"SetRandomisedOffsetLimit": {"RandomisedOffsetLimit": "900"}}


@pytest.mark.django_db
def test_render_command_prints_a_stored_request(srvs, devices, supplier_a, capsys):
    from adapter import services

    request = services.request_submit(user=supplier_a, srv="7.9", device_id=devices["a_esme"].device_id,
                                      params={"switch": 2, "boost_minutes": 30})
    call_command("duis", "render", request.request_id)
    out = capsys.readouterr().out
    assert "<sr:AddAuxiliaryLoadToBoostButton>" in out and "<sr:BoostDuration>30</sr:BoostDuration>" in out
    assert duis.parse(out)["params"] == {"switch": 2, "boost_minutes": 30}


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def headend():
    port = _free_port()
    process = subprocess.Popen([sys.executable, "manage.py", "headend_sim", "--port", str(port), "--failure-rate",
                                "0", "--seed", "7"], cwd=Path(__file__).resolve().parents[2],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
        except OSError:
            time.sleep(0.1)
    else:
        process.kill()
        pytest.fail("headend_sim did not start: " + process.stderr.read())
    yield f"http://127.0.0.1:{port}/duis"
    process.terminate()
    process.wait(timeout=10)


@pytest.mark.django_db
def test_duis_backend_against_headend_subprocess(srvs, devices, supplier_a, headend, settings,
                                                 django_capture_on_commit_callbacks):
    from adapter import services, tasks

    settings.ADAPTER_BACKEND = "duis"
    settings.ADAPTER_DUIS_URL = headend
    backends.DuisBackend.breaker = backends.CircuitBreaker()
    with django_capture_on_commit_callbacks(execute=True):
        read = services.request_submit(user=supplier_a, srv="4.1.1", device_id=devices["a_esme"].device_id,
                                       params={})
        switch = services.request_submit(user=supplier_a, srv="7.5", device_id=devices["a_esme"].device_id,
                                         params={"switch": 4, "duration": 15})
    for request in (read, switch):
        request.refresh_from_db()
        assert request.state == RequestState.RESPONDED and request.outcome == "I0"
        assert request.dsp_sent_at < request.wan_delivered_at < request.device_responded_at < request.responded_at
    assert "#text" in json.dumps(read.response) or "ImportRegister" in read.response
    assert switch.send_attempts.get().backend == "duis"
    # device-held future-dated request: acknowledged I99 and left "sent" until the response comes
    from django.utils import timezone

    later = timezone.now() + timezone.timedelta(hours=1)
    with django_capture_on_commit_callbacks(execute=True):
        held = services.request_submit(user=supplier_a, srv="11.3", device_id=devices["a_esme"].device_id,
                                       params={"firmware_version": "0A0B0C0D"}, execute_at=later)
    held.refresh_from_db()
    assert held.state == RequestState.SENT and held.outcome == "I99" and held.completed_at is None
    # the response is collected from the head-end once the execution time has passed
    assert tasks.collect(now=later - timezone.timedelta(minutes=1)) == 0
    assert tasks.collect(now=later + timezone.timedelta(minutes=1)) == 1
    held.refresh_from_db()
    assert held.state == RequestState.RESPONDED and held.outcome == "I0" and held.completed_at is not None
    assert held.device_responded_at >= later and held.responded_at > held.device_responded_at
    # one the head-end never answers for ends as E30 after its time limit
    with django_capture_on_commit_callbacks(execute=True):
        lost = services.request_submit(user=supplier_a, srv="11.3", device_id=devices["a_esme"].device_id,
                                       params={"firmware_version": "0A0B0C0E"}, execute_at=later)
    from adapter.models import ServiceRequest

    ServiceRequest.objects.filter(pk=lost.pk).update(request_id=lost.request_id + "0")  # head-end knows it not
    assert tasks.collect(now=later + timezone.timedelta(minutes=1)) == 0
    assert tasks.time_out(now=later + timezone.timedelta(hours=25)) == 1
    lost.refresh_from_db()
    assert lost.state == RequestState.TIMED_OUT and lost.outcome == "E30" and lost.completed_at is not None


@pytest.mark.django_db
def test_duis_backend_retries_then_opens_the_circuit(srvs, devices, supplier_a, settings):
    from adapter import services

    settings.ADAPTER_DUIS_URL = f"http://127.0.0.1:{_free_port()}/duis"  # nothing listens there
    request = services.request_submit(user=supplier_a, srv="4.1.1", device_id=devices["a_esme"].device_id,
                                      params={})
    request = ServiceRequest.objects.select_related("srv").get(pk=request.pk)
    calls = []
    real = backends.transport

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    backend = backends.DuisBackend(timeout=0.5, retries=3, backoff=0.01)
    backend.breaker = backends.CircuitBreaker(threshold=5, cooldown=60)
    backends.transport, saved = counting, backends.transport
    try:
        with pytest.raises(backends.BackendError, match="after 3 tries"):
            backend.send(request, attempt=1)
        with pytest.raises(backends.BackendError, match="circuit open"):
            backend.send(request, attempt=2)
            backend.send(request, attempt=3)
    finally:
        backends.transport = saved
    assert len(calls) == 5 and backend.breaker.is_open
