"""Supply point numbers: MPAN (electricity) and MPRN (gas), see DOMAIN.md section 3."""
import re

from django.core.exceptions import ValidationError

# Weights of the first twelve digits of an MPAN core (the distributor id and the identifier).
MPAN_PRIMES = (3, 5, 7, 13, 17, 19, 23, 29, 31, 37, 41, 43)
_DIGITS = re.compile(r"^\d+$")
_SPACING = re.compile(r"[\s\-]")


def mpan_check_digit(first12):
    """The check digit of an MPAN core whose first twelve digits are ``first12``."""
    if len(first12) != 12 or not _DIGITS.match(first12):
        raise ValueError("an MPAN check digit needs exactly twelve digits")
    return sum(int(d) * p for d, p in zip(first12, MPAN_PRIMES, strict=True)) % 11 % 10


def normalise_mpan(value, field="MPAN"):
    """Return the 13-digit MPAN core, or raise ValidationError saying what is wrong."""
    text = _SPACING.sub("", (value or "").strip())
    if len(text) != 13 or not _DIGITS.match(text):
        raise ValidationError(
            f"{field} {value!r} is not an MPAN core: give 13 digits "
            "(2-digit distributor id, 10-digit identifier, check digit)",
            code="invalid_mpan",
        )
    expected = mpan_check_digit(text[:12])
    if int(text[12]) != expected:
        raise ValidationError(
            f"{field} {value!r} has a wrong check digit: {text[12]} given, {expected} expected",
            code="mpan_check_digit",
        )
    return text


def normalise_mprn(value, field="MPRN"):
    text = _SPACING.sub("", (value or "").strip())
    if not (6 <= len(text) <= 10) or not _DIGITS.match(text):
        raise ValidationError(f"{field} {value!r} is not an MPRN: give 6 to 10 digits", code="invalid_mprn")
    return text


def is_mpan(value):
    try:
        normalise_mpan(value)
    except ValidationError:
        return False
    return True
