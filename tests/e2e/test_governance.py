"""Journey: a DCC operator runs the governance registers in the browser: raises an action in a meeting,
imports an actions file through the preview, closes a RAID item; the originator's SDAG member confirms it."""
import datetime as dt
import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

ACTIONS_CSV = (
    "reference,title,text,owners,due,status,updates\n"
    'SDAG_2.13,Batching of User requests,DECC to consider,JH,23.04.13,Ongoing,"23.04.13: Still under review"\n'
)


@pytest.fixture
def registers(orgs, dcc_operator):
    from portal import services as portal_services
    from portal.choices import PortalRole
    from workshops import services
    from workshops.choices import RaidKind

    portal_services.person_upsert(username="jh", first_name="Jh", last_name="Person", organisation=orgs["DECC"],
                                  role=PortalRole.SDAG_MEMBER, initials="JH", email="jh@example.org",
                                  password=None)
    series = services.series_save(code="sdag", name="SDAG", action_prefix="SDAG", actor=dcc_operator)
    meeting = services.meeting_save(series=series, number=6, title="SDAG meeting #6", date=dt.date(2013, 4, 23),
                                    start=dt.time(10), end=dt.time(15), venue="BIS Conference Centre",
                                    actor=dcc_operator)
    item = services.agenda_item_save(meeting=meeting, title="Master issues log", actor=dcc_operator)
    topic = services.topic_get_or_create(name="HAN")
    raid = services.raid_save(kind=RaidKind.RISK, topic=topic, title="HAN coverage in flats",
                              originator=orgs["DECC"], owner=dcc_operator, likelihood=4, impact=5,
                              actor=dcc_operator)
    return {"meeting": meeting, "item": item, "raid": raid}


def test_operator_raises_imports_and_closes_and_the_originator_confirms(page, login, dcc_operator, sdag_member,
                                                                        registers):
    meeting, raid = registers["meeting"], registers["raid"]
    login(page, dcc_operator)

    # Raise an action on an agenda item of the meeting.
    page.goto(f"/workshops/meetings/{meeting.pk}/")
    expect(page.locator("h1")).to_have_text("SDAG meeting #6")
    row = page.locator(f"#item-{registers['item'].pk}")
    row.locator("summary", has_text="Record outcome or raise action").click()
    raise_form = row.locator("form[action$='/actions/']")
    raise_form.locator("[name=title]").fill("Circulate the HAN survey")
    raise_form.locator("[name=due]").fill("30.04.13")
    raise_form.get_by_role("button", name="Raise action").click()
    expect(page.get_by_text("Action SDAG_6.01 raised.")).to_be_visible()
    actions = page.locator("section.card", has=page.locator("#actions-h"))
    expect(actions).to_contain_text("SDAG_6.01")
    expect(actions).to_contain_text("Circulate the HAN survey")

    # Import an actions file: the preview lists its rows; commit writes them.
    page.goto("/workshops/actions/import/")
    page.set_input_files("input[name=file]", files=[{"name": "actions.csv", "mimeType": "text/csv",
                                                     "buffer": ACTIONS_CSV.encode()}])
    page.get_by_role("button", name="Preview").click()
    preview = page.locator("section.import-preview")
    expect(preview).to_contain_text("1 row, all fine")
    expect(preview.locator("tbody tr")).to_have_count(1)
    expect(preview).to_contain_text("SDAG_2.13")
    page.get_by_role("button", name="Commit import").click()
    expect(page).to_have_url(re.compile(r"/workshops/actions/$"))
    expect(page.get_by_text(re.compile(r"^Imported: "))).to_be_visible()
    expect(page.locator("main")).to_contain_text("SDAG_2.13")
    expect(page.locator("main")).to_contain_text("Batching of User requests")
    expect(page.locator("main")).to_contain_text("SDAG_6.01")

    # Close the RAID item: it waits for its originator.
    page.goto(f"/workshops/raid/{raid.pk}/")
    page.fill("textarea[name=resolution]", "Covered by the 868 MHz solution")
    page.get_by_role("button", name="Close and ask the originator").click()
    facts = page.locator("dl.facts")
    expect(facts).to_contain_text("Closed, awaiting originator")
    expect(facts).to_contain_text("Covered by the 868 MHz solution")
    assert page.console_errors == []

    # The originator's SDAG member confirms the closure.
    page.context.clear_cookies()
    login(page, sdag_member)
    page.goto(f"/workshops/raid/{raid.pk}/")
    expect(page.locator("dl.facts")).to_contain_text("Closed, awaiting originator")
    page.get_by_role("button", name="Confirm: the answer closes it").click()
    expect(page.get_by_text(f"{raid.reference} closed.")).to_be_visible()
    facts = page.locator("dl.facts")
    expect(facts.locator("dt", has_text="Status").locator("xpath=following-sibling::dd[1]")).to_have_text("Closed")
    expect(page.get_by_role("button", name="Confirm: the answer closes it")).to_have_count(0)
    assert page.console_errors == []
