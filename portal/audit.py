"""How audit entries read for people: who (a name), what happened, to which object (its name,
linked to its page when the viewer may open it) and the values, with foreign keys shown as the
related object's name and choices as their labels.

django-auditlog stores a foreign key's change as the related row's id (``"organisation": ["3",
"5"]``) and a creation as ``"None" -> value`` for every field. ``audit_rows`` turns one page of
entries into rows a person can read with a fixed number of queries per model on the page (one
for the objects, one per related model), never one per entry; ``changes_display_dict`` of
auditlog would ask once per value.

Nothing is shown that the viewer may not see: objects and related objects are fetched through
``portal.scoping.scope`` (an id the viewer may not see stays an id), and an object's page is
linked only when the page's declared capability lets the viewer open it.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models
from django.urls import Resolver404, resolve
from django.utils.text import capfirst

from portal.access import may
from portal.scoping import scope

if TYPE_CHECKING:
    from portal.types import Viewer

# auditlog writes a missing value as the text "None"
MISSING = ("None", "", None)


@dataclass
class AuditRow:
    """One entry as the audit tables show it. ``changes``: (field, before, after) of an update;
    ``values``: (field, value) of a creation (the values set) or a deletion (the values the
    object had)."""

    entry: LogEntry
    actor: str
    action: str
    object_label: str
    object_url: str = ""
    changes: list[tuple[str, str, str]] = field(default_factory=list)
    values: list[tuple[str, str]] = field(default_factory=list)

    @property
    def is_listing(self) -> bool:
        """A creation or deletion: its values read as a list, not as before -> after."""
        return self.entry.action in (LogEntry.Action.CREATE, LogEntry.Action.DELETE)

    @property
    def span(self) -> int:
        return max(1, len(self.changes))


def actor_name(user: Any) -> str:
    if user is None:
        return "system"
    return user.get_full_name() or user.get_username()


def object_type_label(model: type[models.Model]) -> str:
    """A model as people call it ("Device", "RAID item"): its verbose name."""
    return str(capfirst(model._meta.verbose_name))


def _scoped(model: type[models.Model] | None) -> bool:
    return model is not None and hasattr(model, "scope_rule")


def _pk_values(model: type[models.Model], raw: Iterable[str]) -> list[Any]:
    values = []
    for value in raw:
        try:
            values.append(model._meta.pk.to_python(value))
        except (ValidationError, TypeError, ValueError):
            continue  # not an id of this model (a stale or odd value): shown as it was stored
    return values


def _fetch(viewer: Viewer, model: type[models.Model], raw_pks: Iterable[str]) -> dict[str, models.Model]:
    """The viewer's rows of ``model`` among these ids, by id as text: one query."""
    pks = _pk_values(model, set(raw_pks))
    if not pks:
        return {}
    return {str(obj.pk): obj for obj in scope(viewer, model._default_manager.filter(pk__in=pks))}


class _PageOpener:
    """Whether the viewer may open a URL: the capability its view declares (cached per view)."""

    def __init__(self, viewer: Viewer) -> None:
        self.viewer = viewer
        self.answers: dict[Any, bool] = {}

    def __call__(self, url: str) -> bool:
        from portal.generic import declaration_of

        try:
            match = resolve(url)
        except Resolver404:
            return False
        if match.func not in self.answers:
            declaration = declaration_of(match.func)
            self.answers[match.func] = declaration is not None and may(self.viewer, declaration.capability)
        return self.answers[match.func]


def _field(model: type[models.Model] | None, name: str) -> Any:
    """The field ``name`` of ``model`` as the audit entry names it, or None (no model, or a field since removed)."""
    if model is None:
        return None
    try:
        return model._meta.get_field(name)
    except FieldDoesNotExist:
        return None


def _foreign_key(model: type[models.Model] | None, name: str) -> type[models.Model] | None:
    """The related model of ``model.name`` when it is a foreign key (or one-to-one) to a scoped model."""
    model_field = _field(model, name)
    if model_field is None:
        return None
    related = model_field.related_model if (model_field.many_to_one or model_field.one_to_one) else None
    return related if isinstance(related, type) and hasattr(related, "scope_rule") else None


