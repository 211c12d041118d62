"""DUIS codec: service requests and responses as DUIS XML, without Django models.

Requests: root ``Request`` in the ServiceUserGateway namespace with ``schemaVersion``, a ``Header``
(RequestID, CommandVariant, ServiceReference, ServiceReferenceVariant) and a ``Body`` holding one
element named after the service. Responses: root ``Response`` whose Header carries the RequestID,
ResponseID, ResponseCode (I0 success, I99 acknowledgement, E-codes) and ResponseDateTime.
Element names follow the public DUIS schema as shown by Smart DCC's open-source DUIS tools; the
mapping below is written for this project.
"""
import datetime as dt
import xml.etree.ElementTree as ET

NS = "http://www.dccinterface.co.uk/ServiceUserGateway"
DS_NS = "http://www.w3.org/2000/09/xmldsig#"
SCHEMA_VERSION = "5.1"
ET.register_namespace("sr", NS)
ET.register_namespace("ds", DS_NS)


class DuisError(ValueError):
    """The document is not DUIS this codec understands; the message says where."""


def q(tag):
    return f"{{{NS}}}{tag}"


# SRV code -> (service element, [(param, path, kind)]). A path "A@index" is attribute index of
# child A; "A/B" is element B inside child A; kind "int" or "str".
SERVICES = {
    "4.1.1": ("ReadInstantaneousImportRegisters", []),
    "4.17": ("RetrieveDailyConsumptionLog", [("days", "ReadLogPeriod/NumberOfDays", "int")]),
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
    "8.2": ("ReadInventory", []),
    "11.2": ("ReadFirmwareVersion", []),
    "11.3": ("ActivateFirmware", [("firmware_version", "FirmwareVersion", "str")]),
}
BY_ELEMENT = {element: code for code, (element, _fields) in SERVICES.items()}


def service_element(code, name=""):
    """The Body element name of an SRV (for SRVs outside the table, derived from its name)."""
    if code in SERVICES:
        return SERVICES[code][0]
    words = "".join(ch if ch.isalnum() else " " for ch in name).split()
    return "".join(w[:1].upper() + w[1:] for w in words) or f"ServiceRequest{code.replace('.', '_')}"


def service_reference(code):
    return ".".join(code.split(".")[:2])


def command_variant(*, critical, non_device, signed=False):
    """DUIS command variants: 8 DCC only, 3 critical request to transform, 2 signed critical
    pre-command to the device, 4 non-critical request to the device."""
    if non_device:
        return 8
    if critical:
        return 2 if signed else 3
    return 4


def split_request_id(request_id):
    parts = (request_id or "").split(":")
    if len(parts) != 3 or not parts[2].isdigit():
        raise DuisError(f"RequestID {request_id!r} is not originator:target:counter")
    return {"originatorId": parts[0], "targetId": parts[1], "counter": int(parts[2])}


def _iso(value):
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(value)


def _put(service, path, value):
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


def render_request(*, request_id, srv_code, srv_name="", params=None, execute_at=None, critical=False,
                   non_device=False, signature="", pretty=True):
    """A DUIS Request document (str). ``signature`` (base64/hex) goes in a ds:Signature block."""
    split_request_id(request_id)
    root = ET.Element(q("Request"), {"schemaVersion": SCHEMA_VERSION})
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
    fields = SERVICES.get(srv_code, (None, []))[1]
    known = {f[0] for f in fields}
    for name, path, _kind in _ordered(fields):
        if name in params:
            _put(service, path, params[name])
    for name, value in params.items():  # SRVs outside the table: one element per parameter
        if name not in known:
            ET.SubElement(service, q("".join(w.title() for w in name.split("_")))).text = str(value)
    if signature:
        sig = ET.SubElement(root, f"{{{DS_NS}}}Signature")
        ET.SubElement(sig, f"{{{DS_NS}}}SignatureValue").text = signature
    if pretty:
        ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=False)


