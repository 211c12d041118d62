"""Global search: one box, results grouped by kind, every queryset through portal.scoping.scope.

Exact keys first (device ids in any EUI-64 form, MPAN/MPRN, request ids, alert ids, action
references, CI keys, organisation codes): each is a unique-index lookup, so the answer stays
instant on a million devices. Free text then runs over titles and descriptions of the
governance and reference registers (never over the device or request tables): PostgreSQL
full-text search where the database is PostgreSQL, icontains on SQLite.

Only this module (with the dashboard and the URLconf) may import the other apps. Each kind is
looked up by app label and model name and skipped while its app is not built yet.
"""
import re
from dataclasses import dataclass, field

from django.apps import apps
from django.core.exceptions import FieldError, ValidationError
from django.db import connection
from django.db.models import F, Q
from django.urls import NoReverseMatch, reverse

from portal.ids import normalise_eui64
from portal.scoping import scope

PER_KIND = 20
MPXN = re.compile(r"^\d{6,13}$")
ACTION_REF = re.compile(r"^([A-Za-z]+)[\s_-]*(\d+)\.(\d+)$")
RAID_REF = re.compile(r"^(?:raid|r)[\s_#-]*(\d+)$", re.I)


@dataclass
class Result:
    title: str
    subtitle: str = ""
    url: str = ""


@dataclass
class Group:
    kind: str
    label: str
    results: list = field(default_factory=list)


def _model(label):
    try:
        return apps.get_model(label)
    except (LookupError, ValueError):
        return None


def _url(obj, name=None, *args):
    if name:
        try:
            return reverse(name, args=args)
        except NoReverseMatch:
            return ""
    getter = getattr(obj, "get_absolute_url", None)
    if getter:
        try:
            return getter()
        except NoReverseMatch:
            return ""
    return ""


def _text(queryset, query, fields):
    """Free-text match over ``fields``: full-text search on PostgreSQL, icontains elsewhere."""
    if connection.vendor == "postgresql":
        from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector

        # Filter with ``vector @@ query`` over the very expression of the GIN indexes the
        # workshops migrations create (0003_search_indexes), so PostgreSQL answers from the
        # index; a filter on the rank could never use it. Rank only the rows that matched.
        vector = SearchVector(*fields, config="english")
        search_query = SearchQuery(query, search_type="websearch", config="english")
        return (queryset.annotate(_vector=vector).filter(_vector=search_query)
                .annotate(_rank=SearchRank(F("_vector"), search_query)).order_by("-_rank"))
    condition = Q()
    for name in fields:
        condition |= Q(**{f"{name}__icontains": query})
    return queryset.filter(condition)


def _eui64(query):
    try:
        return normalise_eui64(query)
    except (ValidationError, ValueError):
        return None


# --- one function per kind: (user, query) -> list[Result] -----------------------------------

def _devices(user, query):
    Device = _model("inventory.Device")
    if Device is None:
        return []
    eui = _eui64(query)
    compact = query.replace(" ", "")
    if eui:
        condition = Q(device_id=eui)
    elif MPXN.match(compact):
        condition = Q(mpxn=compact)
    else:
        return []
    devices = scope(user, Device.objects.filter(condition).select_related("supplier"))[:PER_KIND]
    return [Result(d.device_id, f"{d.get_device_type_display()} · {d.get_status_display()} · "
                   f"{d.supplier.code} · MPxN {d.mpxn or '—'}", _url(d, "inventory:device_detail", d.device_id))
            for d in devices]


def _requests(user, query):
    ServiceRequest = _model("adapter.ServiceRequest")
    if ServiceRequest is None or ":" not in query:
        return []
    found = scope(user, ServiceRequest.objects.filter(request_id=query.strip())
                  .select_related("srv", "organisation"))[:PER_KIND]
    return [Result(r.request_id, f"SRV {r.srv.code} · {r.get_state_display()} {r.outcome} · {r.organisation.code}",
                   _url(r, "adapter:request_detail", r.pk)) for r in found]


def _alerts(user, query):
    Alert = _model("adapter.Alert")
    if Alert is None:
        return []
    found = scope(user, Alert.objects.filter(alert_id=query.strip()))[:PER_KIND]
    return [Result(a.alert_id, f"{a.alert_code} {a.description}", _url(a, "adapter:alert_detail", a.pk))
            for a in found]


def _actions(user, query):
    Action = _model("workshops.Action")
    if Action is None:
        return []
    match = ACTION_REF.match(query.strip())
    queryset = scope(user, Action.objects.all())
    if match:
        prefix, major, minor = match.groups()
        found = queryset.filter(reference__iexact=f"{prefix}_{major}.{minor}")
    else:
        found = _text(queryset, query, ["reference", "title", "text"])
    return [Result(a.reference, f"{a.title} · {a.get_status_display()} · due {a.due or 'tbc'}", _url(a))
            for a in found[:PER_KIND]]


