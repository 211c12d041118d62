"""Four eyes on rollouts: a rollout of a critical SRV or over ADAPTER_ROLLOUT_APPROVAL_SIZE devices
freezes its population at the start and sends nothing until a second person (DCC, never its
starter) approves it; declined, it is cancelled. On DCC's Approvals page, the rollout's page and
the API; its waves' batches do not wait a second time."""
import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from adapter import rollouts, tasks
from adapter.models import Batch, RolloutMember, ServiceRequestVariant
from tests.adapter.test_rollouts import listed, north_and_south, waves

pytestmark = pytest.mark.django_db


def big(user, devices):
    return rollouts.rollout_create(actor=user, name="Big tariff", srv="4.1.1", params={}, waves=waves(1, "rest"),
                                   device_list=listed(devices))


def test_over_the_size_it_waits_for_a_second_dcc_person(srvs, orgs, supplier_a, dcc_operator, settings,
                                                        django_capture_on_commit_callbacks):
    settings.ADAPTER_ROLLOUT_APPROVAL_SIZE = 2
    rollout = big(supplier_a, north_and_south(orgs["SUPA"], 3, 0))
    with django_capture_on_commit_callbacks(execute=True):
        rollouts.rollout_start(rollout=rollout, actor=supplier_a)
        tasks.rollouts_advance()
    rollout.refresh_from_db()
    assert rollout.state == "awaiting_approval" and rollout.needs_approval
    assert rollout.approval_reason == "3 devices, more than 2"
    assert RolloutMember.objects.filter(rollout=rollout).count() == 3  # frozen at the start
    assert not Batch.objects.filter(rollout=rollout).exists()  # nothing made, nothing sent
    event = rollout.events.get(to_state="awaiting_approval")
    assert event.actor == supplier_a and "waits for a second person" in event.reason
    with pytest.raises(rollouts.services.Conflict):
        rollouts.rollout_pause(rollout=rollout, actor=supplier_a)
    with pytest.raises(PermissionDenied):
        rollouts.rollout_approve(rollout=rollout, actor=supplier_a)  # a supplier is no second person
    with django_capture_on_commit_callbacks(execute=True):
        rollouts.rollout_approve(rollout=rollout, actor=dcc_operator, reason="checked the tariff")
    rollout.refresh_from_db()
    assert rollout.state == "completed" and rollout.approved_by == dcc_operator
    assert set(Batch.objects.filter(rollout=rollout).values_list("approved_by", "needs_approval")) == {
        (dcc_operator.pk, False)}
    approved = rollout.events.get(from_state="awaiting_approval", to_state="running")
    assert approved.actor == dcc_operator and "checked the tariff" in approved.reason
    with pytest.raises(rollouts.services.Conflict):
        rollouts.rollout_decline(rollout=rollout, actor=dcc_operator)


def test_the_starter_cannot_approve_their_own_and_a_decline_cancels(srvs, orgs, dcc_operator, dcc_admin, settings,
                                                                    django_capture_on_commit_callbacks):
    settings.ADAPTER_ROLLOUT_APPROVAL_SIZE = 1
    rollout = big(dcc_operator, north_and_south(orgs["SUPA"], 2, 0))
    rollouts.rollout_start(rollout=rollout, actor=dcc_operator)
    with pytest.raises(PermissionDenied, match="yourself"):
        rollouts.rollout_approve(rollout=rollout, actor=dcc_operator)
    rollouts.rollout_decline(rollout=rollout, actor=dcc_admin, reason="wrong population")
    rollout.refresh_from_db()
    assert rollout.state == "cancelled" and rollout.declined_by == dcc_admin and rollout.ended_at
    assert set(rollout.waves.values_list("state", flat=True)) == {"cancelled"}
    assert rollout.events.filter(to_state="cancelled", actor=dcc_admin, reason__contains="wrong population").exists()


def test_a_critical_srv_needs_approval_whatever_its_size(srvs, orgs, supplier_a, settings):
    settings.ADAPTER_ROLLOUT_APPROVAL_SIZE = 1000
    rollout = big(supplier_a, north_and_south(orgs["SUPA"], 1, 0))
    assert rollouts.approval_needed(rollout, 1) == ""
    rollout.srv = ServiceRequestVariant.objects.filter(critical=True).first()
    assert rollouts.approval_needed(rollout, 1) == f"{rollout.srv.code} is a critical SRV"
    assert rollouts.approval_needed(rollout, 5000) == f"{rollout.srv.code} is a critical SRV; 5,000 devices, more " \
                                                       "than 1,000"


def test_approvals_page_rollout_page_and_api(srvs, orgs, supplier_a, dcc_operator, client_for, api_for, settings,
                                             django_capture_on_commit_callbacks):
    settings.ADAPTER_ROLLOUT_APPROVAL_SIZE = 1
    first, second = (big(supplier_a, north_and_south(orgs["SUPA"], 2, 0, prefix=p))
                     for p in ("00-DB-79-00-00", "00-DB-7A-00-00"))
    for rollout in (first, second):
        rollouts.rollout_start(rollout=rollout, actor=supplier_a)
    dcc = client_for(dcc_operator)
    page = dcc.get(reverse("adapter:approvals")).content.decode()
    assert "Rollouts awaiting approval" in page and reverse("adapter:rollout_approve", args=[first.pk]) in page
    assert "2 devices, more than 1" in page
    detail = dcc.get(first.get_absolute_url()).content.decode()
    assert "waits for a second person" in detail and reverse("adapter:rollout_decline", args=[first.pk]) in detail
    supplier_page = client_for(supplier_a).get(first.get_absolute_url()).content.decode()
    assert reverse("adapter:rollout_approve", args=[first.pk]) not in supplier_page
    assert client_for(supplier_a).post(reverse("adapter:rollout_approve", args=[first.pk])).status_code in (403, 404)
    with django_capture_on_commit_callbacks(execute=True):
        dcc.post(reverse("adapter:rollout_approve", args=[first.pk]), {"reason": "fine"})
    first.refresh_from_db()
    assert first.state == "completed"
    api = api_for(dcc_operator)
    assert api_for(supplier_a).post(f"/api/v1/adapter/rollouts/{second.pk}/approve/").status_code == 403
    declined = api.post(f"/api/v1/adapter/rollouts/{second.pk}/decline/", {"reason": "no"}, format="json")
    assert declined.status_code == 200 and declined.json()["state"] == "cancelled"
    assert declined.json()["declined_by"] == str(dcc_operator) and declined.json()["needs_approval"] is True
    assert api.post(f"/api/v1/adapter/rollouts/{second.pk}/approve/").status_code == 409
    schema = api.get("/api/schema/?format=json").json()
    paths = schema["paths"]
    fields = schema["components"]["schemas"]["Rollout"]["properties"]
    assert fields["declined_by"].get("nullable") and fields["approved_by"].get("nullable")  # null until decided
    assert "/api/v1/adapter/rollouts/{id}/approve/" in paths and "/api/v1/adapter/rollouts/{id}/decline/" in paths
