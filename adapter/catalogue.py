"""The DUIS service request catalogue: the 129 SRVs of reference/duis_service_requests.csv plus,
per SRV, the device types it applies to, its measurement type and a parameter schema.

The CSV (a copy kept in adapter/data/) gives criticality, on-demand, future-dated pattern,
DCC scheduling, non-device and roles; the rest is added here from the DUIS matrix so that one
table drives checks, the generated submit form and the codec.
"""
import csv
from pathlib import Path

CSV_PATH = Path(__file__).resolve().parent / "data" / "duis_service_requests.csv"

ELEC = ["ESME"]
GAS = ["GSME"]
METERS = ["ESME", "GSME"]
HUB = ["CHF", "GPF"]
ALL_DEVICES = ["ESME", "GSME", "CHF", "GPF", "PPMID", "IHD", "CAD", "HCALCS"]
ALC = ["ESME", "HCALCS"]

# Device types where the default (from roles and name) is not right.
DEVICE_TYPES = {
    "4.1.4": GAS, "4.2": ELEC, "4.8.2": ELEC, "4.8.3": ELEC, "4.12.1": ELEC, "4.12.2": ELEC, "4.15": ELEC,
    "4.16": ELEC, "6.2.1": ELEC, "6.2.2": ELEC, "6.2.5": ELEC, "6.2.8": GAS, "6.5": ELEC, "6.6": GAS, "6.7": GAS,
    "6.14.1": ALC, "6.14.2": ALC, "6.14.3": ["HCALCS"], "6.15.1": ALL_DEVICES, "6.15.2": ALL_DEVICES,
    "6.17": ALL_DEVICES, "6.18.1": ELEC, "6.18.2": ELEC, "6.20.2": ELEC, "6.23": ALL_DEVICES, "6.24.1": ALL_DEVICES,
    "6.24.2": ALL_DEVICES, "6.25": ELEC, "6.27": ELEC, "6.28": ["CHF"], "6.29": ["CHF"], "6.30": ["CHF"],
    "6.31": ["CHF"], "6.32": ["CHF"], "7.1": ELEC, "7.2": ELEC, "7.3": ELEC, "7.4": METERS, "7.5": ALC, "7.6": ALC,
    "7.7": ALC, "7.8": ALC, "7.9": ALC, "7.10": ALC, "7.11": ALC, "7.12": ALC, "7.13": ["HCALCS"],
    "7.14": ["HCALCS"], "7.15": ["HCALCS"], "7.16": ELEC, "8.1.1": ALL_DEVICES, "8.7.1": ["ESME", "GSME", "PPMID",
    "HCALCS"], "8.7.2": ["IHD", "CAD", "PPMID"], "8.8.1": ["ESME", "GSME", "PPMID", "HCALCS"], "8.8.2": ["IHD", "CAD",
    "PPMID"], "8.9": HUB, "8.11": HUB, "8.12.1": ["CHF"], "8.12.2": ["GPF"], "8.5": ALL_DEVICES, "9.1": ["IHD"],
    "11.2": ALL_DEVICES, "11.3": ALL_DEVICES, "14.1": GAS,
}

FIRMWARE_DELIVERY = {"11.1", "11.4"}


def _integer(title, minimum, maximum, **extra):
    return {"type": "integer", "title": title, "minimum": minimum, "maximum": maximum, **extra}


SWITCH = _integer("Switch", 1, 5, description="Auxiliary load control switch 1 to 5 (DUIS index)")
DAYS = _integer("Days of log", 1, 31)

# Parameter schemas (a small JSON-schema subset: object of integer/string/boolean properties,
# enum, minimum/maximum, multipleOf, maxLength, pattern). The submit form is generated from them.
SCHEMAS = {
    "2.2": {"properties": {"utrn": {"type": "string", "title": "UTRN", "pattern": "^[0-9]{20}$",
                                    "description": "20-digit unique transaction reference number"}},
            "required": ["utrn"]},
    "3.1": {"properties": {"message": {"type": "string", "title": "Message", "maxLength": 160}},
            "required": ["message"]},
    "4.8.1": {"properties": {"days": DAYS}, "required": ["days"]},
    "4.17": {"properties": {"days": DAYS}, "required": ["days"]},
    "6.13": {"properties": {"log": {"type": "string", "title": "Log", "enum": ["event", "security"]}},
             "required": ["log"]},
    "6.14.1": {"properties": {"switch": SWITCH,
                              "description": {"type": "string", "title": "Description", "maxLength": 40}},
               "required": ["switch", "description"]},
    "6.25": {"properties": {"tamper_state": {"type": "string", "title": "Tamper state",
                                             "enum": ["locked", "unlocked"]}}, "required": ["tamper_state"]},
    "7.5": {"properties": {"switch": SWITCH,
                           "duration": _integer("Duration (minutes, 0 = until changed)", 0, 1440)},
            "required": ["switch"]},
    "7.6": {"properties": {"switch": SWITCH}, "required": ["switch"]},
    "7.7": {"properties": {"switch": SWITCH}, "required": []},
    "7.8": {"properties": {"switch": SWITCH}, "required": ["switch"]},
    "7.9": {"properties": {"switch": SWITCH,
                           "boost_minutes": _integer("Boost (minutes)", 15, 60, multipleOf=15)},
            "required": ["switch", "boost_minutes"]},
    "7.10": {"properties": {"switch": SWITCH}, "required": ["switch"]},
    "7.12": {"properties": {"seconds": _integer("Randomised offset limit (seconds)", 0, 1799)},
             "required": ["seconds"]},
    "7.13": {"properties": {"state": {"type": "string", "title": "Controller state", "enum": ["on", "off"]}},
             "required": ["state"]},
    # DUIS names the image to activate by its hash (ActivateFirmware/FirmwareHash), not a version.
    "11.3": {"properties": {"firmware_hash": {"type": "string", "title": "Firmware hash",
                                              "pattern": "^[0-9A-Fa-f]{64}$",
                                              "description": "SHA-256 of the firmware image: 64 hexadecimal digits"}},
             "required": ["firmware_hash"]},
}


