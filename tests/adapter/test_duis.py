"""The DUIS codec (fixtures of every required SRV, acknowledgements and errors, the commands) and
the duis backend against headend_sim running as a real server in another process."""
import datetime as dt
import json
import socket
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from django.core.management import call_command

from adapter import backends, duis
from adapter.choices import RequestState
from adapter.models import ServiceRequest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "duis"
REQUIRED = ["4.1.1", "4.17", "6.14.1", "7.1", "7.2", "7.4", "7.5", "7.6", "7.8", "7.9", "7.12", "8.2", "11.2", "11.3"]
NS = "{http://www.dccinterface.co.uk/ServiceUserGateway}"
# What Smart DCC's published templates (SmartDCCInnovation/duis-templates) show for the SRVs they
# cover: the CommandVariant of the template, the Body element and the element paths inside it.
TEMPLATE_SHAPES = {
    "4.1.1": (1, "ReadInstantaneousImportRegisters", []),
    "4.17": (1, "RetrieveDailyConsumptionLog", ["ReadLogPeriod", "ReadLogPeriod/StartDateTime",
                                                "ReadLogPeriod/EndDateTime"]),
    "7.1": (4, "EnableSupply", []),
    "7.2": (4, "DisableSupply", []),
    "7.4": (1, "ReadSupplyStatus", []),
    "7.12": (4, "SetRandomisedOffsetLimit", ["RandomisedOffsetLimit"]),
    "8.2": (8, "ReadInventory", ["DeviceID"]),
    "11.2": (1, "ReadFirmwareVersion", []),
    "11.3": (4, "ActivateFirmware", ["ExecutionDateTime", "FirmwareHash"]),
}


def _paths(element, prefix=""):
    out = []
    for child in element:
        name = prefix + child.tag.replace(NS, "")
        out.append(name)
        out.extend(_paths(child, name + "/"))
    return out


@pytest.mark.parametrize("code", REQUIRED)
def test_fixture_requests_parse_and_render_back(code):
    text = (FIXTURES / f"request_{code.replace('.', '_')}.xml").read_text()
    parsed = duis.parse(text)
    header = parsed["header"]
    assert header["serviceReferenceVariant"] == code
    assert header["serviceReference"] == ".".join(code.split(".")[:2])
    assert header["requestId"]["originatorId"] == "90-B3-D5-1F-30-01-00-01" and header["requestId"]["counter"] > 1000
    assert list(parsed["body"]) == [duis.SERVICES[code][0]]
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    request_id = "{originatorId}:{targetId}:{counter}".format(**header["requestId"])
    period = parsed["body"][duis.SERVICES[code][0]]
    again = duis.render_request(request_id=request_id, srv_code=code, params=parsed["params"],
                                execute_at=parsed["executeAt"], critical=header["commandVariant"] in (4, 5),
                                non_device=header["commandVariant"] == 8,
                                signature="3f1c9a0b7e" if header["commandVariant"] == 5 else "",
                                now=period["ReadLogPeriod"]["EndDateTime"] if code == "4.17" else None)
    assert again == text


@pytest.mark.parametrize("code", sorted(TEMPLATE_SHAPES))
def test_fixtures_have_the_published_template_structure(code):
    variant, element, paths = TEMPLATE_SHAPES[code]
    root = ET.fromstring((FIXTURES / f"request_{code.replace('.', '_')}.xml").read_bytes())
    assert root.tag == NS + "Request" and root.get("schemaVersion")
    header = root.find(NS + "Header")
    assert [child.tag.replace(NS, "") for child in header] == [
        "RequestID", "CommandVariant", "ServiceReference", "ServiceReferenceVariant"]
    assert header.find(NS + "CommandVariant").text == str(variant)
    body = root.find(NS + "Body")
    assert [child.tag.replace(NS, "") for child in body] == [element]
    assert _paths(body[0]) == paths
    assert code in duis.VERIFIED


def test_command_variants_are_the_duis_values():
    assert duis.command_variant(critical=False, non_device=False) == 1
    assert duis.command_variant(critical=True, non_device=False) == 4
    assert duis.command_variant(critical=True, non_device=False, signed=True) == 5
    assert duis.command_variant(critical=False, non_device=True) == 8


