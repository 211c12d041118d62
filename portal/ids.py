"""EUI-64 identifiers: devices and service users are named by eight octets.

Accepted input: 00-DB-12-34-56-78-90-A0, 00db1234567890a0, 00:DB:12:34:56:78:90:A0
(any case, dashes, colons or spaces). Stored form: upper-case octets joined by dashes.
"""
import re

from django.core.exceptions import ValidationError

_SEPARATORS = re.compile(r"[\s:\-]")
_HEX16 = re.compile(r"^[0-9A-F]{16}$")
_GROUPED = re.compile(r"^[0-9A-Fa-f]{2}([-: ][0-9A-Fa-f]{2}){7}$")


def normalise_eui64(value: str | None, field: str = "device id") -> str:
    """Return the canonical form of an EUI-64, or raise ValidationError naming the field."""
    text = (value or "").strip()
    compact = _SEPARATORS.sub("", text).upper()
    plain = _HEX16.match(compact) and (len(text) == 16 or _GROUPED.match(text))
    if not plain:
        raise ValidationError(
            f"{field} {text!r} is not an EUI-64: give eight hexadecimal octets, "
            "e.g. 00-DB-12-34-56-78-90-A0, 00db1234567890a0 or 00:DB:12:34:56:78:90:A0",
            code="invalid_eui64",
        )
    return "-".join(compact[i : i + 2] for i in range(0, 16, 2))


def is_eui64(value: str | None) -> bool:
    try:
        normalise_eui64(value)
    except ValidationError:
        return False
    return True
