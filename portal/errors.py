"""One way a service's ValidationError reaches the person: a form on a page, or an API response.

Services raise ``django.core.exceptions.ValidationError`` (from ``full_clean`` or a refused
transition). ``messages_by_field`` turns it into ``{field: [messages]}``; the API's exception
handler (portal.api) answers that as a 400, and ``errors_to_form`` puts the same messages on a
form, each beside the field it names.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

if TYPE_CHECKING:
    from django.forms import BaseForm


def messages_by_field(exc: ValidationError, *, unnamed: str = NON_FIELD_ERRORS) -> dict[str, list[str]]:
    """``{field: [messages]}`` of a ValidationError; an error raised without field names comes
    under ``unnamed`` (the form's non-field key, or "detail" for the API)."""
    if hasattr(exc, "error_dict"):
        return exc.message_dict
    return {unnamed: list(exc.messages)}


def errors_to_form(form: BaseForm, exc: ValidationError, field_map: Mapping[str, str] | None = None) -> None:
    """Put a service's ValidationError on ``form``: each message beside the field it names
    (``field_map`` renames a service's field to the form's, e.g. ``hub`` -> ``hub_id``), the rest
    above the form, prefixed with the field's name so the person knows what it is about."""
    field_map = field_map or {}
    for field, messages in messages_by_field(exc).items():
        name = field_map.get(field, field)
        if name in form.fields:
            form.add_error(name, messages)
        elif field == NON_FIELD_ERRORS:
            form.add_error(None, messages)
        else:
            form.add_error(None, [f"{field.replace('_', ' ')}: {message}" for message in messages])


def error_text(exc: ValidationError) -> str:
    """The messages of a ValidationError as one line (for a flash message after a redirect)."""
    return "; ".join(" ".join(messages) for messages in messages_by_field(exc).values())