def test_daily_consumption_log_period_and_firmware_hash():
    text = duis.render_request(request_id="90-B3-D5-1F-30-01-00-01:00-DB-12-34-56-78-90-A0:7", srv_code="4.17",
                               params={"days": 3}, now=dt.datetime(2025, 6, 1, 17, 45, tzinfo=dt.UTC))
    assert "<sr:StartDateTime>2025-05-29T00:00:00.00Z</sr:StartDateTime>" in text
    assert "<sr:EndDateTime>2025-06-01T00:00:00.00Z</sr:EndDateTime>" in text
    assert duis.parse(text)["params"] == {"days": 3}
    parsed = duis.parse((FIXTURES / "request_11_3.xml").read_bytes())
    assert parsed["executeAt"] == "2025-03-30T01:30:00.00Z" and len(parsed["params"]["firmware_hash"]) == 64
    inventory = duis.parse((FIXTURES / "request_8_2.xml").read_bytes())
    assert inventory["body"] == {"ReadInventory": {"DeviceID": "00-DB-12-34-56-78-90-A0"}}


def test_parse_accepts_the_published_layout():
    """Compact documents with a full enveloped XML signature, another schemaVersion and other
    prefixes parse the same (the signature is ignored, not verified)."""
    signature = ('<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo>'
                 '<ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>'
                 '<ds:Reference URI=""><ds:DigestValue>AAAA</ds:DigestValue></ds:Reference></ds:SignedInfo>'
                 '<ds:SignatureValue>QUJD</ds:SignatureValue><ds:KeyInfo><ds:X509Data><ds:X509IssuerSerial>'
                 '<ds:X509IssuerName>CN=T1, OU=01</ds:X509IssuerName><ds:X509SerialNumber>42</ds:X509SerialNumber>'
                 '</ds:X509IssuerSerial></ds:X509Data></ds:KeyInfo></ds:Signature>')
    request = ('<?xml version="1.0" encoding="UTF-8"?><x:Request xmlns:x="http://www.dccinterface.co.uk/'
               'ServiceUserGateway" schemaVersion="5.4"><x:Header><x:RequestID>90-B3-D5-1F-30-01-00-01:'
               '00-DB-12-34-56-78-90-A1:55</x:RequestID><x:CommandVariant>4</x:CommandVariant><x:ServiceReference>'
               '7.12</x:ServiceReference><x:ServiceReferenceVariant>7.12</x:ServiceReferenceVariant></x:Header>'
               '<x:Body><x:SetRandomisedOffsetLimit><x:RandomisedOffsetLimit>120</x:RandomisedOffsetLimit>'
               '</x:SetRandomisedOffsetLimit></x:Body>' + signature + '</x:Request>')
    parsed = duis.parse(request)
    assert parsed["header"]["commandVariant"] == 4 and parsed["params"] == {"seconds": 120}
    assert list(parsed["body"]) == ["SetRandomisedOffsetLimit"]
    response = ('<?xml version="1.0" encoding="UTF-8" standalone="no"?><sr:Response xmlns:sr="http://www.'
                'dccinterface.co.uk/ServiceUserGateway" xmlns:ra="http://www.dccinterface.co.uk/ResponseAndAlert"'
                ' schemaVersion="5.1"><sr:Header><sr:RequestID>90-B3-D5-1F-30-01-00-01:00-DB-12-34-56-78-90-A1:56'
                '</sr:RequestID><sr:ResponseID>00-DB-12-34-56-78-90-A1:90-B3-D5-1F-30-01-00-01:56</sr:ResponseID>'
                '<sr:ResponseCode>I0</sr:ResponseCode><sr:ResponseDateTime>2025-02-03T04:05:06.789Z'
                '</sr:ResponseDateTime></sr:Header><sr:Body><sr:ResponseMessage><sr:ServiceReference>11.2'
                '</sr:ServiceReference><sr:ServiceReferenceVariant>11.2</sr:ServiceReferenceVariant><sr:GBCSPayload>'
                '3QAAAAAAAAAA</sr:GBCSPayload></sr:ResponseMessage></sr:Body>' + signature + '</sr:Response>')
    parsed = duis.parse(response)
    assert parsed["header"]["responseId"] == "00-DB-12-34-56-78-90-A1:90-B3-D5-1F-30-01-00-01:56"
    assert parsed["header"]["serviceReferenceVariant"] == "11.2" and parsed["header"]["responseCode"] == "I0"
    assert parsed["body"]["ResponseMessage"]["GBCSPayload"] == "3QAAAAAAAAAA"
    assert parsed["payload"] is None  # real GBCS: not the simulator's stand-in