def schema_for(code):
    base = SCHEMAS.get(code, {"properties": {}, "required": []})
    return {"type": "object", "additionalProperties": False, "properties": base["properties"],
            "required": base.get("required", [])}


def _yes(value):
    return value.strip().lower() == "yes"


def default_device_types(code, name, roles, non_device):
    if non_device:
        return []
    if code in DEVICE_TYPES:
        return DEVICE_TYPES[code]
    lowered = name.lower()
    if "gas" in lowered:
        return GAS
    gas_roles = {"GS", "GT"} & set(roles)
    elec_roles = {"IS", "ES", "ED"} & set(roles)
    if gas_roles and not elec_roles:
        return GAS
    if elec_roles and not gas_roles:
        return ELEC
    return METERS


def measurement_type(code, on_demand, non_device, dcc_scheduled):
    if code in FIRMWARE_DELIVERY:
        return "firmware"
    if non_device or not on_demand:
        return "dcc_only"
    return "on_demand"


def rows(path=CSV_PATH):
    """The catalogue as dicts ready for ServiceRequestVariant(**row)."""
    with open(path, newline="", encoding="utf-8") as handle:
        for raw in csv.DictReader(handle):
            code = raw["SRV"].strip()
            roles = raw["Roles"].split()
            non_device = _yes(raw["NonDevice"])
            on_demand = _yes(raw["OnDemand"])
            dcc_scheduled = _yes(raw["DCCScheduled"])
            yield {
                "code": code,
                "name": " ".join(raw["Name"].split()),
                "critical": _yes(raw["Critical"]),
                "on_demand": on_demand,
                "future_dated_pattern": raw["FutureDatedPattern"].strip(),
                "dcc_scheduled": dcc_scheduled,
                "non_device": non_device,
                "roles": roles,
                "device_types": default_device_types(code, raw["Name"], roles, non_device),
                "measurement_type": measurement_type(code, on_demand, non_device, dcc_scheduled),
                "param_schema": schema_for(code),
            }


def sort_key(code):
    return tuple(int(part) for part in code.split("."))


def load(model, path=CSV_PATH):
    """Create or update every SRV by code (idempotent). Returns (created, updated)."""
    created = updated = 0
    existing = {srv.code: srv for srv in model.objects.all()}
    for row in rows(path):
        srv = existing.get(row["code"])
        if srv is None:
            model.objects.create(sort_order=_order(row["code"]), **row)
            created += 1
            continue
        changed = [k for k, v in row.items() if getattr(srv, k) != v]
        if changed:
            for key in changed:
                setattr(srv, key, row[key])
            srv.save(update_fields=changed)
            updated += 1
    return created, updated


def _order(code):
    parts = [int(p) for p in code.split(".")] + [0, 0]
    return parts[0] * 10000 + parts[1] * 100 + parts[2]


# The DUIS services an SRV belongs to, by the first number of its code (DUIS section 3): the
# submit page's picker groups the SRVs by them.
SERVICES = {
    "1": "Tariffs and prices", "2": "Prepayment: credit and debt", "3": "Customer information",
    "4": "Readings and logs", "5": "Schedules", "6": "Device configuration", "7": "Supply and load control",
    "8": "Device management and commissioning", "9": "Customer identification", "11": "Firmware",
    "12": "Communications hub and WAN", "14": "Network data",
}

# The DUIS user roles of the catalogue's Roles column, as people name them.
ROLE_NAMES = {
    "IS": "Import Supplier", "ES": "Export Supplier", "GS": "Gas Supplier", "ED": "Electricity Distributor",
    "GT": "Gas Transporter", "RSA": "Registered Supplier Agent", "OU": "Other User",
}


def service_of(code):
    """The service an SRV code belongs to ("7.5" -> "Supply and load control")."""
    head = str(code).split(".", 1)[0]
    return SERVICES.get(head, f"Service {head}")


def limits_text(prop):
    """What a parameter accepts, in words: "1 to 5", "15 to 60 in steps of 15", "at most 160
    characters", "one of event, security"; the submit form shows it beside the field."""
    if "enum" in prop:
        return "one of " + ", ".join(str(v) for v in prop["enum"])
    parts = []
    if prop.get("type") == "integer":
        low, high = prop.get("minimum"), prop.get("maximum")
        if low is not None and high is not None:
            parts.append(f"{low} to {high}")
        elif low is not None:
            parts.append(f"at least {low}")
        elif high is not None:
            parts.append(f"at most {high}")
        if prop.get("multipleOf"):
            parts.append(f"in steps of {prop['multipleOf']}")
    elif prop.get("type") == "string":
        if prop.get("maxLength"):
            parts.append(f"at most {prop['maxLength']} characters")
    return " ".join(parts)
