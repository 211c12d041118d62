"""Incidents through their services: raising (by the user, on behalf, by file), gapless
references, assignment, categories with reasons, the clock paused while awaiting the user,
resolution, closing, re-opening within the window, auto-close, repeats and problems, the
target time table and its shipped defaults."""
import datetime as dt

import pytest
import time_machine
from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from portal.webhooks.models import WebhookDelivery, WebhookEndpoint
from servicedesk import importers, selectors, services
from servicedesk.choices import Channel, IncidentStatus, PauseReason, UpdateKind, Visibility
from servicedesk.clock import LONDON
from servicedesk.defaults import DEFAULTS_NOTE
from servicedesk.models import ClockPause, DeskPolicy, Incident, IncidentReference, TargetTime

# Wednesday 4 June 2025, 10:00 London (09:00 UTC): an ordinary working day.
WEDNESDAY = dt.datetime(2025, 6, 4, 10, 0, tzinfo=LONDON)


def at(base, **delta):
    return time_machine.travel(base + dt.timedelta(**delta), tick=False)


@pytest.fixture
def dcc_hook(orgs):
    return WebhookEndpoint.objects.create(organisation=orgs["DCC"], name="DCC ITSM", url="https://itsm.example/hook",
                                          events=["*"])


def events_of(name):
    return list(WebhookDelivery.objects.filter(event=name).values_list("payload__data__reference", flat=True))


# --- raising ---------------------------------------------------------------------------------

def test_a_supplier_raises_its_own_incident(orgs, supplier_a, raise_incident, dcc_hook):
    with at(WEDNESDAY):
        incident = raise_incident(supplier_a, devices=["00db1234567890a0"], service_requests=["90-B3:00-DB:17"],
                                  regions=["north"])
    assert incident.reference == "INC000001" and incident.number == 1
    assert incident.organisation == orgs["SUPA"] and incident.raised_by == supplier_a and incident.logged_by is None
    assert incident.status == IncidentStatus.NEW and incident.channel == Channel.PORTAL
    assert incident.category == incident.proposed_category == 3
    # Category 3 default: respond in 2 working hours, resolve in 3 working days (24 working hours).
    assert incident.response_due_at == dt.datetime(2025, 6, 4, 12, 0, tzinfo=LONDON)
    assert incident.resolution_due_at == dt.datetime(2025, 6, 9, 10, 0, tzinfo=LONDON)
    assert set(incident.references.values_list("kind", "value")) == {
        (IncidentReference.Kind.DEVICE, "00-DB-12-34-56-78-90-A0"),
        (IncidentReference.Kind.SERVICE_REQUEST, "90-B3:00-DB:17")}
    first = incident.updates.get()
    assert first.kind == UpdateKind.STATUS_CHANGE and first.data == {"from": "", "to": "new"}
    assert events_of("incident.created") == ["INC000001"]
    assert list(selectors.incidents_by_reference(supplier_a, "device", "00-DB-12-34-56-78-90-A0")) == [incident]


def test_who_may_raise_for_whom(orgs, supplier_a, supplier_b, sdag_member, dcc_operator, raise_incident):
    with pytest.raises(PermissionDenied):
        raise_incident(supplier_a, organisation=orgs["SUPB"])
    with pytest.raises(PermissionDenied):
        raise_incident(sdag_member)
    # SEC H9: only DCC and users raise incidents; a provider's incident is logged by DCC.
    with pytest.raises(ValidationError, match="only DCC and service users raise incidents"):
        raise_incident(dcc_operator, organisation=orgs["DSP"], caller="DSP service manager")
    # DCC logs one for a supplier: naming its person or the caller.
    with pytest.raises(ValidationError, match="name the person"):
        raise_incident(dcc_operator, organisation=orgs["SUPB"])
    with pytest.raises(ValidationError, match="is not a person of"):
        raise_incident(dcc_operator, organisation=orgs["SUPB"], raised_by=supplier_a)
    logged = raise_incident(dcc_operator, organisation=orgs["SUPB"], raised_by=supplier_b)
    assert logged.raised_by == supplier_b and logged.logged_by == dcc_operator
    assert logged.channel == Channel.SERVICE_DESK and logged.organisation == orgs["SUPB"]
    called = raise_incident(dcc_operator, organisation=orgs["SUPB"], caller="Jo Smith, 0161 496 0000")
    assert called.raised_by is None and called.caller == "Jo Smith, 0161 496 0000"
    # A party that is no user called: DCC logs it as its own, with the caller.
    own = raise_incident(dcc_operator, caller="A member of the public, about a meter in Leeds")
    assert own.organisation == orgs["DCC"] and own.raised_by == dcc_operator


