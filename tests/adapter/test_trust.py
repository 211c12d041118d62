"""Issue 18, trust: four eyes on DCC's own critical requests and large batches (never one's own
approval, both names in the audit trail), DCC's floors under service users' thresholds, DCC's own
traffic counted against its thresholds, and request ids unique per originator."""
import pytest
from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from adapter import services, tasks
from adapter.choices import BatchState, RequestState, ThresholdChangeState
from adapter.models import AnomalyThreshold, Batch, SendAttempt, ServiceRequest, ThresholdChange
from portal import services as portal_services
from portal.choices import OrganisationKind, PortalRole
from tests.adapter.conftest import sign_precommand

pytestmark = pytest.mark.django_db

CRITICAL = ("7.5", {"switch": 2, "duration": 30})


def submit(user, srv, device_id, params=None, **extra):
    return services.request_submit(user=user, srv=srv, device_id=device_id, params=params or {}, **extra)


def colleague(organisation, username="carol", role=PortalRole.SERVICE_USER):
    return portal_services.person_upsert(username=username, first_name=username.title(), last_name="Tester",
                                         organisation=organisation, role=role, initials=username[:2].upper(),
                                         email=f"{username}@example.org", password="test-password-123")


# --- four eyes: single requests ------------------------------------------------------------------

def test_dcc_critical_request_waits_for_a_second_dcc_person(srvs, devices, orgs, dcc_operator, dcc_admin,
                                                            command_key, django_capture_on_commit_callbacks):
    code, params = CRITICAL
    with django_capture_on_commit_callbacks(execute=True):
        request = submit(dcc_operator, code, devices["a_esme"].device_id, params)
    assert request.state == RequestState.AWAITING_APPROVAL and request.outcome == "I99"
    assert request.request_id.startswith("90-B3-D5-1F-30-00-00-00:")  # DCC's own DUIS user id
    assert not request.signature and not SendAttempt.objects.filter(request=request).exists()
    # the requester can never approve (or decline) their own, whatever asks the service
    with pytest.raises(PermissionDenied, match="yourself"):
        services.request_approve(request=request, actor=dcc_operator)
    with pytest.raises(PermissionDenied, match="yourself"):
        services.request_decline(request=request, actor=dcc_operator)
    with django_capture_on_commit_callbacks(execute=True):
        approved = services.request_approve(request=request, actor=dcc_admin)
    approved.refresh_from_db()
    assert approved.approved_by == dcc_admin and approved.approved_at is not None
    # approved: on to the pre-command, which DCC's own command-signing key (held by DCC, not the
    # portal) must sign before anything is sent
    assert approved.state == RequestState.AWAITING_SIGNATURE and approved.precommand_at and not approved.signature
    assert not SendAttempt.objects.filter(request=approved).exists()
    key = command_key(orgs["DCC"])
    with django_capture_on_commit_callbacks(execute=True):
        services.request_sign(request=approved, signature=sign_precommand(key, approved.precommand),
                              actor=dcc_operator)
    approved.refresh_from_db()
    assert approved.signature and approved.signed_at
    assert approved.state == RequestState.RESPONDED
    # once decided, no second decision: a conflict naming the state
    with pytest.raises(services.Conflict, match="not awaiting approval"):
        services.request_approve(request=approved, actor=dcc_admin)
    # both names in the audit trail, in the approver's entry
    entry = LogEntry.objects.get_for_object(approved).filter(actor=dcc_admin).get()
    assert entry.additional_data["requested_by"] == str(dcc_operator)
    assert entry.additional_data["approved_by"] == str(dcc_admin)
    assert "approved_by" in entry.changes_dict


def test_dcc_non_critical_request_and_service_users_critical_are_not_held(srvs, devices, dcc_operator,
                                                                           supplier_a):
    assert submit(dcc_operator, "4.1.1", devices["a_esme"].device_id).state == RequestState.QUEUED
    code, params = CRITICAL
    # a service user's critical request is not held for four eyes: it goes straight to its signature
    assert submit(supplier_a, code, devices["a_esme"].device_id, params).state == RequestState.AWAITING_SIGNATURE


