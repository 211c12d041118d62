"""The API's one body parser: JSON (settings REST_FRAMEWORK DEFAULT_PARSER_CLASSES; uploads add multipart).

DRF's JSONParser with one refusal more: a NUL character (U+0000) anywhere in the body, in a key or a
string value. PostgreSQL text cannot hold one, so without this a NUL in any field that is not a DRF
CharField (a slug naming a related record, a lookup key, a JSON parameter) reached the database and
failed there (found by the API fuzz gate). No field of the portal means a NUL; the answer is a 400
naming where it was, before any view code runs.
"""
from __future__ import annotations

from typing import Any

from rest_framework import parsers
from rest_framework.exceptions import ValidationError

MESSAGE = "A NUL character (\\u0000) is not allowed."


def nul_at(value: Any, where: str = "") -> str | None:
    """The path of the first string holding a NUL (``rows[2].params.name``), ``None`` if there is none."""
    if isinstance(value, str):
        return where if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            name = f"{where}.{key}" if where else str(key)
            if "\x00" in str(key):
                return name
            found = nul_at(item, name)
            if found is not None:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = nul_at(item, f"{where}[{index}]")
            if found is not None:
                return found
    return None


class JSONParser(parsers.JSONParser):
    """JSON bodies without NUL characters (see the module's docstring)."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        data = super().parse(stream, media_type, parser_context)
        where = nul_at(data)
        if where is not None:
            raise ValidationError({(where or "body").replace("\x00", "\\u0000"): [MESSAGE]})
        return data
