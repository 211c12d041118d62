"""Remembering a person's columns of a table."""
from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction

from portal.lists.models import ListPreference
from portal.lists.tables import TABLES

if TYPE_CHECKING:
    from portal.models import User


@transaction.atomic
def list_columns_set(*, user: User, table: str, columns: Iterable[str], reset: bool = False) -> list[str]:
    """Keep ``columns`` (those the table has, in its order) as ``user``'s choice for ``table``;
    ``reset`` forgets the choice (the table's defaults again). Returns the columns now shown."""
    table_class = TABLES.get(table)
    if table_class is None:
        raise ValidationError({"table": f"no list table named {table[:60]!r}"})
    if reset:
        ListPreference.objects.filter(user=user, table=table).delete()
        return list(table_class.default_columns)
    wanted = set(columns)
    chosen = [name for name in table_class.choosable() if name in wanted]
    if not chosen:
        raise ValidationError({"columns": "Choose at least one column."})
    ListPreference.objects.update_or_create(user=user, table=table, defaults={"columns": chosen})
    return chosen