def render_response(*, request_id, response_code, srv_code="", response_id="", body=None, when=None,
                    message="", pretty=True):
    """A DUIS Response: an acknowledgement (I99), a success (I0, with a body) or an error (E-code)."""
    root = ET.Element(q("Response"), {"schemaVersion": SCHEMA_VERSION})
    header = ET.SubElement(root, q("Header"))
    ET.SubElement(header, q("RequestID")).text = request_id
    ET.SubElement(header, q("ResponseID")).text = response_id or request_id
    ET.SubElement(header, q("ResponseCode")).text = response_code
    ET.SubElement(header, q("ResponseDateTime")).text = _iso(when or dt.datetime.now(dt.UTC))
    if srv_code:
        ET.SubElement(header, q("ServiceReference")).text = service_reference(srv_code)
        ET.SubElement(header, q("ServiceReferenceVariant")).text = srv_code
    body_el = ET.SubElement(root, q("Body"))
    if response_code.startswith("E"):
        error = ET.SubElement(body_el, q("ResponseMessage"))
        ET.SubElement(error, q("ErrorCode")).text = response_code
        ET.SubElement(error, q("ErrorText")).text = message or response_code
    elif body:
        element = ET.SubElement(body_el, q(service_element(srv_code) + "Response" if srv_code else "Response"))
        _dict_to_xml(element, body)
    if pretty:
        ET.indent(root)
    return ET.tostring(root, encoding="unicode")


def _dict_to_xml(parent, data):
    for key, value in data.items():
        if key.startswith("@"):
            parent.set(key[1:], str(value))
        elif key == "#text":
            parent.text = str(value)
        elif isinstance(value, dict):
            _dict_to_xml(ET.SubElement(parent, q(key)), value)
        elif isinstance(value, list):
            for item in value:
                child = ET.SubElement(parent, q(key))
                if isinstance(item, dict):
                    _dict_to_xml(child, item)
                else:
                    child.text = str(item)
        else:
            ET.SubElement(parent, q(key)).text = str(value)


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


def _text(header, name):
    element = header.find(q(name))
    return element.text.strip() if element is not None and element.text else ""


def parse(data):
    """Parse a DUIS Request or Response (bytes or str) into the JSON shape of ``manage.py duis parse``."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise DuisError(f"not well-formed XML: {exc}") from None
    if not root.tag.startswith(f"{{{NS}}}"):
        raise DuisError(f"root element {root.tag!r} is not in the DUIS namespace {NS}")
    kind = _local(root.tag)
    if kind not in ("Request", "Response"):
        raise DuisError(f"root element is {kind!r}; expected Request or Response")
    header = root.find(q("Header"))
    if header is None:
        raise DuisError("no Header element")
    request_id = _text(header, "RequestID")
    out_header = {"requestId": split_request_id(request_id)}
    if kind == "Request":
        out_header.update({
            "serviceReference": _text(header, "ServiceReference"),
            "serviceReferenceVariant": _text(header, "ServiceReferenceVariant"),
            "commandVariant": int(_text(header, "CommandVariant") or 0),
        })
    else:
        out_header.update({
            "responseId": _text(header, "ResponseID"),
            "responseCode": _text(header, "ResponseCode"),
            "responseDateTime": _text(header, "ResponseDateTime"),
        })
        for name, key in (("ServiceReference", "serviceReference"), ("ServiceReferenceVariant",
                                                                     "serviceReferenceVariant")):
            if _text(header, name):
                out_header[key] = _text(header, name)
    body_el = root.find(q("Body"))
    body = {}
    if body_el is not None:
        for child in body_el:
            body[_local(child.tag)] = _xml_to_dict(child)
    result = {"kind": kind.lower(), "header": out_header, "body": body}
    if kind == "Request":
        result["params"], result["executeAt"] = _params(out_header["serviceReferenceVariant"], body_el)
    return result


def _params(code, body_el):
    """Recover the portal's parameters from a request body (for the SRVs in the table)."""
    if body_el is None or len(body_el) == 0:
        return {}, None
    service = body_el[0]
    execute_at = _text(service, "ExecutionDateTime") or None
    params = {}
    for name, path, kind in SERVICES.get(code, (None, []))[1]:
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