def test_activate_auxiliary_load_shape():
    parsed = duis.parse((FIXTURES / "request_7_5.xml").read_bytes())
    assert parsed["body"] == {"ActivateAuxiliaryLoad": {"ActivateALCSHCALCS": {"@index": "1", "Duration": "30"}}}
    assert parsed["params"] == {"switch": 1, "duration": 30}
    assert parsed["header"]["commandVariant"] == 5  # signed pre-command (ds:Signature is a stub)
    assert 'schemaVersion="5.1"' in (FIXTURES / "request_7_5.xml").read_text()
    assert f'xmlns:sr="{duis.NS}"' in (FIXTURES / "request_7_5.xml").read_text()


def test_acknowledgement_error_and_success_responses():
    no_payload = {"ResponseMessage": {"ServiceReference": "4.1", "ServiceReferenceVariant": "4.1.1"}}
    ack = duis.parse((FIXTURES / "response_ack_I99.xml").read_bytes())
    assert ack["kind"] == "response" and ack["header"]["responseCode"] == "I99" and ack["body"] == no_payload
    assert ack["header"]["responseId"] == "" and ack["payload"] is None
    error = duis.parse((FIXTURES / "response_error_E19.xml").read_bytes())
    assert error["header"]["responseCode"] == "E19" and error["body"] == no_payload  # DUIS: no error text
    assert error["header"]["serviceReferenceVariant"] == "4.1.1"
    ok = duis.parse((FIXTURES / "response_4_1_1_I0.xml").read_bytes())
    assert ok["header"]["responseId"] == "00-DB-12-34-56-78-90-A0:90-B3-D5-1F-30-01-00-01:1001"
    assert ok["header"]["responseDateTime"] == "2025-01-15T09:30:05.250Z"
    assert list(ok["body"]["ResponseMessage"]) == ["ServiceReference", "ServiceReferenceVariant", "GBCSPayload"]
    assert ok["payload"] == {"ImportRegister": {"@unit": "kWh", "#text": "48213"}}
    assert "<sr:Header>\n    <sr:ServiceReference>" not in (FIXTURES / "response_4_1_1_I0.xml").read_text()
    again = duis.render_response(request_id="90-B3-D5-1F-30-01-00-01:00-DB-12-34-56-78-90-A0:1001",
                                 response_code="I0", srv_code="4.1.1", body=ok["payload"],
                                 when=dt.datetime(2025, 1, 15, 9, 30, 5, 250000, tzinfo=dt.UTC))
    assert again == (FIXTURES / "response_4_1_1_I0.xml").read_text()
    with pytest.raises(duis.DuisError, match="namespace"):
        duis.parse("<Request><Header/></Request>")
    with pytest.raises(duis.DuisError, match="well-formed"):
        duis.parse("<sr:Request")


def test_parse_command_prints_the_json_shape(capsys):
    call_command("duis", "parse", str(FIXTURES / "request_7_12.xml"))
    out = json.loads(capsys.readouterr().out)
    assert out["header"] == {"requestId": {"originatorId": "90-B3-D5-1F-30-01-00-01",
                                           "targetId": "00-DB-12-34-56-78-90-A0", "counter": 1011},
                             "serviceReference": "7.12", "serviceReferenceVariant": "7.12", "commandVariant": 4}
    assert out["body"] == {"SetRandomisedOffsetLimit": {"RandomisedOffsetLimit": "900"}}


