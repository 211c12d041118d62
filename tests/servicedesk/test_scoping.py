"""Who sees which incident: the raiser's organisation sees and changes it, an interested party
sees and follows it but never changes it, another supplier never sees it, SDAG members see no
incident, DCC sees all. DCC-internal updates and attachments are DCC's alone. Planned
maintenance is seen by users once announced. The mechanism is portal.scoping's ScopeRule
(viewer_paths, outsiders_see)."""
import pytest
from django.db.models import Q
from django.http import Http404

from portal.access import may
from portal.scoping import CHANGE, VIEW, Domain, ScopeRule, get_scoped_or_404, rule_for, scope
from servicedesk import selectors, services
from servicedesk.choices import Visibility
from servicedesk.models import (
    ClockPause,
    Incident,
    IncidentAttachment,
    IncidentUpdate,
    MajorIncidentReport,
    PlannedMaintenance,
    Problem,
)

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def shared(orgs, supplier_a, supplier_c_org, dcc_operator, raise_incident):
    """Supplier A's incident with supplier C as interested party, one internal and one shared
    update, one internal and one shared attachment, a pause and a major incident report."""
    incident = raise_incident(supplier_a, summary="Albion's incident", interested_parties=[supplier_c_org])
    services.incident_add_update(actor=dcc_operator, incident=incident, text="internal: CSP cell 17",
                                 visibility=Visibility.INTERNAL)
    services.incident_add_update(actor=dcc_operator, incident=incident, text="shared: we are on it")
    services.incident_attach(actor=dcc_operator, incident=incident, filename="internal.pdf", content=PDF,
                             visibility=Visibility.INTERNAL)
    services.incident_attach(actor=supplier_a, incident=incident, filename="trace.pdf", content=PDF)
    services.incident_request_information(actor=dcc_operator, incident=incident, text="Which meters?")
    services.incident_flag_major(actor=dcc_operator, incident=incident)
    services.major_report_write(actor=dcc_operator, incident=Incident.objects.get(pk=incident.pk), summary="s",
                                timeline="t", impact="i", root_cause="r", actions="a")
    return Incident.objects.get(pk=incident.pk)


def test_the_incident_rule_is_owner_plus_viewers():
    rule = rule_for(Incident)
    assert rule == ScopeRule(Domain.OPERATIONAL, org_path="organisation", viewer_paths=("interested_parties",))
    assert rule_for(IncidentUpdate).outsiders_see == Q(visibility="parties")
    assert rule_for(Problem).org_path is None  # DCC's alone


def test_two_suppliers_and_an_interested_party(shared, supplier_a, supplier_b, supplier_c, sdag_member,
                                               dcc_operator, raise_incident):
    b_incident = raise_incident(supplier_b, summary="Brightwater's incident")
    assert list(selectors.incidents_visible(supplier_a)) == [shared]
    assert list(selectors.incidents_visible(supplier_b)) == [b_incident]
    assert list(selectors.incidents_visible(supplier_c)) == [shared]  # as interested party
    assert list(selectors.incidents_visible(sdag_member)) == []
    assert set(selectors.incidents_visible(dcc_operator)) == {shared, b_incident}
    # Seeing is not changing: the interested party follows, it does not write.
    assert list(scope(supplier_c, Incident, CHANGE)) == []
    assert list(scope(supplier_a, Incident, CHANGE)) == [shared]
    assert may(supplier_c, "servicedesk.incident.view", shared)
    assert not may(supplier_c, "servicedesk.incident.change", shared)
    assert may(supplier_a, "servicedesk.incident.change", shared)
    assert not may(supplier_b, "servicedesk.incident.view", shared)
    assert not may(supplier_a, "servicedesk.incident.manage", shared)
    assert may(dcc_operator, "servicedesk.incident.manage", shared)
    # Another organisation's incident is a 404, never a 403 (ids cannot be probed).
    with pytest.raises(Http404):
        get_scoped_or_404(supplier_b, Incident, pk=shared.pk)
    assert get_scoped_or_404(supplier_c, Incident, pk=shared.pk) == shared
    with pytest.raises(Http404):
        get_scoped_or_404(supplier_c, Incident, CHANGE, pk=shared.pk)


def test_a_shared_incident_is_listed_once(orgs, shared, supplier_a, supplier_c, supplier_c_org, dcc_operator):
    # Several interested parties (and the owner among them) never repeat a row.
    services.incident_set_parties(actor=dcc_operator, incident=shared,
                                  parties=[supplier_c_org, orgs["SUPB"], orgs["SUPA"]])
    assert set(shared.interested_parties.values_list("code", flat=True)) == {"SUPC", "SUPB"}
    assert selectors.incidents_visible(supplier_a).count() == 1
    assert selectors.incidents_visible(supplier_c).count() == 1


def test_internal_updates_and_attachments_are_dccs_alone(shared, supplier_a, supplier_b, supplier_c, dcc_operator):
    texts = {user: set(selectors.timeline(user, shared).values_list("text", flat=True))
             for user in (supplier_a, supplier_c, dcc_operator, supplier_b)}
    assert "internal: CSP cell 17" in texts[dcc_operator]
    for user in (supplier_a, supplier_c):
        assert "shared: we are on it" in texts[user] and "internal: CSP cell 17" not in texts[user]
    assert texts[supplier_b] == set()
    names = {user: set(scope(user, IncidentAttachment, VIEW).values_list("filename", flat=True))
             for user in (supplier_a, supplier_c, dcc_operator, supplier_b)}
    assert names[dcc_operator] == {"internal.pdf", "trace.pdf"}
    assert names[supplier_a] == names[supplier_c] == {"trace.pdf"} and names[supplier_b] == set()
    # Internal entries stay hidden however they are asked for.
    internal = IncidentUpdate.objects.get(visibility=Visibility.INTERNAL)
    assert not may(supplier_a, "servicedesk.incidentupdate.view", internal)
    assert may(dcc_operator, "servicedesk.incidentupdate.view", internal)


def test_children_of_an_incident_follow_it(shared, supplier_a, supplier_b, supplier_c, sdag_member):
    for model in (ClockPause, MajorIncidentReport):
        assert scope(supplier_a, model, VIEW).count() == 1
        assert scope(supplier_c, model, VIEW).count() == 1
        assert scope(supplier_b, model, VIEW).count() == 0
        assert scope(sdag_member, model, VIEW).count() == 0
    assert scope(supplier_a, Problem, VIEW).count() == 0  # problems are DCC's


def test_users_see_planned_maintenance_once_announced(components, dcc_admin, second_dcc_admin, supplier_a,
                                                      sdag_member, dcc_operator):
    import datetime as dt

    from django.utils import timezone

    start = timezone.now() + dt.timedelta(days=30)
    maintenance = services.maintenance_schedule(actor=dcc_admin, title="DSP patching", description="Patches",
                                                start_at=start, end_at=start + dt.timedelta(hours=2),
                                                components=[components["dsp"]])
    assert list(scope(supplier_a, PlannedMaintenance, VIEW)) == []
    assert list(scope(dcc_operator, PlannedMaintenance, VIEW)) == [maintenance]
    services.maintenance_approve(actor=second_dcc_admin, maintenance=maintenance)
    assert list(scope(supplier_a, PlannedMaintenance, VIEW)) == []
    services.maintenance_announce(actor=dcc_admin, maintenance=maintenance)
    assert list(scope(supplier_a, PlannedMaintenance, VIEW)) == [maintenance]
    assert list(scope(sdag_member, PlannedMaintenance, VIEW)) == [maintenance]
    assert list(scope(supplier_a, PlannedMaintenance, CHANGE)) == []
