"""DUIS codec: service requests and responses as DUIS XML, without Django models.

Reference (checked 2026-11): Smart DCC's public DUIS examples, used for the interface's facts only
(no file copied): GitHub SmartDCCInnovation/duis-templates, templates/*_REQUEST_DUIS.XML and
test/data/ECS52_11.2_SUCCESS_RESPONSE_DUIS.XML; SmartDCCInnovation/duis-parser, src/cv.ts (the
eight CommandVariant values), src/duis.ts (response body shapes), test/resources/readfw-response.xml
and test/resources/acknowledgement-error.xml.

Verified against a template (namespace, header, Body element and its children):
  4.1.1  ECS17b_4.1.1_SINGLE_SUCCESS_REQUEST_DUIS.XML   ReadInstantaneousImportRegisters (empty)
  4.17   ECS66_4.17_SUCCESS_REQUEST_DUIS.XML            RetrieveDailyConsumptionLog/ReadLogPeriod/
                                                        StartDateTime + EndDateTime
  7.1    ECS42_7.1_SUCCESS_REQUEST_DUIS.XML             EnableSupply (empty)
  7.2    ECS43_7.2_SUCCESS_REQUEST_DUIS.XML             DisableSupply (empty)
  7.4    ECS45_7.4_SUCCESS_REQUEST_DUIS.XML             ReadSupplyStatus (empty)
  7.12   ECS38_7.12_SUCCESS_REQUEST_DUIS.XML            SetRandomisedOffsetLimit/RandomisedOffsetLimit
  8.2    8.2_READ_INVENTORY_REQUEST_DUIS.XML            ReadInventory/DeviceID
  11.2   ECS52_11.2_SUCCESS_REQUEST_DUIS.XML, CS08_11.2_SUCCESS_REQUEST_DUIS.XML   ReadFirmwareVersion
  11.3   CS06_11.3_FUTURE_DATED_SUCCESS_REQUEST_DUIS.XML ActivateFirmware/ExecutionDateTime + FirmwareHash
  responses: ECS52_11.2_SUCCESS_RESPONSE_DUIS.XML, readfw-response.xml (I0), acknowledgement-error.xml (E-code)
Unverified (no template for them in the public set as indexed; names still derived from the SRV
name): 6.14.1 (its use case ECS46a is listed but no 6.14.1 template was found), 7.5, 7.6, 7.8
(no GBCS use case or template for them in the current set) and 7.9 (use case ECS62, no template found).

Requests: root ``Request`` in the ServiceUserGateway namespace with ``schemaVersion``; a ``Header``
(RequestID, CommandVariant, ServiceReference, ServiceReferenceVariant) and a ``Body`` holding one
element named after the service. CommandVariant (duis-parser cv.ts): 1 non-critical request sent to
the device over the SM WAN, 4 critical request to transform into a pre-command for the user to sign,
5 critical signed pre-command to send over the WAN, 8 non-device (DCC only) request.

Responses: root ``Response``; the Header holds RequestID, ResponseID (only on a device's response:
the request id with originator and target swapped), ResponseCode (I0 success, I99 acknowledgement,
E-codes) and ResponseDateTime (milliseconds, UTC). ServiceReference and ServiceReferenceVariant are
not in the Header but first in ``Body/ResponseMessage``; an acknowledgement or error carries nothing
else (DUIS has no error text), a device's response adds ``GBCSPayload`` (base64 GBCS).

Out of scope, by design:
* Digital signatures. Every request and response ends in an enveloped XML signature (ds:Signature);
  this codec renders and parses unsigned documents and adapter.xmlsig signs and verifies them.
  The user's signature of a critical pre-command is not that XMLDSig: it goes in
  ``Body/SignedPreCommand`` (base64, as the user gave it). DUIS sends a signed pre-command
  (CommandVariant 5) as its own document type; here it stays a Request carrying that element.
* GBCS. A real GBCSPayload needs a GBCS parser; the head-end simulator has none and puts its
  decoded result, as base64 of JSON, in GBCSPayload instead; ``parse`` returns it as ``payload``.
* The 4.17 period: the portal asks for a number of days; it is sent as a ReadLogPeriod ending at
  midnight UTC of the execution day (or of ``now``) and read back as the whole days between the two.
* 11.3: DUIS names the image by FirmwareHash (a SHA-256, 64 hex digits): the SRV's parameter is
  ``firmware_hash`` with that pattern (adapter.catalogue).
* 8.2: DeviceID is the ``device_id`` parameter, else the RequestID's target. In the published
  example the RequestID of this non-device request targets the DCC (90-B3-D5-1F-30-00-00-02), not
  the device; the portal's request ids are built outside this codec.
"""
import base64
import binascii
import datetime as dt
import json
import xml.etree.ElementTree as ET

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

