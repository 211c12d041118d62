"""Objects of the service desk that belong to an organisation (for the isolation sweep): an
incident with a device reference, a note the parties see, a DCC-internal note, an attachment,
a major incident report and a problem grouping it, each with a marker its pages would show."""
from django.db import transaction

from portal import services as portal_services
from portal.choices import OrganisationKind, PortalRole
from portal.models import Organisation
from servicedesk import services
from servicedesk.choices import Visibility


def _incident_objects(organisation, person):
    dcc = Organisation.objects.filter(kind=OrganisationKind.DCC).first()
    desk = portal_services.person_upsert(username=f"iso-desk-{organisation.code.lower()}", first_name="Iso",
                                         last_name="Desk", organisation=dcc, role=PortalRole.DCC_OPERATIONS,
                                         email="iso-desk@example.org", password="test-password-123")
    marker = f"ISO-SD-{organisation.code}"
    with transaction.atomic():
        incident = services.incident_raise(actor=person, summary=f"{marker} incident summary",
                                           description=f"{marker} incident description", proposed_category=3,
                                           devices=["00-DB-AD-AD-AD-AD-AD-7E"])
    note = services.incident_add_update(actor=person, incident=incident, text=f"{marker} parties note")
    internal = services.incident_add_update(actor=desk, incident=incident, text=f"{marker} internal note",
                                            visibility=Visibility.INTERNAL)
    attachment = services.incident_attach(actor=person, incident=incident, filename=f"{marker}-log.txt",
                                          content=f"{marker} attachment body\n".encode())
    services.incident_flag_major(actor=desk, incident=incident)
    report = services.major_report_write(actor=desk, incident=incident, summary=f"{marker} report summary",
                                         timeline="t", impact="i", root_cause="r", actions="a")
    problem = services.problem_create(actor=desk, title=f"{marker} problem title", incidents=[incident])
    incident.refresh_from_db()
    return [(incident, f"{marker} incident summary"), (note, f"{marker} parties note"),
            (internal, f"{marker} internal note"), (attachment, f"{marker}-log.txt"),
            (report, f"{marker} report summary"), (problem, f"{marker} problem title")]


def owned_objects(organisation, person):
    # The status pages' objects (report deliveries, forecasts) keep their own module.
    from tests.servicedesk.isolation_status import owned_objects as status_objects

    return _incident_objects(organisation, person) + status_objects(organisation, person)