def test_bad_input_is_named_and_gives_no_number_away(supplier_a, raise_incident):
    raise_incident(supplier_a)
    with pytest.raises(ValidationError) as exc:
        raise_incident(supplier_a, devices=["not-a-device"])
    assert "devices" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        raise_incident(supplier_a, proposed_category=6)
    assert "proposed_category" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        raise_incident(supplier_a, description="")  # fails after the number was drawn
    assert "description" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        raise_incident(supplier_a, regions=["mars"])
    assert "regions" in exc.value.message_dict
    # The failed raises gave their numbers back with their transactions: no gap in the log.
    assert raise_incident(supplier_a).reference == "INC000002"
    assert list(Incident.objects.order_by("number").values_list("number", flat=True)) == [1, 2]


def test_import_raises_each_clean_row_and_names_bad_ones(orgs, supplier_a, dcc_operator):
    header = "summary,description,category,devices,service_requests,regions,organisation\n"
    bad = (header + "Reads fail,All reads fail in the north,2,00db1234567890a0,,north,\n"
           "No hub,,7,zz,,mars,\n"
           "Other's,For B,3,,,,SUPB\n").encode()
    preview = importers.run(bad, filename="incidents.csv", commit=True, actor=supplier_a)
    errors = {r.row: r.error for r in preview.results}
    assert errors[2] == ""
    assert "description: give a description" in errors[3] and "category: '7'" in errors[3]
    assert "devices:" in errors[3] and "regions: mars" in errors[3]
    assert "organisation: unknown organisation 'SUPB'" in errors[4]  # a supplier names only itself
    assert not preview.committed and Incident.objects.count() == 0
    header += ",caller\n"
    header = header.replace("\n,", ",")
    unnamed = (header + "Slow alerts,Alerts arrive late,4,,r1;r2,,SUPB,\n").encode()
    preview = importers.run(unnamed, filename="incidents.csv", commit=True, actor=dcc_operator)
    assert "caller: name who at SUPB reported it" in preview.results[0].error and not preview.committed
    good = (header + "Reads fail,All reads fail in the north,2,00db1234567890a0,,north,,\n"
            "Slow alerts,Alerts arrive late,4,,r1;r2,,SUPB,Jo at SUPB\n").encode()
    preview = importers.run(good, filename="incidents.csv", commit=True, actor=dcc_operator)
    assert preview.committed, preview.results
    first, second = Incident.objects.order_by("number")
    assert first.channel == Channel.IMPORT and first.organisation == orgs["DCC"] and first.regions == ["north"]
    assert second.organisation == orgs["SUPB"] and second.caller == "Jo at SUPB" and second.logged_by == dcc_operator
    assert second.channel == Channel.IMPORT
    assert set(second.references.values_list("value", flat=True)) == {"r1", "r2"}


# --- working on it ---------------------------------------------------------------------------

def test_assignment_names_a_resolver_and_counts_as_the_response(orgs, supplier_a, dcc_operator, raise_incident):
    with at(WEDNESDAY):
        incident = raise_incident(supplier_a)
    with pytest.raises(PermissionDenied):
        services.incident_assign(actor=supplier_a, incident=incident, resolver=orgs["CSPN"])
    with pytest.raises(ValidationError, match="not DCC or a service provider"):
        services.incident_assign(actor=dcc_operator, incident=incident, resolver=orgs["SUPB"])
    with pytest.raises(ValidationError, match="works neither for DCC nor"):
        services.incident_assign(actor=dcc_operator, incident=incident, resolver=orgs["CSPN"], assignee=supplier_a)
    with at(WEDNESDAY, minutes=45):
        incident = services.incident_assign(actor=dcc_operator, incident=incident, resolver=orgs["CSPN"],
                                            assignee=dcc_operator, note="CSP North is looking at the cell")
    assert incident.status == IncidentStatus.ASSIGNED and incident.resolver == orgs["CSPN"]
    assert incident.responded_at == WEDNESDAY + dt.timedelta(minutes=45)
    clocks = selectors.incident_clock(incident, now=WEDNESDAY + dt.timedelta(hours=5))
    assert clocks.response.met is True and clocks.response.elapsed == dt.timedelta(minutes=45)
    kinds = list(incident.updates.values_list("kind", flat=True))
    assert kinds == [UpdateKind.STATUS_CHANGE, UpdateKind.ASSIGNMENT, UpdateKind.STATUS_CHANGE]
    incident = services.incident_set_status(actor=dcc_operator, incident=incident, status=IncidentStatus.IN_PROGRESS)
    assert incident.status == IncidentStatus.IN_PROGRESS
    with pytest.raises(ValidationError, match="use the service"):
        services.incident_set_status(actor=dcc_operator, incident=incident, status=IncidentStatus.RESOLVED)