NS = "http://www.dccinterface.co.uk/ServiceUserGateway"
DS_NS = "http://www.w3.org/2000/09/xmldsig#"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
SCHEMA_VERSION = "5.1"
XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'
ET.register_namespace("sr", NS)
ET.register_namespace("ds", DS_NS)
ET.register_namespace("xsi", XSI_NS)

# CommandVariant values (duis-parser src/cv.ts)
CV_NON_CRITICAL = 1  # non-critical request, command sent to the device over the SM WAN
CV_TRANSFORM = 4  # critical request: transform, return the pre-command to the user to sign
CV_SIGNED_PRE_COMMAND = 5  # critical signed pre-command, command sent over the SM WAN
CV_NON_DEVICE = 8  # non-device (DCC only) request
# Body element after the service element holding the user's signature of a critical pre-command.
SIGNED_PRE_COMMAND = "SignedPreCommand"


class DuisError(ValueError):
    """The document is not DUIS this codec understands; the message says where."""


def q(tag):
    return f"{{{NS}}}{tag}"


# SRV code -> (service element, [(param, path, kind)]). A path "A@index" is attribute index of
# child A; "A/B" is element B inside child A; kind "int", "str" or "period" (a number of days
# written as A/StartDateTime and A/EndDateTime).
SERVICES = {
    "4.1.1": ("ReadInstantaneousImportRegisters", []),
    "4.17": ("RetrieveDailyConsumptionLog", [("days", "ReadLogPeriod", "period")]),
    "6.14.1": ("UpdateDeviceConfigurationAuxiliaryLoadControlDescription",
               [("switch", "AuxiliaryLoadControlDescription@index", "int"),
                ("description", "AuxiliaryLoadControlDescription/Description", "str")]),
    "7.1": ("EnableSupply", []),
    "7.2": ("DisableSupply", []),
    "7.4": ("ReadSupplyStatus", []),
    "7.5": ("ActivateAuxiliaryLoad", [("switch", "ActivateALCSHCALCS@index", "int"),
                                      ("duration", "ActivateALCSHCALCS/Duration", "int")]),
    "7.6": ("DeactivateAuxiliaryLoad", [("switch", "DeactivateALCSHCALCS@index", "int")]),
    "7.8": ("ResetAuxiliaryLoad", [("switch", "ResetALCSHCALCS@index", "int")]),
    "7.9": ("AddAuxiliaryLoadToBoostButton", [("switch", "AddALCSHCALCSToBoost@index", "int"),
                                              ("boost_minutes", "AddALCSHCALCSToBoost/BoostDuration", "int")]),
    "7.12": ("SetRandomisedOffsetLimit", [("seconds", "RandomisedOffsetLimit", "int")]),
    "8.2": ("ReadInventory", [("device_id", "DeviceID", "str")]),
    "11.2": ("ReadFirmwareVersion", []),
    "11.3": ("ActivateFirmware", [("firmware_hash", "FirmwareHash", "str")]),
}
BY_ELEMENT = {element: code for code, (element, _fields) in SERVICES.items()}
# SRVs whose Body was checked against a published template (see the module note)
VERIFIED = {"4.1.1", "4.17", "7.1", "7.2", "7.4", "7.12", "8.2", "11.2", "11.3"}


