"""The API as its OpenAPI schema documents it: operations, and the model behind each path, so that the
gates cover every endpoint an app adds (including extra paths outside the router) without being edited."""
import re
from dataclasses import dataclass

from django.urls import Resolver404, resolve

from tests.urlsweep import Route

PARAM = re.compile(r"\{([^}]+)\}")
METHODS = ("get", "post", "put", "patch", "delete")


@dataclass
class Operation:
    method: str
    path: str  # template, e.g. /api/organisations/{code}/
    params: list
    query: list  # names of documented query parameters

    def fill(self, values):
        return PARAM.sub(lambda m: str(values[m.group(1)]), self.path)


def model_of(path):
    """The model served at an API path template, where the view tells it."""
    try:
        match = resolve(PARAM.sub("1", path))
    except Resolver404:
        return None
    return Route(match.view_name, [], match.func, path).model


def operations(client):
    """Every operation of /api/schema/ as seen by the client's user."""
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200, f"/api/schema/ answered {response.status_code}"
    schema = response.json()
    found = []
    for path, item in schema["paths"].items():
        shared = item.get("parameters", [])
        for method in METHODS:
            if method not in item:
                continue
            parameters = shared + item[method].get("parameters", [])
            query = [p["name"] for p in parameters if p.get("in") == "query"]
            found.append(Operation(method, path, PARAM.findall(path), query))
    return found


def objects_of_both(orgs, supplier_a, supplier_b):
    """Every app's isolation objects for supplier B and, where the app's tests/<app>/isolation.py can make a
    second set (unique keys per call), for supplier A too."""
    from importlib import import_module, util

    from django.conf import settings
    from django.core.exceptions import ValidationError
    from django.db import IntegrityError, transaction

    made = []
    for app in settings.PORTAL_APPS:
        if not util.find_spec(f"tests.{app}.isolation"):
            continue
        module = import_module(f"tests.{app}.isolation")
        made += module.owned_objects(orgs["SUPB"], supplier_b)
        try:
            with transaction.atomic():
                made += module.owned_objects(orgs["SUPA"], supplier_a)
        except (IntegrityError, ValidationError):
            pass  # that app's objects use fixed keys: B's set alone covers its routes
    return made