def test_dcc_sets_the_category_with_a_reason_and_the_clock_follows(supplier_a, dcc_operator, raise_incident):
    with at(WEDNESDAY):
        incident = raise_incident(supplier_a, proposed_category=4)
    with pytest.raises(ValidationError, match="say why"):
        services.incident_set_category(actor=dcc_operator, incident=incident, category=1, reason=" ")
    with pytest.raises(PermissionDenied):
        services.incident_set_category(actor=supplier_a, incident=incident, category=1, reason="urgent!")
    with at(WEDNESDAY, minutes=10):
        incident = services.incident_set_category(actor=dcc_operator, incident=incident, category=1,
                                                  reason="Every meter in the north is affected")
    assert incident.category == 1 and incident.proposed_category == 4 and incident.category_set_by == dcc_operator
    change = incident.updates.get(kind=UpdateKind.CATEGORY_CHANGE)
    assert change.data == {"from": 4, "to": 1, "proposed": 4} and change.text == "Every meter in the north is affected"
    # Category 1 default: resolve within 4 hours around the clock, measured from when it was raised.
    assert incident.resolution_due_at == WEDNESDAY + dt.timedelta(hours=4)


def test_awaiting_the_user_pauses_the_clock_until_the_answer(supplier_a, supplier_b, dcc_operator, raise_incident):
    with at(WEDNESDAY):
        incident = raise_incident(supplier_a, proposed_category=2)  # 8 hours around the clock
    with at(WEDNESDAY, hours=1):
        incident = services.incident_request_information(actor=dcc_operator, incident=incident,
                                                         text="Which firmware do the meters run?")
    assert incident.status == IncidentStatus.AWAITING_USER
    assert incident.resolution_due_at is None  # paused: no due time while the user holds the clock
    # Asking for information was DCC's response (60 minutes after raising, within the hour).
    assert incident.responded_at == WEDNESDAY + dt.timedelta(hours=1)
    assert incident.response_due_at == WEDNESDAY + dt.timedelta(hours=1)
    pause = ClockPause.objects.get(incident=incident)
    assert pause.reason == PauseReason.AWAITING_USER and pause.ended_at is None
    waiting = selectors.incident_clock(incident, now=WEDNESDAY + dt.timedelta(days=2))
    assert waiting.resolution.paused and waiting.resolution.left == dt.timedelta(hours=7)
    with pytest.raises(PermissionDenied):
        services.incident_answer(actor=supplier_b, incident=incident, text="not mine")
    with at(WEDNESDAY, hours=4):
        incident = services.incident_answer(actor=supplier_a, incident=incident, text="Firmware 2.1 on all of them")
    assert incident.status == IncidentStatus.IN_PROGRESS
    pause.refresh_from_db()
    assert pause.ended_at == WEDNESDAY + dt.timedelta(hours=4)
    # Three hours awaiting the user move the due time by three hours.
    assert incident.resolution_due_at == WEDNESDAY + dt.timedelta(hours=11)
    kinds = list(incident.updates.values_list("kind", flat=True))
    assert UpdateKind.REQUEST_FOR_INFORMATION in kinds and UpdateKind.RESPONSE in kinds
    with pytest.raises(ValidationError, match="not awaiting an answer"):
        services.incident_answer(actor=supplier_a, incident=incident, text="again")


