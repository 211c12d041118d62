"""The site-wide isolation sweep (tests/portal/test_isolation.py) run over the inventory routes
alone, so a leak here is reported here even while another app's routes are failing."""
import pytest

from tests.inventory.isolation import owned_objects
from tests.portal import test_isolation as sweep
from tests.urlsweep import iter_routes


def _inventory_routes():
    return (r for r in iter_routes() if r.name.startswith("inventory:") or "/inventory" in r.route
            or r.route.startswith("api/") and any(p in r.route for p in ("devices", "device-models", "items",
                                                                          "relationships", "requirements")))


@pytest.fixture(autouse=True)
def _only_inventory(monkeypatch):
    monkeypatch.setattr(sweep, "iter_routes", _inventory_routes)
    monkeypatch.setattr(sweep, "foreign_objects", owned_objects)


def test_supplier_sees_nothing_of_another_supplier(orgs, supplier_a, supplier_b, client_for):
    sweep.sweep_reads(orgs, supplier_a, supplier_b, client_for)


def test_supplier_cannot_change_another_suppliers_objects(orgs, supplier_a, supplier_b, client_for):
    sweep.test_supplier_cannot_change_another_suppliers_objects(orgs, supplier_a, supplier_b, client_for)


def test_anonymous_users_get_login_or_refusal(orgs, supplier_b, client):
    sweep.test_anonymous_users_get_login_or_refusal(orgs, supplier_b, client)
