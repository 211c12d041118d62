"""Fixtures of the service desk: the components (from configuration items), a third supplier
to be an interested party, and a helper that raises an incident through the service."""
import datetime as dt

import pytest

from inventory import services as inventory_services
from inventory.choices import ItemKind
from portal import services as portal_services
from portal.choices import OrganisationKind, PortalRole
from servicedesk import services

UTC = dt.UTC


@pytest.fixture
def supplier_c_org(orgs):
    return portal_services.organisation_upsert(code="SUPC", name="Coastal Gas", kind=OrganisationKind.SERVICE_USER,
                                               duis_roles=["GS"], user_id="90-B3-D5-1F-30-01-00-03")


@pytest.fixture
def supplier_c(supplier_c_org):
    return portal_services.person_upsert(username="carol", first_name="Carol", last_name="Tester",
                                         organisation=supplier_c_org, role=PortalRole.SERVICE_USER,
                                         email="carol@example.org", password="test-password-123")


@pytest.fixture
def second_dcc_admin(orgs):
    return portal_services.person_upsert(username="approver", first_name="Ada", last_name="Approver",
                                         organisation=orgs["DCC"], role=PortalRole.DCC_ADMIN,
                                         email="approver@example.org", password="test-password-123")


@pytest.fixture
def components(orgs):
    """DSP, CSP North and the User Gateway as service components (each on its own item)."""
    made = {}
    for order, (key, name, kind) in enumerate([("dsp", "DSP data service", ItemKind.SYSTEM),
                                               ("csp-north", "CSP North", ItemKind.SYSTEM),
                                               ("dugc", "DCC User Gateway", ItemKind.INTERFACE)]):
        item = inventory_services.item_upsert(key=key, name=name, kind=kind)
        made[key] = services.component_upsert(actor=None, key=key, name=name, item=item, sort_order=order)
    return made


@pytest.fixture
def raise_incident():
    """raise_incident(actor, **overrides) -> an incident raised through the service."""

    def make(actor, **overrides):
        arguments = {"summary": "Service requests to our meters time out", "description": "Since 09:00 every "
                     "on-demand read to our meters in the north answers E21.", "proposed_category": 3}
        arguments.update(overrides)
        return services.incident_raise(actor=actor, **arguments)

    return make


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    """Attachments and report files go to a throwaway MEDIA_ROOT."""
    settings.MEDIA_ROOT = tmp_path / "media"