def test_notes_workarounds_and_internal_notes(supplier_a, supplier_b, dcc_operator, raise_incident):
    incident = raise_incident(supplier_a)
    note = services.incident_add_update(actor=supplier_a, incident=incident, text="Also in Leeds")
    assert note.kind == UpdateKind.NOTE and note.visibility == Visibility.PARTIES
    assert Incident.objects.get(pk=incident.pk).responded_at is None  # a user's note is no response
    with pytest.raises(PermissionDenied):
        services.incident_add_update(actor=supplier_a, incident=incident, text="x", visibility=Visibility.INTERNAL)
    with pytest.raises(PermissionDenied):
        services.incident_add_update(actor=supplier_a, incident=incident, text="x", kind=UpdateKind.WORKAROUND)
    with pytest.raises(PermissionDenied):
        services.incident_add_update(actor=supplier_b, incident=incident, text="x")
    with pytest.raises(ValidationError, match="own service"):
        services.incident_add_update(actor=dcc_operator, incident=incident, text="x", kind=UpdateKind.RESOLUTION)
    internal = services.incident_add_update(actor=dcc_operator, incident=incident, text="CSP says cell 17",
                                            visibility=Visibility.INTERNAL)
    assert internal.visibility == Visibility.INTERNAL
    assert Incident.objects.get(pk=incident.pk).responded_at is None  # an internal note is no response
    services.incident_add_update(actor=dcc_operator, incident=incident, text="Use retries",
                                 kind=UpdateKind.WORKAROUND)
    assert Incident.objects.get(pk=incident.pk).responded_at is not None


# --- resolving, closing, re-opening ----------------------------------------------------------

def test_resolve_then_reopen_within_the_window_keeps_reference_and_clock(supplier_a, dcc_operator,
                                                                         raise_incident, dcc_hook):
    with at(WEDNESDAY):
        incident = raise_incident(supplier_a, proposed_category=2)  # 8 h around the clock
    with at(WEDNESDAY, hours=2):
        incident = services.incident_resolve(actor=dcc_operator, incident=incident, resolution="Cell restarted")
    assert incident.status == IncidentStatus.RESOLVED and incident.resolved_at == WEDNESDAY + dt.timedelta(hours=2)
    assert events_of("incident.resolved") == [incident.reference]
    # The raiser re-opens it the next day: same reference, resolution clock runs on from 2 h.
    with at(WEDNESDAY, days=1):
        incident = services.incident_reopen(actor=supplier_a, incident=incident, reason="Still failing in Leeds")
    assert incident.reference == "INC000001" and incident.status == IncidentStatus.IN_PROGRESS
    assert incident.resolved_at is None and incident.reopened_count == 1
    resolved_pause = incident.pauses.get(reason=PauseReason.RESOLVED)
    assert (resolved_pause.started_at, resolved_pause.ended_at) == (WEDNESDAY + dt.timedelta(hours=2),
                                                                    WEDNESDAY + dt.timedelta(days=1))
    clocks = selectors.incident_clock(incident, now=WEDNESDAY + dt.timedelta(days=1, hours=1))
    assert clocks.resolution.elapsed == dt.timedelta(hours=3) and not clocks.resolution.breached
    assert incident.resolution_due_at == WEDNESDAY + dt.timedelta(days=1, hours=6)
    reopened = incident.updates.filter(kind=UpdateKind.STATUS_CHANGE).last()
    assert reopened.data["reopened"] is True and reopened.data["from"] == "resolved"
    assert events_of("incident.reopened") == [incident.reference]
    # Resolved again and confirmed by the raiser: closed is final.
    incident = services.incident_resolve(actor=dcc_operator, incident=incident, resolution="Firmware fixed")
    incident = services.incident_close(actor=supplier_a, incident=incident)
    assert incident.status == IncidentStatus.CLOSED and incident.closed_at is not None
    with pytest.raises(ValidationError, match="raise a new one and link it"):
        services.incident_reopen(actor=supplier_a, incident=incident, reason="again")
    with pytest.raises(ValidationError, match="is closed"):
        services.incident_add_update(actor=supplier_a, incident=incident, text="again")


def test_auto_close_after_the_working_days_and_no_reopen_after(supplier_a, dcc_operator, raise_incident):
    # Resolved on Thursday 17 April 2025 at 15:00: 5 working days skip Easter (Good Friday 18,
    # Easter Monday 21 April): Tue 22, Wed 23, Thu 24, Fri 25, Mon 28 April, closing at 15:00.
    thursday = dt.datetime(2025, 4, 17, 15, 0, tzinfo=LONDON)
    with at(thursday, hours=-3):
        incident = raise_incident(supplier_a)
    with at(thursday):
        incident = services.incident_resolve(actor=dcc_operator, incident=incident, resolution="Done")
    assert DeskPolicy.current().auto_close_working_days == 5
    assert services.auto_close_at(incident.resolved_at, 5) == dt.datetime(2025, 4, 28, 15, 0, tzinfo=LONDON)
    assert services.incidents_auto_close(now=dt.datetime(2025, 4, 28, 14, 59, tzinfo=LONDON)) == []
    with at(dt.datetime(2025, 4, 28, 15, 0, tzinfo=LONDON)):
        with pytest.raises(ValidationError, match="more than 5 working days ago"):
            services.incident_reopen(actor=supplier_a, incident=incident, reason="late")
    assert services.incidents_auto_close(now=dt.datetime(2025, 4, 28, 15, 0, tzinfo=LONDON)) == ["INC000001"]
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.CLOSED
    last = incident.updates.last()
    assert last.author is None and "automatically" in last.text
    assert services.incidents_auto_close(now=dt.datetime(2025, 5, 25, tzinfo=LONDON)) == []  # nothing twice


