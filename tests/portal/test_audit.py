"""The audit trail records who changed which field from what to what, and the API serves it scoped."""
import pytest
from auditlog.context import set_actor
from auditlog.models import LogEntry

from portal import services


@pytest.mark.django_db
def test_change_is_recorded_field_by_field(orgs, dcc_admin, api_for):
    services.organisation_upsert(code="SUPA", name="Albion Energy plc", kind="service_user",
                                 duis_roles=["IS"], user_id="90b3d51f30010001", actor=dcc_admin)
    entry = LogEntry.objects.filter(object_pk=str(orgs["SUPA"].pk), action=LogEntry.Action.UPDATE).latest("timestamp")
    assert entry.actor == dcc_admin
    assert entry.changes_dict["name"] == ["Albion Energy", "Albion Energy plc"]
    data = api_for(dcc_admin).get("/api/audit/", {"model": "portal.organisation", "object_pk": orgs["SUPA"].pk}).json()
    assert data["results"][0]["changes"]["name"] == ["Albion Energy", "Albion Energy plc"]
    assert data["results"][0]["actor"] == "administrator"


@pytest.mark.django_db
def test_supplier_reads_only_the_trail_of_what_it_may_see(orgs, supplier_a, dcc_admin, api_for):
    with set_actor(dcc_admin):
        services.organisation_upsert(code="SUPB", name="Brightwater", kind="service_user")
        services.organisation_upsert(code="SUPA", name="Albion", kind="service_user")
    api = api_for(supplier_a)
    assert len(api.get("/api/audit/").json()["results"]) == 0
    theirs = {"model": "portal.organisation", "object_pk": orgs["SUPB"].pk}
    mine = {"model": "portal.organisation", "object_pk": orgs["SUPA"].pk}
    assert len(api.get("/api/audit/", theirs).json()["results"]) == 0
    assert len(api.get("/api/audit/", mine).json()["results"]) > 0


@pytest.mark.django_db
def test_audit_page_for_dcc(orgs, dcc_operator, client_for):
    response = client_for(dcc_operator).get("/audit/")
    assert response.status_code == 200 and "Albion Energy" in response.content.decode()
