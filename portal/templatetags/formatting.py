"""How the site writes money, days and times: one filter each, a builtin of every template
(config/settings.py TEMPLATES "builtins"), so no page invents its own format.

``{{ amount|money }}`` -> £1,250,000.00 (Decimal pounds, pence exact; never via float);
``{{ date|day }}`` -> 7 Dec 2026; ``{{ moment|when }}`` -> 7 Dec 2026 16:19 GMT (London time,
with its zone: GMT or BST; ``when:"seconds"`` -> 7 Dec 2026 16:19:05 GMT); ``{{ device.device_id|eui }}`` -> the id in
``<code class="eui">``, which never wraps (static/css/layout.css).
The formats themselves live in config/formats/en_GB/formats.py.
"""
from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django import template
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.safestring import SafeString

register = template.Library()
PENNY = Decimal("0.01")


def money_text(value: Any) -> str:
    """£ and pounds with thousands separators and two decimals; "" for None or ""; the value
    itself when it is no amount (a template should not fail on a blank frozen field)."""
    if value is None or value == "":
        return ""
    try:
        amount = Decimal(str(value)).quantize(PENNY, ROUND_HALF_UP)
    except (InvalidOperation, ValueError):
        return str(value)
    sign = "−" if amount < 0 else ""  # U+2212 minus: a hyphen reads as a dash in a table
    return f"{sign}£{abs(amount):,.2f}"


@register.filter
def money(value: Any) -> str:
    return money_text(value)


@register.filter
def day(value: Any) -> str:
    """A calendar day (a date, or a moment's London day)."""
    if not value:
        return ""
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
    return date_format(value, "DATE_FORMAT")


@register.filter
def when(value: Any, precision: str = "") -> str:
    """A moment in London time with its zone; ``when:"seconds"`` keeps the seconds (request and
    delivery times, where seconds are what is measured); a bare date is written as a day."""
    if not value:
        return ""
    if not isinstance(value, dt.datetime):
        return day(value)
    if timezone.is_naive(value):
        value = timezone.make_aware(value, dt.UTC)  # stored times are UTC
    moment = timezone.localtime(value)
    if precision == "seconds":
        return f"{date_format(moment, 'DATE_FORMAT')} {date_format(moment, 'H:i:s T')}"
    return date_format(moment, "DATETIME_FORMAT")


@register.filter
def eui(value: Any) -> SafeString | str:
    """A device id (EUI-64, 00-DB-12-34-56-78-90-A0) as one unbroken token: a line break inside it
    would read as two ids. Escaped like any value; "" for None or ""."""
    if value is None or value == "":
        return ""
    return format_html('<code class="eui">{}</code>', value)