@pytest.mark.django_db
def test_render_command_prints_a_stored_request(srvs, devices, supplier_a, capsys, duis_keys):
    from adapter import services

    request = services.request_submit(user=supplier_a, srv="7.9", device_id=devices["a_esme"].device_id,
                                      params={"switch": 2, "boost_minutes": 30})
    call_command("duis", "render", request.request_id)
    out = capsys.readouterr().out
    assert "<sr:AddAuxiliaryLoadToBoostButton>" in out and "<sr:BoostDuration>30</sr:BoostDuration>" in out
    assert "<sr:CommandVariant>1</sr:CommandVariant>" in out  # 7.9 is not critical
    assert duis.parse(out)["params"] == {"switch": 2, "boost_minutes": 30}
    assert out.count("<ds:Signature>") == 1 and out.rstrip().endswith("</ds:Signature></sr:Request>")


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def headend(duis_keys):
    # the head-end signs its answers with the head-end key of the test's key store
    import os

    port = _free_port()
    env = {**os.environ, "ADAPTER_KEYSTORE": "local", "ADAPTER_KEYSTORE_DIR": str(duis_keys.directory)}
    process = subprocess.Popen([sys.executable, "manage.py", "headend_sim", "--port", str(port), "--failure-rate",
                                "0", "--seed", "7"], cwd=Path(__file__).resolve().parents[2],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
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
def test_duis_backend_against_headend_subprocess(srvs, devices, supplier_a, supa_key, headend, settings,
                                                 django_capture_on_commit_callbacks):
    from adapter import services, tasks
    from tests.adapter.conftest import sign_precommand

    settings.ADAPTER_BACKEND = "duis"
    settings.ADAPTER_DUIS_URL = headend
    backends.DuisBackend.breaker = backends.CircuitBreaker()
    with django_capture_on_commit_callbacks(execute=True):
        read = services.request_submit(user=supplier_a, srv="4.1.1", device_id=devices["a_esme"].device_id,
                                       params={})
        switch = services.request_submit(user=supplier_a, srv="7.5", device_id=devices["a_esme"].device_id,
                                         params={"switch": 4, "duration": 15})
        services.request_sign(request=switch, signature=sign_precommand(supa_key, switch.precommand),
                              actor=supplier_a)
    for request in (read, switch):
        request.refresh_from_db()
        assert request.state == RequestState.RESPONDED and request.outcome == "I0"
        assert request.dsp_sent_at < request.wan_delivered_at < request.device_responded_at < request.responded_at
    assert read.response["ImportRegister"]["@unit"] == "kWh"  # decoded from GBCSPayload
    assert switch.send_attempts.get().backend == "duis"
    # device-held future-dated request: acknowledged I99 and left "sent" until the response comes
    from django.utils import timezone

    later = timezone.now() + timezone.timedelta(hours=1)
    with django_capture_on_commit_callbacks(execute=True):
        held = services.request_submit(user=supplier_a, srv="11.3", device_id=devices["a_esme"].device_id,
                                       params={"firmware_hash": "0A" * 32}, execute_at=later)
        assert held.state == RequestState.AWAITING_SIGNATURE  # 11.3 is critical too
        services.request_sign(request=held, signature=sign_precommand(supa_key, held.precommand, raw=True),
                              actor=supplier_a)
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
                                       params={"firmware_hash": "0E" * 32}, execute_at=later)
        services.request_sign(request=lost, signature=sign_precommand(supa_key, lost.precommand), actor=supplier_a)
    from adapter.models import ServiceRequest

    ServiceRequest.objects.filter(pk=lost.pk).update(request_id=lost.request_id + "0")  # head-end knows it not
    assert tasks.collect(now=later + timezone.timedelta(minutes=1)) == 0
    assert tasks.time_out(now=later + timezone.timedelta(hours=25)) == 1
    lost.refresh_from_db()
    assert lost.state == RequestState.TIMED_OUT and lost.outcome == "E30" and lost.completed_at is not None


@pytest.mark.django_db
def test_duis_backend_retries_then_opens_the_circuit(srvs, devices, supplier_a, settings, duis_keys):
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


@pytest.mark.django_db
def test_headend_answers_and_backend_reads_the_published_response_layout(duis_keys):
    import random

    from adapter.management.commands import headend_sim

    status, headers, text = headend_sim.handle_duis(b"<not-duis", "central", random.Random(1))
    assert status == 400 and "well-formed" in headers[backends.MESSAGE_HEADER]
    assert duis.parse(text)["header"]["responseCode"] == "E1"
    error = duis.render_response(request_id="90-B3-D5-1F-30-01-00-01:00-DB-12-34-56-78-90-A0:9",
                                 response_code="E21", srv_code="7.4")
    outcome = backends.DuisBackend(url="http://127.0.0.1:9/duis")._outcome(
        200, {backends.MESSAGE_HEADER: "No response from the device"}, headend_sim.signed(error))
    assert (outcome.code, outcome.final, outcome.message, outcome.body) == ("E21", True,
                                                                           "No response from the device", {})
    ok = duis.render_response(request_id="90-B3-D5-1F-30-01-00-01:00-DB-12-34-56-78-90-A0:9",
                              response_code="I0", srv_code="7.4", body={"SupplyStatus": "Enabled"})
    assert backends.DuisBackend(url="http://127.0.0.1:9/duis")._outcome(200, {}, headend_sim.signed(ok)).body == {
        "SupplyStatus": "Enabled"}
