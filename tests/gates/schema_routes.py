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