def _raid(user, query):
    RaidItem = _model("workshops.RaidItem")
    if RaidItem is None:
        return []
    queryset = scope(user, RaidItem.objects.select_related("topic"))
    match = RAID_REF.match(query.strip())
    found = queryset.filter(pk=int(match.group(1))) if match else _text(queryset, query, ["title", "description"])
    return [Result(f"{r.get_kind_display()}: {r.title}", f"{r.topic.name} · {r.get_status_display()}", _url(r))
            for r in found[:PER_KIND]]


def _documents(user, query):
    Document = _model("workshops.Document")
    if Document is None:
        return []
    queryset = scope(user, Document.objects.all())
    exact = list(queryset.filter(Q(name__iexact=query) | Q(reference__iexact=query))[:PER_KIND])
    found = exact or list(_text(queryset, query, ["name", "reference", "content"])[:PER_KIND])
    return [Result(d.name, f"{d.reference} · version {d.current_version or '—'}", _url(d)) for d in found]


def _consultations(user, query):
    Consultation = _model("workshops.Consultation")
    if Consultation is None:
        return []
    found = _text(scope(user, Consultation.objects.all()), query, ["title", "summary"])[:PER_KIND]
    return [Result(c.title, getattr(c, "get_status_display", lambda: "")(), _url(c)) for c in found]


def _meetings(user, query):
    Meeting = _model("workshops.Meeting")
    if Meeting is None:
        return []
    queryset = scope(user, Meeting.objects.select_related("series"))
    match = re.match(r"^([A-Za-z][\w-]*)\s*#?\s*(\d+)$", query.strip())
    found = []
    if match:
        found = list(queryset.filter(series__code__iexact=match.group(1), number=int(match.group(2)))[:PER_KIND])
    if not found:
        found = list(_text(queryset, query, ["title", "venue", "minutes"])[:PER_KIND])
    return [Result(m.title, f"{m.series.name} {m.number} · {m.date:%d %b %Y}", _url(m)) for m in found]


def _configuration_items(user, query):
    Item = _model("inventory.ConfigurationItem")
    if Item is None:
        return []
    queryset = scope(user, Item.objects.all())
    exact = list(queryset.filter(Q(key__iexact=query) | Q(name__iexact=query))[:PER_KIND])
    found = exact or list(_text(queryset, query, ["key", "name", "description"])[:PER_KIND])
    return [Result(i.name, f"{i.key} · {i.get_kind_display()} {i.version}", _url(i, "inventory:ci_detail", i.key))
            for i in found]


def _device_models(user, query):
    DeviceModel = _model("inventory.DeviceModel")
    if DeviceModel is None:
        return []
    found = scope(user, DeviceModel.objects.filter(Q(model_id__iexact=query) | Q(manufacturer_name__iexact=query)))
    return [Result(f"{m.manufacturer_name or m.manufacturer_id} {m.model_id}", m.get_device_type_display(),
                   _url(m, "inventory:model_detail", m.pk)) for m in found[:PER_KIND]]


def _organisations(user, query):
    Organisation = _model("portal.Organisation")
    found = scope(user, Organisation.objects.filter(Q(code__iexact=query) | Q(name__icontains=query)))[:PER_KIND]
    return [Result(o.name, f"{o.code} · {o.get_kind_display()}", _url(o, "organisation_list") + f"?q={o.name}")
            for o in found]


# Kinds found by an exact operational key; when one of them answers, the free-text kinds are
# not asked (a device id is never a document title, and it keeps a key search to a few queries).
KEY_KINDS = [
    ("device", "Devices", _devices),
    ("request", "Service requests", _requests),
    ("alert", "Alerts", _alerts),
]
KINDS = [
    ("action", "Actions", _actions),
    ("raid", "RAID items", _raid),
    ("document", "Documents", _documents),
    ("consultation", "Consultations", _consultations),
    ("meeting", "Meetings", _meetings),
    ("ci", "Configuration items", _configuration_items),
    ("device_model", "Device models", _device_models),
    ("organisation", "Organisations", _organisations),
]


def search(user, query):
    """Groups of results the user may see, in the order of KINDS, empty groups left out."""
    query = (query or "").strip()[:200]
    if not query:
        return []
    groups = _run(KEY_KINDS, user, query)
    return groups or _run(KINDS, user, query)


def _run(kinds, user, query):
    groups = []
    for kind, label, finder in kinds:
        try:
            results = finder(user, query)
        except FieldError:
            # An app whose models are still being built answers nothing rather than an error.
            continue
        if results:
            groups.append(Group(kind, label, results))
    return groups