def test_decline_and_the_api_answers_403_and_409(srvs, devices, dcc_operator, dcc_admin, supplier_a, api_for):
    code, params = CRITICAL
    first = submit(dcc_operator, code, devices["a_esme"].device_id, params)
    second = submit(dcc_operator, code, devices["a_esme"].device_id, params)
    url = "/api/adapter/requests/{}/{}/"
    own = api_for(dcc_operator).post(url.format(first.pk, "approve"))
    assert own.status_code == 403 and "yourself" in own.json()["detail"]
    # a service user cannot even see DCC's request
    assert api_for(supplier_a).post(url.format(first.pk, "approve")).status_code == 404
    other = api_for(dcc_admin)
    declined = other.post(url.format(first.pk, "decline"))
    assert declined.status_code == 200 and declined.json()["state"] == "rejected"
    assert declined.json()["declined_by"] == dcc_admin.pk
    again = other.post(url.format(first.pk, "approve"))
    assert again.status_code == 409 and "not awaiting approval" in again.json()["detail"]
    assert not SendAttempt.objects.filter(request=first).exists()
    ok = other.post(url.format(second.pk, "approve"))
    assert ok.status_code == 200 and ok.json()["approved_by"] == dcc_admin.pk


def test_approval_queue_page(srvs, devices, dcc_operator, dcc_admin, client_for, supplier_a):
    code, params = CRITICAL
    request = submit(dcc_operator, code, devices["a_esme"].device_id, params)
    page = client_for(dcc_admin).get(reverse("adapter:approvals")).content.decode()
    assert request.request_id in page and reverse("adapter:request_approve", args=[request.pk]) in page
    mine = client_for(dcc_operator).get(reverse("adapter:approvals")).content.decode()
    assert "Yours: another DCC person decides" in mine
    detail = client_for(dcc_operator).get(request.get_absolute_url()).content.decode()
    assert reverse("adapter:request_approve", args=[request.pk]) not in detail
    assert client_for(supplier_a).get(reverse("adapter:approvals")).status_code == 403
    # the page's own button, by the requester, is refused by the service (403)
    assert client_for(dcc_operator).post(reverse("adapter:request_approve", args=[request.pk])).status_code == 403
    response = client_for(dcc_admin).post(reverse("adapter:request_approve", args=[request.pk]),
                                          {"next": reverse("adapter:approvals")})
    assert response.status_code == 302 and response.url == reverse("adapter:approvals")
    request.refresh_from_db()
    assert request.state != RequestState.AWAITING_APPROVAL and request.approved_by == dcc_admin


def test_quarantined_dcc_critical_request_still_needs_approval_after_release(srvs, devices, dcc_operator,
                                                                               dcc_admin):
    services.threshold_save(organisation=dcc_operator.organisation, srv=srvs["7.5"], period="day", limit=0,
                            actor=dcc_admin)
    code, params = CRITICAL
    request = submit(dcc_operator, code, devices["a_esme"].device_id, params)
    assert request.state == RequestState.QUARANTINED
    services.request_release(request=request, actor=dcc_admin)
    assert request.state == RequestState.AWAITING_APPROVAL and not request.signature


# --- four eyes: batches --------------------------------------------------------------------------

def _rows(devices, n):
    return ("srv,device_id\n" + "".join(f"4.1.1,{devices['a_esme'].device_id}\n" for _ in range(n))).encode()