def service_element(code, name=""):
    """The Body element name of an SRV (for SRVs outside the table, derived from its name)."""
    if code in SERVICES:
        return SERVICES[code][0]
    words = "".join(ch if ch.isalnum() else " " for ch in name).split()
    return "".join(w[:1].upper() + w[1:] for w in words) or f"ServiceRequest{code.replace('.', '_')}"


def service_reference(code):
    return ".".join(code.split(".")[:2])


def command_variant(*, critical, non_device, signed=False):
    """The DUIS CommandVariant of a request sent over the SM WAN (see the CV_* constants)."""
    if non_device:
        return CV_NON_DEVICE
    if critical:
        return CV_SIGNED_PRE_COMMAND if signed else CV_TRANSFORM
    return CV_NON_CRITICAL


def split_request_id(request_id):
    parts = (request_id or "").split(":")
    if len(parts) != 3 or not parts[2].isdigit():
        raise DuisError(f"RequestID {request_id!r} is not originator:target:counter")
    return {"originatorId": parts[0], "targetId": parts[1], "counter": int(parts[2])}


def response_id_for(request_id):
    """The ResponseID of a device's response: the RequestID with originator and target swapped."""
    ids = split_request_id(request_id)
    return f"{ids['targetId']}:{ids['originatorId']}:{ids['counter']}"


def _datetime(value):
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    try:
        return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise DuisError(f"{value!r} is not an ISO 8601 date-time") from None


def _iso(value):
    """A request date-time as the templates write it (UTC, hundredths: 2030-01-15T09:00:00.00Z);
    strings (from a parsed document) are kept as they are."""
    if isinstance(value, dt.datetime):
        value = value.astimezone(dt.UTC)
        return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 10000:02d}Z"
    return str(value)


