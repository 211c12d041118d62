"""Enumerate every URL pattern of the site, so that access tests cover new routes by themselves.

Each route's model and capability are read from the view's own declaration
(portal.generic.view_of or a generic view's ``model``/``capability``); DRF views name their model
through their queryset. Routes that declare nothing are listed by ``undeclared``.
"""
from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver

from portal.generic import ViewDeclaration, declaration_of


@dataclass
class Route:
    name: str  # "namespace:name"
    params: list  # names of the path parameters
    callback: object
    route: str

    @property
    def declaration(self) -> ViewDeclaration | None:
        return declaration_of(self.callback)

    @property
    def api_model(self):
        """The model of a DRF view (viewset or APIView), from its ``queryset`` or ``model``."""
        holder = getattr(self.callback, "cls", None)
        if holder is None:
            return None
        model = getattr(holder, "model", None)
        if model is not None:
            return model
        queryset = getattr(holder, "queryset", None)
        return getattr(queryset, "model", None)

    @property
    def model(self):
        """The model a route serves: the object its parameters name, or the rows it lists."""
        declaration = self.declaration
        if declaration is not None:
            return declaration.model
        return self.api_model

    @property
    def capability(self):
        declaration = self.declaration
        return declaration.capability if declaration is not None else None


SKIP_PREFIXES = ("admin:", "djdt", "static")


def iter_routes(resolver=None, namespace="", prefix=""):
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            ns = namespace
            if entry.namespace:
                ns = f"{namespace}{entry.namespace}:"
            yield from iter_routes(entry, ns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern) and entry.name:
            name = f"{namespace}{entry.name}"
            if name.startswith(SKIP_PREFIXES) or "format" in entry.pattern.regex.groupindex:
                continue
            yield Route(name, list(entry.pattern.regex.groupindex.keys()), entry.callback, prefix + str(entry.pattern))


def body_of(response):
    """The body to search for others' markers. A problem (application/problem+json) echoes the request's
    own path as ``instance``: that is the caller's input, not a disclosure, so it must be exactly the
    requested path and is left out; every other member is searched."""
    if response.streaming:
        return ""
    if response.get("Content-Type", "").startswith("application/problem+json"):
        import json

        body = json.loads(response.content)
        assert body.pop("instance") == response.wsgi_request.path
        return json.dumps(body)
    return response.content.decode("utf-8", "replace")
