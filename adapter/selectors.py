"""Reads of the adapter app used by pages, the API and other apps (always scoped by the caller)."""
from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, TypedDict

from django.db.models import F, Max, Q, QuerySet

from adapter.models import Alert, Batch, ServiceRequest, ServiceRequestVariant
from portal.scoping import scope

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from adapter.models import ServiceRequestQuerySet
    from inventory.models import Device
    from portal.types import Viewer


class Segment(TypedDict):
    """One leg of a request's journey on its timeline (see timeline())."""

    label: str
    at: dt.datetime | None
    duration: dt.timedelta | None
    measure: str | None
    target: dt.timedelta | None
    measured: dt.timedelta | None
    within: bool | None


class Total(TypedDict):
    """The end-to-end figure under the timeline."""

    measure: str
    target: dt.timedelta
    duration: dt.timedelta | None
    within: bool | None

# Display defaults for the request timeline (the measures themselves live in slas, which the
# adapter never imports): on-demand targets of DOMAIN.md section 5.
TIMELINE_TARGETS: dict[str | None, tuple[str, dt.timedelta]] = {
    "dsp_out": ("SM1.1", dt.timedelta(seconds=4)),
    "csp": ("SM4.1", dt.timedelta(seconds=25)),
    "dsp_in": ("SM1.6", dt.timedelta(seconds=1)),
    "e2e": ("PM1", dt.timedelta(seconds=30)),
}


def requests_visible(user: Viewer) -> ServiceRequestQuerySet[ServiceRequest]:
    return scope(user, ServiceRequest.objects.for_list())


def batches_visible(user: Viewer) -> QuerySet[Batch]:
    return scope(user, Batch.objects.select_related("organisation", "user"))


def alerts_visible(user: Viewer) -> QuerySet[Alert]:
    return scope(user, Alert.objects.select_related("organisation", "device"))


def alerts_raised_since(user: Viewer, since: dt.datetime) -> QuerySet[Alert]:
    """The alerts ``user`` may see that were raised (the alert's own time, ``raised_at``) at or after
    ``since``. Not ``created_at``: that is when the portal stored the row, and a bulk load or a
    late delivery stores thousands of old alerts in one minute."""
    return scope(user, Alert.objects.filter(raised_at__gte=since))


def _between(a: dt.datetime | None, b: dt.datetime | None) -> dt.timedelta | None:
    return (b - a) if a and b else None


def timeline(request: ServiceRequest) -> tuple[list[Segment], Total]:
    """The request's journey: its segments (Segment: when each leg ended, its duration, the
    display target) and the end-to-end figure (Total)."""
    start = request.start_at or request.received_at
    if request.execute_at and request.dsp_sent_at and start and request.execute_at > (request.received_at or start):
        start = request.received_at  # the DSP leg of a future-dated request is timed from receipt
    han = _between(request.wan_delivered_at, request.device_responded_at)
    csp = None
    if request.wan_delivered_at and request.dsp_sent_at:
        csp = request.wan_delivered_at - request.dsp_sent_at
        if request.wan_returned_at and request.device_responded_at:
            csp += request.wan_returned_at - request.device_responded_at
    e2e = _between(request.received_at, request.responded_at)
    if e2e is not None and han is not None:
        e2e -= han  # HAN and meter time is excluded from every measure
    rows = [
        ("Received at the User Gateway", None, request.received_at, None, None),
        ("DSP sent to the WAN gateway", "dsp_out", request.dsp_sent_at, _between(request.received_at,
                                                                                  request.dsp_sent_at), None),
        ("CSP delivered over the WAN", "csp", request.wan_delivered_at,
         _between(request.dsp_sent_at, request.wan_delivered_at), csp),
        ("Device responded (HAN and meter, not measured)", None, request.device_responded_at, han, None),
        ("Response back at the WAN gateway", None, request.wan_returned_at,
         _between(request.device_responded_at, request.wan_returned_at), None),
        ("Response delivered to the user", "dsp_in", request.responded_at,
         _between(request.wan_returned_at, request.responded_at), None),
    ]
    segments: list[Segment] = []
    for label, key, at, duration, measured in rows:
        measure, target = TIMELINE_TARGETS.get(key, (None, None))
        value = measured if measured is not None else duration
        segments.append({"label": label, "at": at, "duration": duration, "measure": measure, "target": target,
                         "measured": value if key else None,
                         "within": (value <= target) if (target is not None and value is not None) else None})
    measure, target = TIMELINE_TARGETS["e2e"]
    total: Total = {"measure": measure, "target": target, "duration": e2e,
             "within": (e2e <= target) if e2e is not None else None}
    return segments, total