def test_auto_close_task_closes_due_incidents(supplier_a, dcc_operator, raise_incident):
    from servicedesk import tasks

    with at(WEDNESDAY):
        incident = services.incident_resolve(actor=dcc_operator, incident=raise_incident(supplier_a),
                                             resolution="Done")
    with at(WEDNESDAY, days=6):
        assert tasks.incidents_auto_close() == 0  # Wednesday + 5 working days is next Wednesday
    with at(WEDNESDAY, days=7):
        assert tasks.incidents_auto_close() == 1
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.CLOSED


def test_schedules_are_declared_by_dotted_path():
    from django.utils.module_loading import import_string

    from portal.registry import SCHEDULES

    for name in ("servicedesk: auto-close resolved incidents", "servicedesk: monthly self-service reports"):
        assert callable(import_string(SCHEDULES.get(name).func))


# --- repeats and problems --------------------------------------------------------------------

def test_repeats_and_problems(supplier_a, supplier_b, dcc_operator, raise_incident):
    first = raise_incident(supplier_a)
    second = raise_incident(supplier_a)
    other = raise_incident(supplier_b)
    with pytest.raises(ValidationError, match="is not earlier"):
        services.incident_link_repeat(actor=dcc_operator, incident=first, earlier=second)
    with pytest.raises(PermissionDenied):
        services.incident_link_repeat(actor=supplier_a, incident=second, earlier=first)
    second = services.incident_link_repeat(actor=dcc_operator, incident=second, earlier=first)
    assert second.repeat_of == first and list(first.repeats.all()) == [second]
    assert second.updates.last().visibility == Visibility.PARTIES  # same organisation
    other = services.incident_link_repeat(actor=dcc_operator, incident=other, earlier=first)
    assert other.updates.last().visibility == Visibility.INTERNAL  # B never learns of A's incident
    problem = services.problem_create(actor=dcc_operator, title="E21 storms in the north", incidents=[first, second])
    assert problem.reference == "PRB000001"
    assert set(problem.incidents.values_list("reference", flat=True)) == {first.reference, second.reference}
    with pytest.raises(ValidationError, match="root cause and the fix"):
        services.problem_update(actor=dcc_operator, problem=problem, status="resolved")
    problem = services.problem_update(actor=dcc_operator, problem=problem, root_cause="Cell 17 overload",
                                      fix="Second carrier", status="resolved")
    assert problem.status == "resolved" and problem.resolved_at is not None
    with pytest.raises(PermissionDenied):
        services.problem_create(actor=supplier_a, title="mine")


# --- the target table ------------------------------------------------------------------------

def test_shipped_targets_are_labelled_defaults_to_be_set_by_dcc(db):
    rows = list(TargetTime.objects.order_by("category"))
    assert [r.category for r in rows] == [1, 2, 3, 4, 5]
    assert all(r.note == DEFAULTS_NOTE == "Default to be set by DCC, not regulation." for r in rows)
    assert rows[0].basis == "24x7" and rows[4].basis == "working_hours"
    assert all(r.response_minutes <= r.resolution_minutes for r in rows)
    assert DeskPolicy.objects.get(pk=1).note == DEFAULTS_NOTE