def _iso_ms(value):
    """A response date-time as the published responses write it (2022-08-12T06:43:49.844Z)."""
    value = value.astimezone(dt.UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def _read_log_period(days, reference):
    end = _datetime(reference).astimezone(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return end - dt.timedelta(days=int(days)), end


def _put(service, path, value, kind="str", reference=None):
    if kind == "period":
        start, end = _read_log_period(value, reference)
        period = ET.SubElement(service, q(path))
        ET.SubElement(period, q("StartDateTime")).text = _iso(start)
        ET.SubElement(period, q("EndDateTime")).text = _iso(end)
        return
    if "@" in path:
        child_name, attribute = path.split("@")
        child = service.find(q(child_name))
        if child is None:
            child = ET.SubElement(service, q(child_name))
        child.set(attribute, str(value))
        return
    parent = service
    names = path.split("/")
    for name in names[:-1]:
        found = parent.find(q(name))
        parent = found if found is not None else ET.SubElement(parent, q(name))
    ET.SubElement(parent, q(names[-1])).text = str(value)


def _ordered(fields):
    # attributes first so that their element exists before its children are added
    return sorted(fields, key=lambda f: 0 if "@" in f[1] else 1)


def _root(kind):
    return ET.Element(q(kind), {"schemaVersion": SCHEMA_VERSION})


def _serialise(root, pretty):
    if pretty:
        ET.indent(root)
    text = ET.tostring(root, encoding="unicode", xml_declaration=False)
    # the templates declare sr, ds and xsi on the root; ElementTree only declares what is used
    declared = f'xmlns:sr="{NS}"'
    extra = [f'xmlns:{p}="{uri}"' for p, uri in (("ds", DS_NS), ("xsi", XSI_NS)) if f'xmlns:{p}="' not in text]
    text = text.replace(declared, " ".join(sorted([declared, *extra])), 1)
    return XML_DECLARATION + text + ("\n" if pretty else "")


def render_request(*, request_id, srv_code, srv_name="", params=None, execute_at=None, critical=False,
                   non_device=False, signature="", now=None, pretty=True):
    """A DUIS Request document (str), unsigned (adapter.xmlsig signs it). ``signature``, the user's
    signature of a critical pre-command, goes in Body/SignedPreCommand (see the module note);
    ``now`` is the reference day of a 4.17 ReadLogPeriod when there is no ``execute_at``."""
    ids = split_request_id(request_id)
    root = _root("Request")
    header = ET.SubElement(root, q("Header"))
    ET.SubElement(header, q("RequestID")).text = request_id
    ET.SubElement(header, q("CommandVariant")).text = str(
        command_variant(critical=critical, non_device=non_device, signed=bool(signature)))
    ET.SubElement(header, q("ServiceReference")).text = service_reference(srv_code)
    ET.SubElement(header, q("ServiceReferenceVariant")).text = srv_code
    body = ET.SubElement(root, q("Body"))
    service = ET.SubElement(body, q(service_element(srv_code, srv_name)))
    if execute_at:
        ET.SubElement(service, q("ExecutionDateTime")).text = _iso(execute_at)
    params = dict(params or {})
    if srv_code == "8.2":
        params.setdefault("device_id", ids["targetId"])
    fields = SERVICES.get(srv_code, (None, []))[1]
    known = {f[0] for f in fields}
    reference = execute_at or now or dt.datetime.now(dt.UTC)
    for name, path, kind in _ordered(fields):
        if name in params:
            _put(service, path, params[name], kind, reference)
    for name, value in params.items():  # SRVs outside the table: one element per parameter
        if name not in known:
            ET.SubElement(service, q("".join(w.title() for w in name.split("_")))).text = str(value)
    if signature:
        # The user's GBCS signature of the critical pre-command (CommandVariant 5), base64 as given,
        # in the Body: the document's only ds:Signature is the XMLDSig of the whole message that
        # adapter.xmlsig adds when the request is sent.
        ET.SubElement(body, q(SIGNED_PRE_COMMAND)).text = signature
    return _serialise(root, pretty)


def encode_payload(body):
    """The head-end simulator's stand-in for a GBCS payload: base64 of the decoded result as JSON."""
    return base64.b64encode(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).decode()


def decode_payload(text):
    """The simulator's decoded result from a GBCSPayload, or None when it is real GBCS."""
    try:
        value = json.loads(base64.b64decode(text or "", validate=True))
    except (binascii.Error, ValueError):
        return None
    return value if isinstance(value, dict) else None


def render_response(*, request_id, response_code, srv_code="", response_id=None, body=None, when=None,
                    pretty=True):
    """A DUIS Response: an acknowledgement (I99), an error (E-code) or a device's response (I0, whose
    ``body`` goes base64-encoded in GBCSPayload). ``response_id`` defaults to the swapped RequestID on
    I0 and is left out otherwise, as in the published examples."""
    root = _root("Response")
    header = ET.SubElement(root, q("Header"))
    ET.SubElement(header, q("RequestID")).text = request_id
    if response_id is None and response_code == "I0":
        response_id = response_id_for(request_id)
    if response_id:
        ET.SubElement(header, q("ResponseID")).text = response_id
    ET.SubElement(header, q("ResponseCode")).text = response_code
    ET.SubElement(header, q("ResponseDateTime")).text = _iso_ms(when or dt.datetime.now(dt.UTC))
    body_el = ET.SubElement(root, q("Body"))
    if srv_code:
        message = ET.SubElement(body_el, q("ResponseMessage"))
        ET.SubElement(message, q("ServiceReference")).text = service_reference(srv_code)
        ET.SubElement(message, q("ServiceReferenceVariant")).text = srv_code
        if response_code == "I0" and body:
            ET.SubElement(message, q("GBCSPayload")).text = encode_payload(body)
    return _serialise(root, pretty)


def _local(tag):
    return tag.split("}", 1)[1] if "}" in tag else tag


def _xml_to_dict(element):
    result = {f"@{k}": v for k, v in element.attrib.items()}
    children = list(element)
    if not children:
        text = (element.text or "").strip()
        if not result:
            return text
        if text:
            result["#text"] = text
        return result
    for child in children:
        key = _local(child.tag)
        value = _xml_to_dict(child)
        if key in result:
            if not isinstance(result[key], list):
                result[key] = [result[key]]
            result[key].append(value)
        else:
            result[key] = value
    return result


def _text(parent, name):
    element = parent.find(q(name)) if parent is not None else None
    return element.text.strip() if element is not None and element.text else ""


def parse(data):
    """Parse a DUIS Request or Response (bytes or str) into the JSON shape of ``manage.py duis parse``.
    Signatures (ds:Signature) are ignored here: adapter.xmlsig verifies them, and a caller that needs
    a trusted document parses what the verifier returns (the signed part), not what arrived."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    try:
        # defusedxml: a document from outside may carry a DTD with entity bombs or external entities
        root = SafeET.fromstring(data, forbid_dtd=True)
    except ET.ParseError as exc:
        raise DuisError(f"not well-formed XML: {exc}") from None
    except DefusedXmlException as exc:
        raise DuisError(f"refused: {exc.__class__.__name__} (DUIS documents have no DTD or entities)") from None
    if not root.tag.startswith(f"{{{NS}}}"):
        raise DuisError(f"root element {root.tag!r} is not in the DUIS namespace {NS}")
    kind = _local(root.tag)
    if kind not in ("Request", "Response"):
        raise DuisError(f"root element is {kind!r}; expected Request or Response")
    header = root.find(q("Header"))
    if header is None:
        raise DuisError("no Header element")
    body_el = root.find(q("Body"))
    request_id = _text(header, "RequestID")
    out_header = {"requestId": split_request_id(request_id)}
    if kind == "Request":
        variant = _text(header, "CommandVariant")
        if variant and not variant.isdigit():
            raise DuisError(f"CommandVariant {variant!r} is not a number")
        out_header.update({
            "serviceReference": _text(header, "ServiceReference"),
            "serviceReferenceVariant": _text(header, "ServiceReferenceVariant"),
            "commandVariant": int(variant or 0),
        })
    else:
        out_header.update({
            "responseId": _text(header, "ResponseID"),
            "responseCode": _text(header, "ResponseCode"),
            "responseDateTime": _text(header, "ResponseDateTime"),
        })
        message = body_el.find(q("ResponseMessage")) if body_el is not None else None
        for name, key in (("ServiceReference", "serviceReference"),
                          ("ServiceReferenceVariant", "serviceReferenceVariant")):
            value = _text(message, name) or _text(header, name)
            if value:
                out_header[key] = value
    body = {}
    signed_pre_command = ""
    if body_el is not None:
        for child in body_el:
            if child.tag == q(SIGNED_PRE_COMMAND):
                signed_pre_command = (child.text or "").strip()
                continue
            body[_local(child.tag)] = _xml_to_dict(child)
    result = {"kind": kind.lower(), "header": out_header, "body": body}
    if signed_pre_command:
        result["signedPreCommand"] = signed_pre_command
    if kind == "Request":
        result["params"], result["executeAt"] = _params(out_header["serviceReferenceVariant"], body_el)
    else:
        message = body.get("ResponseMessage")
        payload = message.get("GBCSPayload") if isinstance(message, dict) else None
        result["payload"] = decode_payload(payload) if payload else None
    return result


def _params(code, body_el):
    """Recover the portal's parameters from a request body (for the SRVs in the table)."""
    if body_el is None or len(body_el) == 0:
        return {}, None
    service = body_el[0]
    execute_at = _text(service, "ExecutionDateTime") or None
    params = {}
    for name, path, kind in SERVICES.get(code, (None, []))[1]:
        if kind == "period":
            start, end = _text(service.find(q(path)), "StartDateTime"), _text(service.find(q(path)), "EndDateTime")
            if start and end:
                params[name] = round((_datetime(end) - _datetime(start)) / dt.timedelta(days=1))
            continue
        if "@" in path:
            child_name, attribute = path.split("@")
            child = service.find(q(child_name))
            value = child.get(attribute) if child is not None else None
        else:
            element = service.find("/".join(q(p) for p in path.split("/")))
            value = element.text.strip() if element is not None and element.text else None
        if value is not None:
            params[name] = int(value) if kind == "int" else value
    return params, execute_at