def device_recent_requests(user: Viewer, device: Device, limit: int = 20) -> QuerySet[ServiceRequest]:
    return requests_visible(user).filter(device=device).order_by("-pk")[:limit]


# --- what the adapter has recorded, for the measures (slas's fold) -------------------------------
# Unscoped system reads: the fold copies every organisation's records into facts. Each returns a
# values() QuerySet whose columns are, in this order, the names below (a caller compiling it to SQL
# can rely on the order), oldest first by the watermark column then pk, so a caller that remembers
# the last (watermark, pk) it read asks for the rest with since=that pair and never reads a row twice.

COMPLETED_REQUEST_COLUMNS = (
    "pk", "completed_at", "request_id", "srv_code", "measurement_type", "organisation_id", "device_eui", "region",
    "state", "outcome", "start_at", "received_at", "dsp_sent_at", "wan_delivered_at", "device_responded_at",
    "wan_returned_at", "responded_at",
)
ALERT_COLUMNS = (
    "pk", "created_at", "alert_id", "alert_code", "organisation_id", "device_eui", "region", "raised_at",
    "wan_received_at", "delivered_at",
)


def _since(rows: QuerySet, stamp: str, since: tuple[dt.datetime, int] | None) -> QuerySet:
    rows = rows.filter(**{f"{stamp}__isnull": False})
    if since is not None:
        watermark, last_pk = since
        rows = rows.filter(Q(**{f"{stamp}__gt": watermark}) | Q(**{stamp: watermark, "pk__gt": last_pk}))
    return rows.order_by(stamp, "pk")


def _columns(rows: QuerySet, names: tuple[str, ...]) -> QuerySet:
    # srv_code and device_eui come through joins; every other name is the model's own field. One
    # values() call with the annotations in place keeps the SELECT list in the order of ``names``.
    joined = {"srv_code": F("srv__code"), "device_eui": F("device__device_id")}
    return rows.annotate(**{n: joined[n] for n in names if n in joined}).values(*names)


def completed_requests_since(since: tuple[dt.datetime, int] | None = None, *, limit: int) -> QuerySet:
    """Completed service requests (completed_at set) after ``since`` = (completed_at, pk) of the last
    one read, at most ``limit``, as dicts of COMPLETED_REQUEST_COLUMNS: the request's timestamps,
    state and DUIS outcome, the adapter's measurement type token, the SRV code and the device's
    EUI-64 (None when the target was unknown)."""
    return _columns(_since(ServiceRequest.objects.all(), "completed_at", since), COMPLETED_REQUEST_COLUMNS)[:limit]


def alerts_since(since: tuple[dt.datetime, int] | None = None, *, limit: int) -> QuerySet:
    """Alerts recorded (created_at) after ``since`` = (created_at, pk) of the last one read, at most
    ``limit``, as dicts of ALERT_COLUMNS (device_eui: the device's EUI-64 or None)."""
    return _columns(_since(Alert.objects.all(), "created_at", since), ALERT_COLUMNS)[:limit]


def _backlog(rows: QuerySet, stamp: str, since: tuple[dt.datetime, int] | None, cap: int
             ) -> tuple[dt.datetime | None, int]:
    newest = rows.aggregate(newest=Max(stamp))["newest"]
    # Counted through a LIMIT: the dashboard asks every 30 s, and a fold days behind would
    # otherwise count millions of index entries each time. The order is irrelevant to a count.
    waiting = _since(rows, stamp, since).order_by().values("pk")[:cap].count()
    return newest, waiting


def completed_requests_backlog(since: tuple[dt.datetime, int] | None = None, *, cap: int
                               ) -> tuple[dt.datetime | None, int]:
    """(completed_at of the newest completed request, how many completed after ``since`` as
    completed_requests_since orders them, counted up to ``cap``): how far a reader of that feed
    is behind. Both read the completed_at index."""
    return _backlog(ServiceRequest.objects.all(), "completed_at", since, cap)


def alerts_backlog(since: tuple[dt.datetime, int] | None = None, *, cap: int) -> tuple[dt.datetime | None, int]:
    """As completed_requests_backlog, for alerts_since (created_at)."""
    return _backlog(Alert.objects.all(), "created_at", since, cap)