def test_dcc_admins_edit_targets_with_history_and_open_incidents_follow(supplier_a, dcc_operator, dcc_admin,
                                                                         raise_incident):
    with at(WEDNESDAY):
        incident = raise_incident(supplier_a, proposed_category=3)
    with pytest.raises(PermissionDenied):
        services.target_time_set(actor=dcc_operator, category=3, response_minutes=30, resolution_minutes=240,
                                 basis="24x7")
    with pytest.raises(ValidationError, match="cannot be longer"):
        services.target_time_set(actor=dcc_admin, category=3, response_minutes=300, resolution_minutes=240,
                                 basis="24x7")
    row = services.target_time_set(actor=dcc_admin, category=3, response_minutes=30, resolution_minutes=240,
                                   basis="24x7", note="Set by DCC service management, June 2025")
    assert row.updated_by == dcc_admin
    entries = LogEntry.objects.get_for_object(row)
    assert entries.exists() and entries.first().actor == dcc_admin
    incident.refresh_from_db()
    assert incident.resolution_due_at == WEDNESDAY + dt.timedelta(hours=4)
    policy = services.policy_set(actor=dcc_admin, auto_close_working_days=3)
    assert policy.auto_close_working_days == 3 and LogEntry.objects.get_for_object(policy).exists()
    with pytest.raises(PermissionDenied):
        services.policy_set(actor=dcc_operator, auto_close_working_days=9)


def test_lists_show_every_incidents_clock_in_a_fixed_number_of_queries(supplier_a, dcc_operator, raise_incident,
                                                                        django_assert_max_num_queries):
    with at(WEDNESDAY):
        for _ in range(6):
            raise_incident(supplier_a, proposed_category=1)
    with django_assert_max_num_queries(3):
        rows = selectors.with_clocks(selectors.incidents_visible(dcc_operator), now=WEDNESDAY + dt.timedelta(hours=5))
    assert len(rows) == 6 and all(clocks.breached for _, clocks in rows)
    assert all(clocks.resolution.left == -dt.timedelta(hours=1) for _, clocks in rows)


# --- webhooks beyond the raiser ----------------------------------------------------------------

def test_interested_parties_webhooks_hear_the_incident_and_every_organisation_hears_alerts(
        orgs, supplier_a, supplier_b, supplier_c, supplier_c_org, dcc_operator, raise_incident):
    hooks = {code: WebhookEndpoint.objects.create(organisation=org, name=code, url=f"https://{code.lower()}.example/h",
                                                  events=["*"])
             for code, org in (("SUPA", orgs["SUPA"]), ("SUPB", orgs["SUPB"]), ("SUPC", supplier_c_org))}
    with at(WEDNESDAY):
        incident = raise_incident(supplier_a)
        services.incident_set_parties(actor=dcc_operator, incident=incident, parties=[orgs["SUPB"]])
        services.incident_add_update(actor=dcc_operator, incident=incident, text="Looking at it")
        services.incident_add_update(actor=dcc_operator, incident=incident, text="CSP ticket 991",
                                     visibility="internal")

    def heard(code, event):
        return WebhookDelivery.objects.filter(endpoint=hooks[code], event=event).count()

    # The raiser hears everything it may see; the party hears once it is a party; C hears nothing,
    # and an internal note is nobody's event but DCC's own record.
    assert heard("SUPA", "incident.created") == 1 and heard("SUPA", "incident.updated") >= 1
    assert heard("SUPB", "incident.created") == 0 and heard("SUPB", "incident.updated") >= 1
    assert heard("SUPC", "incident.created") == 0 and heard("SUPC", "incident.updated") == 0
    assert not any("CSP ticket" in body for body in WebhookDelivery.objects.values_list("body", flat=True))
    services.service_alert_publish(actor=dcc_operator, title="DSP slow", description="Responses are delayed")
    assert all(heard(code, "service_alert.published") == 1 for code in hooks)


def test_a_clock_that_breached_before_a_pause_keeps_its_due_time_and_stays_in_the_breached_filter(
        orgs, supplier_a, dcc_operator, raise_incident):
    from servicedesk.filtersets import breached_q

    with at(WEDNESDAY):
        incident = raise_incident(supplier_a)
    due = incident.resolution_due_at  # category 3: Monday 9 June 10:00
    with at(WEDNESDAY, days=6):  # Tuesday 10 June: the resolution target is passed
        services.incident_request_information(actor=dcc_operator, incident=incident, text="Which meters?")
        incident.refresh_from_db()
        state = selectors.incident_clock(incident)
        assert state.resolution.paused and state.resolution.breached and state.resolution.due_at == due
        assert incident.resolution_due_at == due
        assert list(Incident.objects.filter(breached_q(timezone.now()))) == [incident]
    # A pause that starts within target still has no due time while the user is awaited.
    with at(WEDNESDAY):
        fresh = raise_incident(supplier_a)
    with at(WEDNESDAY, hours=1):
        services.incident_request_information(actor=dcc_operator, incident=fresh, text="Which meters?")
        fresh.refresh_from_db()
        assert fresh.resolution_due_at is None and not selectors.incident_clock(fresh).breached
