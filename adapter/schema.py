"""Parameter schemas: validate a request's parameters and build its form fields from one schema."""
from functools import lru_cache

import jsonschema
from django import forms


class ParamError(ValueError):
    """Parameters do not fit the SRV's schema; ``field`` names the parameter at fault."""

    def __init__(self, field, message):
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field
        self.message = message


@lru_cache(maxsize=512)
def _validator(schema_key):
    import json

    schema = json.loads(schema_key)
    return jsonschema.Draft7Validator(schema)


def validate(schema, params):
    """Raise ParamError for the first problem (by field name order), else return params."""
    import json

    if not isinstance(params, dict):
        raise ParamError("params", "must be a JSON object")
    validator = _validator(json.dumps(schema, sort_keys=True))
    errors = sorted(validator.iter_errors(params), key=lambda e: (list(e.path), e.validator))
    if not errors:
        return params
    error = errors[0]
    if error.validator == "required":
        field = error.message.split("'")[1]
        raise ParamError(field, "is required")
    if error.validator == "additionalProperties":
        allowed = ", ".join(schema.get("properties", {})) or "none"
        raise ParamError(error.message.split("'")[1], f"is not a parameter of this request (allowed: {allowed})")
    field = ".".join(str(p) for p in error.path) or "params"
    return_text = {
        "minimum": f"must be at least {error.schema.get('minimum')}",
        "maximum": f"must be at most {error.schema.get('maximum')}",
        "multipleOf": f"must be a multiple of {error.schema.get('multipleOf')}",
        "maxLength": f"must be at most {error.schema.get('maxLength')} characters",
        "enum": f"must be one of {', '.join(map(str, error.schema.get('enum', [])))}",
        "pattern": error.schema.get("description") or f"must match {error.schema.get('pattern')}",
        "type": f"must be {'an' if error.schema.get('type') == 'integer' else 'a'} {error.schema.get('type')}",
    }.get(error.validator, error.message)
    raise ParamError(field, f"{return_text} (got {error.instance!r})")


STRING_BOUND = 200


def form_fields(schema):
    """Django form fields named param_<name> for each property of the schema."""
    fields = {}
    required = set(schema.get("required", []))
    from adapter.catalogue import limits_text

    for name, prop in schema.get("properties", {}).items():
        label = prop.get("title", name)
        # What the field accepts, in words beside it: its limits (and units, in its title), then its description.
        limits = limits_text(prop)
        help_text = "; ".join(part for part in (limits[:1].upper() + limits[1:], prop.get("description", "")) if part)
        is_required = name in required
        if "enum" in prop:
            choices = [(v, v) for v in prop["enum"]]
            if not is_required:
                choices = [("", "—"), *choices]
            field = forms.ChoiceField(label=label, choices=choices, required=is_required, help_text=help_text)
        elif prop.get("type") == "integer":
            field = forms.IntegerField(label=label, min_value=prop.get("minimum"), max_value=prop.get("maximum"),
                                       step_size=prop.get("multipleOf"), required=is_required, help_text=help_text)
        elif prop.get("type") == "boolean":
            field = forms.BooleanField(label=label, required=False, help_text=help_text)
        else:
            # Bounded even where the schema sets no length: nothing longer reaches the checks.
            field = forms.CharField(label=label, max_length=prop.get("maxLength") or STRING_BOUND,
                                    required=is_required, help_text=help_text)
        fields[f"param_{name}"] = field
    return fields


def params_from_form(schema, cleaned):
    params = {}
    for name in schema.get("properties", {}):
        value = cleaned.get(f"param_{name}")
        if value in (None, ""):
            continue
        params[name] = value
    return params


def labelled(schema, params):
    """A request's parameters as (label, value) pairs for people: each property's title (which
    names its unit) in the schema's order, then any key the schema does not name, as stored."""
    properties = (schema or {}).get("properties", {})
    params = params if isinstance(params, dict) else {}
    pairs = []
    for name, prop in properties.items():
        if name in params:
            value = params[name]
            pairs.append((prop.get("title", name), "yes" if value is True else "no" if value is False else value))
    pairs.extend((name, value) for name, value in params.items() if name not in properties)
    return pairs
