"""How the service levels' tables read: a row's state in a word (and a colour, through the
badge), measurement types by their labels, and rows with traffic before those without.
``{% load slas_tags %}``; used by the dashboard's tile, the report and the statement."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django import template

from slas.choices import MeasurementType, MeasureState

register = template.Library()


@register.filter
def measure_state(row: Mapping[str, Any]) -> MeasureState:
    """The row's MeasureState (slas.metrics.measure_state put it there). A statement frozen
    before rows carried it has "met" and "below_minimum", decided by the same rule."""
    state = row.get("state")
    if state in MeasureState.values:
        return MeasureState(state)
    if row.get("met") is None:
        return MeasureState.NOT_MEASURED
    if row["met"]:
        return MeasureState.MET
    return MeasureState.BELOW if row.get("below_minimum") else MeasureState.BETWEEN


@register.filter
def type_label(value: str) -> str:
    """On-demand, not on_demand: the choice's label (the token itself when it is not a type)."""
    return str(MeasurementType(value).label) if value in MeasurementType.values else value


@register.filter
def with_traffic(rows: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return [r for r in rows if r.get("measured")]


@register.filter
def without_traffic(rows: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return [r for r in rows if not r.get("measured")]