def test_large_dcc_batch_is_checked_then_waits_then_runs_on_approval(srvs, devices, dcc_operator, dcc_admin,
                                                                     settings, django_capture_on_commit_callbacks):
    settings.ADAPTER_FOUR_EYES_BATCH_SIZE = 3
    with django_capture_on_commit_callbacks(execute=True):
        batch = services.batch_create(user=dcc_operator, data=_rows(devices, 4), filename="big.csv")
    batch.refresh_from_db()
    assert batch.state == BatchState.AWAITING_APPROVAL and batch.needs_approval
    assert (batch.checked_rows, batch.accepted_rows) == (4, 4)
    assert set(batch.requests.values_list("state", flat=True)) == {RequestState.AWAITING_APPROVAL}
    assert not SendAttempt.objects.filter(request__batch=batch).exists()
    tasks.advance()  # the sweep sends nothing of it either
    assert not SendAttempt.objects.filter(request__batch=batch).exists()
    with pytest.raises(PermissionDenied, match="yourself"):
        services.batch_approve(batch=batch, actor=dcc_operator)
    with django_capture_on_commit_callbacks(execute=True):
        services.batch_approve(batch=batch, actor=dcc_admin)
    batch.refresh_from_db()
    assert batch.state == BatchState.COMPLETED and batch.approved_by == dcc_admin
    assert set(batch.requests.values_list("state", flat=True)) == {RequestState.RESPONDED}
    assert set(batch.requests.values_list("approved_by", flat=True)) == {dcc_admin.pk}
    entry = LogEntry.objects.get_for_object(batch).filter(actor=dcc_admin).get()
    assert entry.additional_data == {"requested_by": str(dcc_operator), "requested_by_id": dcc_operator.pk,
                                     "approved_by": str(dcc_admin), "approved_by_id": dcc_admin.pk}


def test_batch_decline_api_and_small_batches(srvs, devices, dcc_operator, dcc_admin, supplier_a, settings,
                                             api_for, django_capture_on_commit_callbacks):
    settings.ADAPTER_FOUR_EYES_BATCH_SIZE = 3
    with django_capture_on_commit_callbacks(execute=True):
        big = services.batch_create(user=dcc_operator, data=_rows(devices, 4), filename="big.csv")
        small = services.batch_create(user=dcc_operator, data=_rows(devices, 3), filename="small.csv")
        theirs = services.batch_create(user=supplier_a, data=_rows(devices, 5), filename="theirs.csv")
    small.refresh_from_db()
    theirs.refresh_from_db()
    assert small.state == BatchState.COMPLETED and not small.needs_approval
    assert theirs.state == BatchState.COMPLETED  # four eyes is for DCC's own traffic
    url = "/api/adapter/batches/{}/{}/"
    assert api_for(dcc_operator).post(url.format(big.pk, "decline")).status_code == 403
    conflict = api_for(dcc_admin).post(url.format(small.pk, "approve"))
    assert conflict.status_code == 409 and "not awaiting approval" in conflict.json()["detail"]
    declined = api_for(dcc_admin).post(url.format(big.pk, "decline"))
    assert declined.status_code == 200 and declined.json()["state"] == "declined"
    assert set(big.requests.values_list("state", flat=True)) == {RequestState.REJECTED}
    assert not SendAttempt.objects.filter(request__batch=big).exists()


# --- thresholds: DCC's own, and DCC's floors -----------------------------------------------------

def test_dcc_own_traffic_is_counted_against_dcc_thresholds(srvs, devices, dcc_operator, dcc_admin):
    services.threshold_save(organisation=dcc_operator.organisation, srv=srvs["4.1.1"], period="hour", limit=2,
                            actor=dcc_admin)
    states = [submit(dcc_operator, "4.1.1", devices["b_esme"].device_id).state for _ in range(3)]
    assert states == [RequestState.QUEUED, RequestState.QUEUED, RequestState.QUARANTINED]


