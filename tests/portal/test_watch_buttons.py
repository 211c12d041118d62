"""Watch buttons on the detail pages and saved filters on the list pages of the apps."""
import datetime as dt

import pytest

from portal.notifications.models import Watch
from portal.savedfilters.models import SavedFilter

pytestmark = pytest.mark.django_db


@pytest.fixture
def governance(orgs, dcc_admin):
    from workshops.models import Action, Consultation, Meeting, MeetingSeries, RaidItem, Topic

    series = MeetingSeries.objects.create(code="sdag", name="SDAG")
    meeting = Meeting.objects.create(series=series, number=3, title="SDAG 3", date=dt.date(2026, 5, 1),
                                     start=dt.time(10), end=dt.time(12))
    action = Action.objects.create(reference="SDAG_3.01", meeting=meeting, title="Watch me")
    item = RaidItem.objects.create(kind="issue", topic=Topic.objects.create(name="HAN"), title="Watched issue",
                                   originator=orgs["DCC"])
    consultation = Consultation.objects.create(title="Watched consultation", opens=dt.date(2026, 1, 1),
                                               closes=dt.date(2026, 1, 31))
    return {"action": action, "raiditem": item, "consultation": consultation, "meeting": meeting}


def test_governance_detail_pages_offer_a_working_watch_button(governance, sdag_member, client_for):
    client = client_for(sdag_member)
    for model, obj in governance.items():
        html = client.get(obj.get_absolute_url()).content.decode()
        assert f'name="model" value="workshops.{model}"' in html and f'name="object_id" value="{obj.pk}"' in html
        assert ">Watch</button>" in html
    action = governance["action"]
    response = client.post("/watch/", {"model": "workshops.action", "object_id": action.pk, "watch": "1"},
                           HTTP_HX_REQUEST="true")
    assert "Watching · stop" in response.content.decode()
    assert Watch.objects.filter(user=sdag_member, object_id=str(action.pk)).exists()
    assert "Watching · stop" in client.get(action.get_absolute_url()).content.decode()


def test_list_pages_offer_saved_filters(governance, dcc_operator, client_for):
    client = client_for(dcc_operator)
    html = client.get("/workshops/actions/?status=open").content.decode()
    assert "Saved filters:" in html and 'name="page" value="workshops:action_list"' in html
    assert 'name="querystring" value="status=open"' in html
    response = client.post("/filters/save/", {"page": "workshops:action_list", "name": "Open ones",
                                              "querystring": "status=open"})
    assert response.status_code == 302 and response["Location"] == "/workshops/actions/?status=open"
    assert SavedFilter.objects.filter(user=dcc_operator, page="workshops:action_list").count() == 1
    assert "Open ones" in client.get("/workshops/actions/").content.decode()
    for url in ("/workshops/raid/", "/workshops/meetings/", "/workshops/documents/", "/workshops/consultations/"):
        assert "Saved filters:" in client.get(url).content.decode(), url


def test_device_page_offers_the_watch_button(orgs, supplier_a, client_for):
    from inventory.models import Device

    device = Device.objects.create(device_id="00-DB-12-34-56-78-90-A0", device_type="ESME", status="commissioned",
                                   supplier=orgs["SUPA"], region="north")
    html = client_for(supplier_a).get(f"/inventory/devices/{device.device_id}/").content.decode()
    assert 'name="model" value="inventory.device"' in html and f'name="object_id" value="{device.pk}"' in html
