"""Numbers that tell the truth (issue 17): the dashboard counts alerts raised in the last hour,
not rows stored in it, and "My actions" is one answer for the tile and the list (an action
owned by everyone, "ALL", is each SDAG member's too)."""
import datetime as dt
import re

import pytest
from django.utils import timezone

pytestmark = pytest.mark.django_db


def test_alerts_tile_counts_alerts_raised_in_the_last_hour_not_rows_stored(orgs, dcc_operator, client_for):
    from adapter.models import Alert

    now = timezone.now()
    # A bulk load stores yesterday's alerts now (created_at = now): they were not raised in the last hour.
    Alert.objects.bulk_create([Alert(alert_id=f"old-{n}", alert_code="0x8F3A", organisation=orgs["SUPA"],
                                     raised_at=now - dt.timedelta(days=1, minutes=n)) for n in range(30)])
    Alert.objects.bulk_create([Alert(alert_id=f"new-{n}", alert_code="0x8F35", organisation=orgs["SUPB"],
                                     raised_at=now - dt.timedelta(minutes=5 + n)) for n in range(3)])
    tile = client_for(dcc_operator).get("/dashboard/tiles/alerts/").content.decode()
    assert '<p class="figure">3</p>' in tile
    assert "0x8F35" in tile and "0x8F3A" not in tile


def _action_refs(html):
    return set(re.findall(r"SDAGX_\d+\.\d+", html))


def test_my_actions_tile_and_list_agree_and_all_is_every_members(orgs, dcc_operator, sdag_member, client_for):
    from workshops import services
    from workshops.models import Action

    series = services.series_save(code="sdagx", name="SDAG", action_prefix="SDAGX", actor=dcc_operator)
    meeting = services.meeting_save(series=series, number=3, title="SDAG #3", date=dt.date(2013, 4, 23),
                                    start=dt.time(10), end=dt.time(12), actor=dcc_operator)
    named = services.action_raise(meeting=meeting, title="Named", owners=[sdag_member], actor=dcc_operator)
    everyone = services.action_raise(meeting=meeting, title="Everyone's", all_members=True, actor=dcc_operator)
    services.action_raise(meeting=meeting, title="Someone else's", owners=[dcc_operator], actor=dcc_operator)
    both = services.action_raise(meeting=meeting, title="Named and ALL", owners=[sdag_member], all_members=True,
                                 actor=dcc_operator)
    expected = {named.reference, everyone.reference, both.reference}
    assert set(Action.objects.owned_by(sdag_member).values_list("reference", flat=True)) == expected
    assert Action.objects.owned_by(sdag_member).count() == 3  # no row repeats for an action named and ALL

    client = client_for(sdag_member)
    tile = client.get("/dashboard/tiles/my_actions/").content.decode()
    assert '<p class="figure">3' in tile and _action_refs(tile) == expected
    listed = client.get("/workshops/actions/mine/", follow=True).content.decode()
    assert _action_refs(listed) == expected
    # "ALL" names the SDAG members, not DCC's operators: their own list holds only their own action.
    assert set(Action.objects.owned_by(dcc_operator).values_list("title", flat=True)) == {"Someone else's"}