def test_floor_tightening_applies_loosening_waits_for_dcc(srvs, supplier_a, dcc_operator, dcc_admin):
    org, srv = supplier_a.organisation, srvs["4.1.1"]
    with pytest.raises(PermissionDenied):
        services.threshold_floor_set(organisation=org, srv=srv, period="day", limit=10, actor=supplier_a)
    services.threshold_floor_set(organisation=org, srv=srv, period="day", limit=10, actor=dcc_operator)
    threshold = AnomalyThreshold.objects.get(organisation=org, srv=srv, period="day")
    assert threshold.limit == 10  # a floor over no threshold sets one at the floor
    tightened = services.threshold_save(organisation=org, srv=srv, period="day", limit=5, actor=supplier_a,
                                        threshold=threshold)
    assert isinstance(tightened, AnomalyThreshold) and tightened.limit == 5
    back = services.threshold_save(organisation=org, srv=srv, period="day", limit=10, actor=supplier_a,
                                   threshold=threshold)
    assert isinstance(back, AnomalyThreshold) and back.limit == 10  # up to the floor: at once
    pending = services.threshold_save(organisation=org, srv=srv, period="day", limit=50, actor=supplier_a,
                                      threshold=threshold)
    assert isinstance(pending, ThresholdChange) and pending.state == ThresholdChangeState.PENDING
    threshold.refresh_from_db()
    assert threshold.limit == 10
    with pytest.raises(ValidationError, match="cannot be moved"):
        services.threshold_save(organisation=org, srv=srv, period="hour", limit=10, actor=supplier_a,
                                threshold=threshold)
    deletion = services.threshold_delete(threshold=threshold, actor=supplier_a)
    assert isinstance(deletion, ThresholdChange) and deletion.limit is None
    assert AnomalyThreshold.objects.filter(pk=threshold.pk).exists()
    # only DCC decides, once
    with pytest.raises(PermissionDenied):
        services.threshold_change_decide(change=pending, actor=supplier_a, approve=True)
    services.threshold_change_decide(change=pending, actor=dcc_admin, approve=False)
    threshold.refresh_from_db()
    assert threshold.limit == 10
    with pytest.raises(services.Conflict):
        services.threshold_change_decide(change=pending, actor=dcc_admin, approve=True)
    services.threshold_change_decide(change=deletion, actor=dcc_admin, approve=True)
    assert not AnomalyThreshold.objects.filter(pk=threshold.pk).exists()
    # an SRV or period without a floor stays the user's own business
    free = services.threshold_save(organisation=org, srv=srvs["7.5"], period="day", limit=10_000, actor=supplier_a)
    assert isinstance(free, AnomalyThreshold)
    assert services.threshold_delete(threshold=free, actor=supplier_a) is None


def test_floor_api_and_pending_change_answers_202(srvs, supplier_a, dcc_admin, api_for):
    floors = "/api/adapter/threshold-floors/"
    assert api_for(supplier_a).post(floors, {"organisation": "SUPA", "srv": "4.1.1", "period": "day",
                                             "limit": 99}, format="json").status_code == 403
    made = api_for(dcc_admin).post(floors, {"organisation": "SUPA", "srv": "4.1.1", "period": "day", "limit": 10},
                                   format="json")
    assert made.status_code == 201, made.content
    threshold = AnomalyThreshold.objects.get(organisation=supplier_a.organisation)
    api = api_for(supplier_a)
    looser = api.patch(f"/api/adapter/thresholds/{threshold.pk}/", {"limit": 11}, format="json")
    assert looser.status_code == 202 and looser.json()["state"] == "pending" and looser.json()["limit"] == 11
    tighter = api.patch(f"/api/adapter/thresholds/{threshold.pk}/", {"limit": 3}, format="json")
    assert tighter.status_code == 200 and tighter.json()["limit"] == 3
    gone = api.delete(f"/api/adapter/thresholds/{threshold.pk}/")
    assert gone.status_code == 202 and gone.json()["limit"] is None
    changes = api_for(dcc_admin).get("/api/adapter/threshold-changes/?state=pending").json()["results"]
    assert len(changes) == 2
    assert api.post(f"/api/adapter/threshold-changes/{changes[0]['id']}/approve/").status_code == 403
    decided = api_for(dcc_admin).post(f"/api/adapter/threshold-changes/{changes[0]['id']}/approve/")
    assert decided.status_code == 200 and decided.json()["state"] == "approved"
    assert api_for(dcc_admin).post(f"/api/adapter/threshold-changes/{changes[0]['id']}/decline/").status_code == 409
    # (the approved change was the deletion: changes are listed newest first) a new threshold above
    # the floor waits too; one within it applies at once
    assert not AnomalyThreshold.objects.filter(pk=threshold.pk).exists()
    created = api.post("/api/adapter/thresholds/", {"srv": "4.1.1", "period": "day", "limit": 500}, format="json")
    assert created.status_code == 202 and created.json()["limit"] == 500
    assert not AnomalyThreshold.objects.filter(organisation=supplier_a.organisation).exists()
    within = api.post("/api/adapter/thresholds/", {"srv": "4.1.1", "period": "day", "limit": 8}, format="json")
    assert within.status_code == 201 and within.json()["limit"] == 8


