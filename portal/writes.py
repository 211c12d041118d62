"""The steps the write services repeat, written once. A service keeps its own transaction and
actor (``transaction.atomic``, ``set_actor``) and calls these inside them:

- ``save_validated(obj, **fields)``: set the fields, ``full_clean()``, save; a bad value is a
  ValidationError naming its field and nothing is written;
- ``upsert(Model, {key...}, **fields)``: the row the key finds, or a new one with the key, then
  the same;
- ``refuse_unknown(service, changes, allowed)``: an update that names a field it may not change
  is a programming error (ValueError naming the fields), never a silent no-op.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from django.db import models

M = TypeVar("M", bound=models.Model)


def save_validated(obj: M, *, exclude: Iterable[str] | None = None, **fields: Any) -> M:
    """``obj`` with ``fields`` set, checked (``full_clean``, minus ``exclude``) and saved."""
    for name, value in fields.items():
        setattr(obj, name, value)
    obj.full_clean(exclude=list(exclude) if exclude is not None else None)
    obj.save()
    return obj


def find_or_new(model: type[M], key: Mapping[str, Any]) -> M:
    """The row ``key`` finds, or a new (unsaved) one holding the key."""
    return model._default_manager.filter(**key).first() or model(**key)


def upsert(model: type[M], key: Mapping[str, Any], **fields: Any) -> M:
    """Create or update the row found by ``key`` (idempotent by the key), through save_validated."""
    return save_validated(find_or_new(model, key), **fields)


def refuse_unknown(service: str, changes: Mapping[str, Any], allowed: Iterable[str]) -> None:
    """Refuse ``changes`` that name a field outside ``allowed``."""
    unknown = set(changes) - set(allowed)
    if unknown:
        raise ValueError(f"{service} cannot change {', '.join(sorted(unknown))}")
