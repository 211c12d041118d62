"""Supply point numbers: MPAN (electricity) and MPRN (gas), see DOMAIN.md sections 3 and 8.

An MPAN is written in full as 21 digits over two lines (often after an "S"):

    top line     profile class (2) | meter time-switch code (3) | line loss factor class (3)
    bottom line  the 13-digit core: distributor id (2) | identifier (10) | check digit (1)

The core names the supply point for good; the top line describes the supply and is the
supplier's to change. A core is checked as the industry checks it, in this order: the
distributor id must be a known distributor, then the check digit must be right. The two
failures have different messages (and codes), so a row of an import says which one it is.
"""
import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError

# Weights of the first twelve digits of an MPAN core (the distributor id and the identifier).
MPAN_PRIMES = (3, 5, 7, 13, 17, 19, 23, 29, 31, 37, 41, 43)
_DIGITS = re.compile(r"^\d+$")
_SPACING = re.compile(r"[\s\-/]")

# Distributor ids (the first two digits of the core). Source: Elexon's Market Domain Data (the
# MPAS operator list), as reproduced in public MPAN libraries and DNO references, checked
# 2026: ids 10-23 are the fourteen DNO licence areas (GSP groups _A to _P); ids from 24 upward
# are given to licensed independent distribution network operators (IDNOs) in order of
# licensing, 24 (Independent Power Networks) to 38 (Indigo Power) so far. Add a newly licensed
# IDNO here; the register refuses any other id.
DNO_DISTRIBUTORS = {
    "10": "Eastern England (UK Power Networks)",
    "11": "East Midlands (National Grid Electricity Distribution)",
    "12": "London (UK Power Networks)",
    "13": "Merseyside and North Wales (SP Energy Networks)",
    "14": "West Midlands (National Grid Electricity Distribution)",
    "15": "North East England (Northern Powergrid)",
    "16": "North West England (Electricity North West)",
    "17": "North Scotland (Scottish and Southern Electricity Networks)",
    "18": "South Scotland (SP Energy Networks)",
    "19": "South East England (UK Power Networks)",
    "20": "Southern England (Scottish and Southern Electricity Networks)",
    "21": "South Wales (National Grid Electricity Distribution)",
    "22": "South West England (National Grid Electricity Distribution)",
    "23": "Yorkshire (Northern Powergrid)",
}
IDNO_DISTRIBUTORS = {
    "24": "Independent Power Networks",
    "25": "ESP Electricity",
    "26": "Last Mile Electricity",
    "27": "The Electricity Network Company (GTC)",
    "28": "UK Power Networks (IDNO)",
    "29": "Harlaxton Energy Networks",
    "30": "Leep Electricity Networks",
    "31": "UK Power Distribution",
    "32": "Energy Assets Networks",
    "33": "Eclipse Power Networks",
    "34": "Murphy Power Distribution",
    "35": "Fulcrum Electricity Assets",
    "36": "Vattenfall Networks",
    "37": "Optimal Power Networks",
    "38": "Indigo Power",
}
DISTRIBUTORS = {**DNO_DISTRIBUTORS, **IDNO_DISTRIBUTORS}
# Profile classes 00 (half-hourly) to 08 (the non-half-hourly load profiles).
PROFILE_CLASSES = frozenset(f"{n:02d}" for n in range(9))


@dataclass(frozen=True)
class Mpan:
    """A parsed MPAN: the core always, the top line when the full 21 digits were given."""

    core: str
    profile_class: str = ""
    meter_timeswitch_code: str = ""
    line_loss_factor_class: str = ""

    @property
    def distributor_id(self):
        return self.core[:2]

    @property
    def distributor(self):
        return DISTRIBUTORS.get(self.distributor_id, "")

    @property
    def is_full(self):
        return bool(self.profile_class)

    @property
    def full(self):
        """The 21 digits (top line then core), or the core alone when no top line is known."""
        if not self.is_full:
            return self.core
        return self.profile_class + self.meter_timeswitch_code + self.line_loss_factor_class + self.core


def mpan_check_digit(first12):
    """The check digit of an MPAN core whose first twelve digits are ``first12``."""
    if len(first12) != 12 or not _DIGITS.match(first12):
        raise ValueError("an MPAN check digit needs exactly twelve digits")
    return sum(int(d) * p for d, p in zip(first12, MPAN_PRIMES, strict=True)) % 11 % 10


def _check_core(text, value, field):
    distributor = text[:2]
    if distributor not in DISTRIBUTORS:
        raise ValidationError(
            f"{field} {value!r} has an unknown distributor id {distributor}: an MPAN core starts with a "
            f"distributor's id (DNOs 10-23, IDNOs {min(IDNO_DISTRIBUTORS)}-{max(IDNO_DISTRIBUTORS)})",
            code="mpan_distributor",
        )
    expected = mpan_check_digit(text[:12])
    if int(text[12]) != expected:
        raise ValidationError(
            f"{field} {value!r} has a wrong check digit: {text[12]} given, {expected} expected",
            code="mpan_check_digit",
        )


def parse_mpan(value, field="MPAN"):
    """Parse a full MPAN (21 digits, an optional leading "S", spaces, dashes or a slash between
    the parts) or its 13-digit core. Raises ValidationError naming ``field`` and what is wrong."""
    text = _SPACING.sub("", (value or "").strip())
    if len(text) == 22 and text[0] in "sS":
        text = text[1:]
    if not _DIGITS.match(text) or len(text) not in (13, 21):
        raise ValidationError(
            f"{field} {value!r} is not an MPAN core: give 13 digits "
            "(2-digit distributor id, 10-digit identifier, check digit) or the full 21-digit MPAN "
            "(profile class, meter time-switch code, line loss factor class, then the core)",
            code="invalid_mpan",
        )
    if len(text) == 13:
        _check_core(text, value, field)
        return Mpan(core=text)
    profile_class, mtc, llfc, core = text[:2], text[2:5], text[5:8], text[8:]
    if profile_class not in PROFILE_CLASSES:
        raise ValidationError(
            f"{field} {value!r} has an unknown profile class {profile_class} (00 to 08)", code="mpan_profile_class"
        )
    _check_core(core, value, field)
    return Mpan(core=core, profile_class=profile_class, meter_timeswitch_code=mtc, line_loss_factor_class=llfc)


def normalise_mpan(value, field="MPAN"):
    """Return the 13-digit MPAN core of a core or a full MPAN, or raise ValidationError saying
    what is wrong."""
    return parse_mpan(value, field).core


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