# --- request identity ----------------------------------------------------------------------------

def test_two_people_of_one_organisation_share_the_originator_counter(srvs, devices, supplier_a):
    carol = colleague(supplier_a.organisation)
    device = devices["a_esme"].device_id
    ids = [submit(person, "4.1.1", device).request_id for person in (supplier_a, carol, supplier_a, carol)]
    assert len(set(ids)) == 4
    assert [int(i.rsplit(":", 1)[1]) for i in ids] == [1, 2, 3, 4]


def test_a_request_id_collision_is_refused_never_answered_with_another_request(srvs, devices, supplier_a):
    carol = colleague(supplier_a.organisation)
    device = devices["a_esme"].device_id
    rid = f"{supplier_a.organisation.user_id}:{device}:77"
    first = submit(supplier_a, "4.1.1", device, request_id=rid)
    again = submit(supplier_a, "4.1.1", device, request_id=rid)  # the same request again: a no-op
    assert again.pk == first.pk and again.resubmitted
    with pytest.raises(services.SubmitRefused, match="already the id of another request") as raised:
        submit(carol, "4.1.1", device, request_id=rid)
    assert raised.value.field == "request_id"
    with pytest.raises(services.SubmitRefused, match="request_id"):
        submit(supplier_a, "7.4", device, request_id=rid)
    with pytest.raises(services.SubmitRefused):
        submit(supplier_a, "4.1.1", devices["a_gsme"].device_id, request_id=rid)
    assert ServiceRequest.objects.filter(request_id=rid).count() == 1


def test_api_collision_answers_400_naming_request_id(srvs, devices, supplier_a, api_for):
    carol = colleague(supplier_a.organisation)
    device = devices["a_esme"].device_id
    body = {"srv": "4.1.1", "device_id": device, "request_id": f"{supplier_a.organisation.user_id}:{device}:5"}
    assert api_for(supplier_a).post("/api/adapter/requests/", body, format="json").status_code == 201
    clash = api_for(carol).post("/api/adapter/requests/", body, format="json")
    assert clash.status_code == 400 and "request_id" in clash.json()["errors"]


def test_organisation_without_duis_user_id_cannot_send(srvs, devices, orgs):
    org = portal_services.organisation_upsert(code="NOID", name="No Id Energy", kind=OrganisationKind.SERVICE_USER,
                                              duis_roles=["IS"])
    person = colleague(org, "nadia")
    with pytest.raises(services.SubmitRefused, match="No Id Energy has no DUIS user id") as raised:
        submit(person, "4.1.1", devices["a_esme"].device_id)
    assert raised.value.field == "organisation"
    with pytest.raises(ValidationError, match="No Id Energy has no DUIS user id"):
        services.batch_create(user=person, data=_rows(devices, 1), filename="x.csv")
    assert not ServiceRequest.objects.exists() and not Batch.objects.exists()
