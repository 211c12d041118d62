"""The demo makes the seed meeting pack recognisable, and loading it twice changes nothing."""
import pytest

from workshops.choices import ActionStatus, RaidStatus
from workshops.models import Action, ActionUpdate, AgendaItem, Comment, Consultation, Document, Meeting, RaidItem

pytestmark = pytest.mark.django_db


def counts():
    return [m.objects.count() for m in (Action, ActionUpdate, AgendaItem, Comment, Consultation, Document, Meeting,
                                        RaidItem)]


def test_demo_loads_the_seed_pack_idempotently(client_for):
    from portal import demo as portal_demo
    from portal.models import User
    from workshops import demo, selectors

    portal_demo.load()
    demo.load()
    first = counts()
    demo.load()
    assert counts() == first

    six = Meeting.objects.get(series__code="sdag", number=6)
    assert [i.title for i in six.agenda_items.all()][:3] == [
        "Actions from previous meeting", "Consolidated Issues Log - update", "PPMID summary of findings"]
    # 15 actions from the seed, plus the one the demo adds so the dashboards show a current overdue action.
    assert Action.objects.exclude(meeting__title__contains="(demo").count() == 15
    assert Action.objects.filter(meeting__title__contains="(demo").count() == 1
    assert Action.objects.get(reference="SDAG_4.07").status == ActionStatus.CLOSED_TO_BE_AGREED
    assert Action.objects.get(reference="SDAG_4.07").due is None
    billing = Action.objects.get(reference="SDAG_2.11")
    assert billing.status == ActionStatus.OPEN and billing.reopened_count == 1
    assert Action.objects.get(reference="SDAG_5.04").meeting.number == 5
    ppmid = Consultation.objects.get(title__startswith="PPMID")
    summary = dict(selectors.theme_summary(ppmid))
    assert sum(summary.values()) == 193 and summary["Clarification and scope of PPMID"] == 58
    assert Document.objects.get(name="Security Architecture (E2E)").current_version == "2.07"
    assert RaidItem.objects.filter(status=RaidStatus.CLOSED_AWAITING_ORIGINATOR).count() == 1
    assert Meeting.objects.filter(series__code="sdag", number=7, date__month=5).exists()
    assert Meeting.objects.filter(series__code="sdag-workshops").count() == 3

    admin = User.objects.get(username="admin")
    page = client_for(admin).get("/workshops/actions/").content.decode()
    assert "SDAG_2.13" in page and "Batching of User requests" in page
