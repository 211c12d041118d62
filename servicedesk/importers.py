"""Incident import (CSV or XLSX): users raise many incidents at once from a file. Every row is
checked and previewed; a clean file is written in one transaction, each row through
``services.incident_raise`` (the same service as the browser and the API, channel "import").

Columns: summary, description, category (required); devices, service_requests (separated by
spaces, commas or semicolons), regions, and organisation (the code; DCC only, to log for a
service user) with caller (who of that organisation reported it).
"""
import re

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from portal.choices import Region
from portal.ids import normalise_eui64
from portal.imports import Preview, RowResult, row_error
from portal.models import Organisation
from portal.scoping import VIEW, scope
from servicedesk import services
from servicedesk.choices import Channel, IncidentCategory

REQUIRED = ("summary", "description", "category")
OPTIONAL = ("devices", "service_requests", "regions", "organisation", "caller")
_SPLIT = re.compile(r"[\s,;]+")


def _list(text):
    return [part for part in _SPLIT.split(text or "") if part]


def _arguments(row, actor, organisations):
    """The incident_raise arguments of one row, or ValidationError naming each bad field."""
    errors = {}
    summary = row.get("summary", "").strip()
    if not summary:
        errors["summary"] = "give a summary"
    elif len(summary) > 200:
        errors["summary"] = f"the summary has {len(summary)} characters; at most 200"
    if not row.get("description", "").strip():
        errors["description"] = "give a description"
    category = row.get("category", "").strip()
    if category not in {str(c) for c in IncidentCategory.values}:
        errors["category"] = f"{category!r} is not an incident category (1 most severe to 5 least)"
    devices = []
    for value in _list(row.get("devices")):
        try:
            devices.append(normalise_eui64(value, field="device"))
        except ValidationError as exc:
            errors["devices"] = " ".join(exc.messages)
    regions = [r.lower() for r in _list(row.get("regions"))]
    unknown = [r for r in regions if r not in Region.values]
    if unknown:
        errors["regions"] = f"{', '.join(unknown)} is not one of {', '.join(Region.values)}"
    organisation = actor.organisation
    code = row.get("organisation", "").strip().upper()
    if code:
        organisation = organisations.get(code)
        if organisation is None:
            errors["organisation"] = f"unknown organisation {code!r}"
    caller = row.get("caller", "").strip()
    if organisation is not None and organisation != actor.organisation and not caller:
        errors["caller"] = f"name who at {organisation.code} reported it"
    if errors:
        raise ValidationError(errors)
    return {"summary": summary, "description": row["description"].strip(), "proposed_category": int(category),
            "organisation": organisation, "devices": devices, "service_requests": _list(row.get("service_requests")),
            "regions": sorted(set(regions), key=regions.index), "caller": caller,
            "channel": Channel.IMPORT}


def run(data, *, filename="", commit=False, actor=None):
    """Check every row; when ``commit`` and the file is clean, raise every incident in one transaction."""
    preview = Preview()
    table = preview.read(data, filename=filename, required=REQUIRED, optional=OPTIONAL)
    if table is None:
        return preview
    # A service user names only its own organisation; other codes read as unknown.
    organisations = {o.code.upper(): o for o in scope(actor, Organisation.objects.all(), VIEW)}
    rows = []
    for number, key, row in preview.fresh_rows(table, key=lambda row: row.get("summary", "")[:60]):
        try:
            rows.append((number, _arguments(row, actor, organisations)))
        except ValidationError as exc:
            preview.refuse(number, key, exc)
            continue
        preview.results.append(RowResult(number, key, change="create"))
    if commit and preview.clean:
        try:
            with transaction.atomic():
                for number, arguments in rows:
                    try:
                        services.incident_raise(actor=actor, **arguments)
                    except (ValidationError, PermissionDenied) as exc:
                        result = next(r for r in preview.results if r.row == number)
                        result.error = row_error(exc) if isinstance(exc, ValidationError) else str(exc)
                        raise
        except (ValidationError, PermissionDenied):
            return preview  # nothing written: the row says why
        preview.committed = True
    return preview
