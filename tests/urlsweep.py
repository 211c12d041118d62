"""Enumerate every URL pattern of the site, so that access tests cover new routes by themselves."""
from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver


@dataclass
class Route:
    name: str  # "namespace:name"
    params: list  # names of the path parameters
    callback: object
    route: str

    @property
    def model(self):
        """The model a view serves, where it can be told (DRF viewsets, class-based views,
        function views marked with ``view.scoped_model = Model``)."""
        callback = self.callback
        for holder in (getattr(callback, "cls", None), getattr(callback, "view_class", None), callback):
            if holder is None:
                continue
            model = getattr(holder, "scoped_model", None) or getattr(holder, "model", None)
            if model is not None:
                return model
            queryset = getattr(holder, "queryset", None)
            if queryset is not None and hasattr(queryset, "model"):
                return queryset.model
        return None


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