def _moment(model: type[models.Model] | None, name: str, value: str) -> str | None:
    """A date or time field's value as the site writes one (London time), or None."""
    model_field = _field(model, name)
    if not isinstance(model_field, models.DateField):  # DateTimeField is a DateField too
        return None
    from portal.templatetags.formatting import day, when

    try:
        if isinstance(model_field, models.DateTimeField):
            moment = dt.datetime.fromisoformat(value)
            return when(moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC), "seconds")
        return day(dt.date.fromisoformat(value))
    except ValueError:
        return None


def _choices(model: type[models.Model] | None, name: str) -> dict[str, str]:
    if model is None:
        return {}
    try:
        model_field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return {}
    flat = getattr(model_field, "flatchoices", None) or ()
    return {str(key): str(label) for key, label in flat}


def _shown_field(model: type[models.Model] | None, name: str) -> bool:
    """Whether a change of ``name`` is worth a line: not the primary key, and not a reverse
    relation (auditlog 3 writes every reverse relation of a created object as "app.Model.None")."""
    if model is None:
        return True
    try:
        model_field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return True  # a field since removed: what was recorded is still shown
    return not (getattr(model_field, "primary_key", False)
                or (model_field.auto_created and not model_field.concrete))


def audit_rows(viewer: Viewer, entries: Iterable[LogEntry]) -> list[AuditRow]:
    """Readable rows of ``entries`` (one page: a list or a sliced queryset) for ``viewer``."""
    entries = list(entries)
    models_of: dict[int, type[models.Model] | None] = {
        ct_id: ContentType.objects.get_for_id(ct_id).model_class()
        for ct_id in {entry.content_type_id for entry in entries}
    }
    # the objects, and the ids each foreign key names, per model: gathered first, fetched in bulk
    object_pks: dict[type[models.Model], set[str]] = defaultdict(set)
    related_pks: dict[type[models.Model], set[str]] = defaultdict(set)
    for entry in entries:
        model = models_of[entry.content_type_id]
        if _scoped(model) and entry.action != LogEntry.Action.DELETE:
            object_pks[model].add(entry.object_pk)  # type: ignore[index]
        for name, values in (entry.changes_dict or {}).items():
            related = _foreign_key(model, name)
            if related is not None and isinstance(values, (list, tuple)):
                related_pks[related].update(str(v) for v in values if v not in MISSING)
    objects = {model: _fetch(viewer, model, pks) for model, pks in object_pks.items()}
    related_names = {model: {pk: str(obj) for pk, obj in _fetch(viewer, model, pks).items()}
                     for model, pks in related_pks.items()}
    opens = _PageOpener(viewer)

    rows = []
    for entry in entries:
        model = models_of[entry.content_type_id]
        obj = objects.get(model, {}).get(entry.object_pk) if model is not None else None
        url = ""
        if obj is not None and hasattr(obj, "get_absolute_url"):
            candidate = obj.get_absolute_url()
            url = candidate if opens(candidate) else ""

        def shown(name: str, value: Any, model: Any = model) -> str:
            if value in MISSING:
                return ""
            related = _foreign_key(model, name)
            if related is not None:
                return related_names.get(related, {}).get(str(value), str(value))
            return _moment(model, name, str(value)) or _choices(model, name).get(str(value), str(value))

        row = AuditRow(entry=entry, actor=actor_name(entry.actor), action=entry.get_action_display(),
                       object_label=entry.object_repr, object_url=url)
        for name, values in (entry.changes_dict or {}).items():
            if not _shown_field(model, name):
                continue
            if isinstance(values, dict) and values.get("type") == "m2m":
                listed = ", ".join(str(o) for o in values.get("objects", []))
                removed = values.get("operation") == "delete"
                before, after = (listed, "") if removed else ("", listed)
            elif isinstance(values, (list, tuple)):
                padded = [*values, None, None]
                before, after = shown(name, padded[0]), shown(name, padded[1])
            else:
                before, after = "", shown(name, values)
            if row.is_listing:
                value = after if entry.action == LogEntry.Action.CREATE else before
                if value:
                    row.values.append((name, value))
            else:
                row.changes.append((name, before, after))
        rows.append(row)
    return rows