def may_sign_for(originator: str) -> bool:
    """Whether the portal may sign DUIS messages as ``originator`` (a DUIS user id): DCC's own ids,
    and a service user's that has an active message-signing delegation. Nobody else's, whatever
    keys the key store happens to hold."""
    from adapter.models import MessageSigningDelegation
    from portal.access import is_dcc_organisation
    from portal.models import Organisation

    organisations = list(Organisation.objects.filter(user_id=originator))
    if any(is_dcc_organisation(o) for o in organisations):
        return True
    return MessageSigningDelegation.objects.filter(organisation__in=organisations, revoked_at__isnull=True).exists()


# --- the submit page: the SRV picker and the device autocomplete ---------------------------------

class SrvEntry(TypedDict):
    """One SRV as the submit page's picker shows it."""

    code: str
    name: str
    description: str
    critical: bool
    roles: str
    may_send: bool


def may_send_srv(user: Viewer, srv: ServiceRequestVariant) -> bool:
    """Whether ``user``'s organisation may send ``srv`` (the E2 check of request_submit: DCC any
    SRV, a service user those its DUIS roles allow), for a person who may submit at all."""
    from portal.access import is_dcc_organisation, may

    organisation = getattr(user, "organisation", None)
    if organisation is None or not may(user, "adapter.servicerequest.submit"):
        return False
    return is_dcc_organisation(organisation) or bool(set(organisation.duis_roles or []) & set(srv.roles))


def srv_groups(user: Viewer) -> list[tuple[str, list[SrvEntry]]]:
    """The catalogue grouped by DUIS service, in code order: each SRV with a line describing what
    it applies to, its criticality, the roles that may send it and whether ``user`` may."""
    from adapter import catalogue
    from portal.access import is_dcc_organisation, may

    organisation = getattr(user, "organisation", None)
    submits = organisation is not None and may(user, "adapter.servicerequest.submit")
    dcc = submits and is_dcc_organisation(organisation)
    own_roles = set(getattr(organisation, "duis_roles", None) or [])
    groups: dict[str, list[SrvEntry]] = {}
    for srv in scope(user, ServiceRequestVariant).order_by("sort_order", "code"):
        applies = ", ".join(srv.device_types) if srv.device_types else "no device (DCC only)"
        params = ", ".join(p.get("title", n) for n, p in (srv.param_schema or {}).get("properties", {}).items())
        description = f"Applies to {applies}; {srv.get_measurement_type_display().lower()}"
        if srv.future_datable:
            description += ", may be future-dated"
        description += f". Parameters: {params}." if params else ". No parameters."
        roles = ", ".join(f"{r} ({catalogue.ROLE_NAMES.get(r, r)})" for r in srv.roles) or "DCC only"
        groups.setdefault(catalogue.service_of(srv.code), []).append({
            "code": srv.code, "name": srv.name, "description": description, "critical": srv.critical,
            "roles": roles, "may_send": bool(submits and (dcc or own_roles & set(srv.roles))),
        })
    return list(groups.items())


AUTOCOMPLETE_LIMIT = 20


def devices_to_command(user: Viewer, srv: ServiceRequestVariant | None, typed: str,
                       limit: int = AUTOCOMPLETE_LIMIT) -> list[Device]:
    """At most ``limit`` (never more than 20) devices whose id starts with what was typed (in any
    EUI-64 spelling: ``00db12``, ``00-DB-12``), that ``user``'s organisation may command: its own
    (DCC's: any), through ``scope``, and, given an SRV, of a type and SMI status it fits."""
    import re

    from inventory.models import Device
    from portal.access import is_dcc_organisation

    organisation = getattr(user, "organisation", None)
    if organisation is None:
        return []
    devices = scope(user, Device.objects.only("id", "device_id", "device_type", "status", "region"))
    if not is_dcc_organisation(organisation):
        devices = devices.filter(supplier=organisation)  # E4: a service user commands its own devices only
    if srv is not None:
        from adapter.services import allowed_statuses

        if srv.non_device:
            return []
        devices = devices.filter(device_type__in=srv.device_types, status__in=allowed_statuses(srv))
    digits = re.sub(r"[^0-9A-Fa-f]", "", typed[:64]).upper()[:16]
    prefix = "-".join(digits[i:i + 2] for i in range(0, len(digits), 2))
    if prefix:
        devices = devices.filter(device_id__startswith=prefix)
    return list(devices.order_by("device_id")[:max(0, min(limit, AUTOCOMPLETE_LIMIT))])
