"""The service desk through its REST API (servicedesk/api.py): isolation between two suppliers
and an interested party, DCC-internal updates hidden, an incident's life (raise, assign, ask for
information, answer, resolve, re-open) through the action endpoints, attachments refused when too
large or of the wrong type, the import's preview and all-or-nothing commit, a report's CSV equal
to the report function's file, forecasts refusing bad input, and every service desk operation
of the OpenAPI schema holding isolation for another supplier's records."""
import datetime as dt
import io

import openpyxl
import pytest
from django.core.files.base import ContentFile
from django.forms.models import model_to_dict

from adapter import catalogue
from adapter.models import ServiceRequestVariant
from inventory.choices import DeviceType
from servicedesk import reports, services
from servicedesk.choices import DeliveryState, IncidentStatus, ReportKind, Visibility
from servicedesk.models import (
    DeskPolicy,
    Incident,
    IncidentAttachment,
    IncidentUpdate,
    SelfServiceReportDelivery,
    UsageForecast,
)
from tests.gates.schema_routes import operations
from tests.inventory.factories import device

pytestmark = pytest.mark.django_db

BASE = "/api/servicedesk"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def raise_via(api, **overrides):
    body = {"summary": "Reads time out in the north", "description": "Every on-demand read answers E21 since 09:00.",
            "proposed_category": 3}
    body.update(overrides)
    return api.post(f"{BASE}/incidents/", body, format="json")


@pytest.fixture
def party_incident(supplier_a, supplier_c_org, dcc_operator, raise_incident):
    """Supplier A's incident with supplier C as an interested party, a note the parties see and a
    DCC-internal note."""
    incident = raise_incident(supplier_a, summary="A's incident ISO-A-SUMMARY")
    services.incident_set_parties(actor=dcc_operator, incident=incident, parties=[supplier_c_org])
    services.incident_add_update(actor=supplier_a, incident=incident, text="parties note ISO-A-NOTE")
    services.incident_add_update(actor=dcc_operator, incident=incident, text="internal ISO-A-INTERNAL",
                                 visibility=Visibility.INTERNAL)
    return incident


# --- isolation -------------------------------------------------------------------------------

def test_suppliers_see_their_own_and_followed_incidents_only(party_incident, supplier_a, supplier_b, supplier_c,
                                                             sdag_member, dcc_operator, api_for, raise_incident):
    b_incident = raise_incident(supplier_b, summary="B's incident ISO-B-SUMMARY")
    ref = party_incident.reference

    def listed(user):
        response = api_for(user).get(f"{BASE}/incidents/")
        assert response.status_code == 200
        return {row["reference"] for row in response.json()["results"]}

    assert listed(supplier_a) == {ref}
    assert listed(supplier_b) == {b_incident.reference}
    assert listed(supplier_c) == {ref}  # an interested party follows it
    assert listed(sdag_member) == set()
    assert listed(dcc_operator) == {ref, b_incident.reference}

    # Another supplier's incident is not there at all: 404 on read and on every action.
    b_api = api_for(supplier_b)
    assert b_api.get(f"{BASE}/incidents/{ref}/").status_code == 404
    for verb in ("updates", "answer", "close", "reopen", "attachments", "major-reports"):
        assert b_api.post(f"{BASE}/incidents/{ref}/{verb}/", {"text": "x", "reason": "x"},
                          format="json").status_code == 404, verb
    assert api_for(sdag_member).get(f"{BASE}/incidents/{ref}/").status_code == 404

    # The interested party reads it, but changes nothing (writes find only what it may change).
    c_api = api_for(supplier_c)
    detail = c_api.get(f"{BASE}/incidents/{ref}/")
    assert detail.status_code == 200 and detail.json()["summary"] == "A's incident ISO-A-SUMMARY"
    before = IncidentUpdate.objects.filter(incident=party_incident).count()
    assert c_api.post(f"{BASE}/incidents/{ref}/updates/", {"text": "from C"}, format="json").status_code == 404
    assert c_api.post(f"{BASE}/incidents/{ref}/reopen/", {"reason": "C"}, format="json").status_code == 404
    assert IncidentUpdate.objects.filter(incident=party_incident).count() == before


def test_internal_updates_are_dccs_alone(party_incident, supplier_a, supplier_c, dcc_operator, api_for):
    ref = party_incident.reference
    for user in (supplier_a, supplier_c):
        body = api_for(user).get(f"{BASE}/incidents/{ref}/").content.decode()
        assert "ISO-A-NOTE" in body and "ISO-A-INTERNAL" not in body
        entries = api_for(user).get(f"{BASE}/incidents/{ref}/").json()["timeline"]
        assert all(entry["visibility"] == "parties" for entry in entries)
    dcc = api_for(dcc_operator).get(f"{BASE}/incidents/{ref}/").json()
    assert "internal ISO-A-INTERNAL" in [entry["text"] for entry in dcc["timeline"]]
    # A supplier may not write one either.
    response = api_for(supplier_a).post(f"{BASE}/incidents/{ref}/updates/",
                                        {"text": "sneaky", "visibility": "internal"}, format="json")
    assert response.status_code == 403
    assert not IncidentUpdate.objects.filter(text="sneaky").exists()


def test_every_service_desk_operation_holds_isolation(orgs, supplier_a, supplier_b, dcc_operator, api_for,
                                                      raise_incident):
    """The gates' sweep (tests/gates/test_isolation_roles.py) over the service desk's own schema
    operations, with supplier B's incident, note, attachment, major report, delivery and forecast
    in every path: reads are 404, writes are refused, and nothing of B's shows or changes."""
    catalogue.load(ServiceRequestVariant)
    incident = raise_incident(supplier_b, summary="ISO-SD-B incident summary")
    note = services.incident_add_update(actor=supplier_b, incident=incident, text="ISO-SD-B parties note")
    attachment = services.incident_attach(actor=supplier_b, incident=incident, filename="ISO-SD-B-log.txt",
                                          content=b"ISO-SD-B attachment body\n")
    services.incident_flag_major(actor=dcc_operator, incident=incident)
    report = services.major_report_write(actor=dcc_operator, incident=incident, summary="ISO-SD-B report summary",
                                         timeline="t", impact="i", root_cause="r", actions="a")
    delivery = SelfServiceReportDelivery(organisation=orgs["SUPB"], kind=ReportKind.RSMI_001,
                                         month=dt.date(2020, 1, 1), due_on=dt.date(2020, 2, 14),
                                         state=DeliveryState.DELIVERED, error="ISO-SD-B delivery")
    delivery.file.save("b.csv", ContentFile(b"device_id\nISO-SD-B-FILE\n"), save=False)
    delivery.save()
    forecast = UsageForecast.objects.create(organisation=orgs["SUPB"], month=dt.date(2020, 1, 1),
                                            srv=ServiceRequestVariant.objects.first(), forecast=987654321)
    incident.refresh_from_db()
    objects = [(incident, "ISO-SD-B incident summary"), (note, "ISO-SD-B parties note"),
               (attachment, "ISO-SD-B-log.txt"), (report, "ISO-SD-B report summary"),
               (delivery, "ISO-SD-B delivery"), (forecast, "987654321")]
    markers = [m for _o, m in objects] + ["ISO-SD-B-FILE", "ISO-SD-B attachment body"]
    before = {(type(o), o.pk): model_to_dict(o) for o, _ in objects}
    from tests.gates.schema_routes import model_of
    from tests.portal.test_isolation import param_value

    api = api_for(supplier_a)
    ops = [op for op in operations(api) if op.path.startswith("/api/v1/servicedesk/")]  # the schema documents v1
    assert len(ops) > 40
    probed = 0
    for op in ops:
        if not op.params:
            if op.method != "get":
                continue
            for url in [op.path] + [f"{op.path}?{name}={value}" for name in op.query
                                    for value in ("SUPB", str(orgs["SUPB"].pk), incident.reference)]:
                response = api.get(url)
                assert response.status_code < 500, url
                body = response.content.decode("utf-8", "replace") if not response.streaming else ""
                assert not [m for m in markers if m in body], url
            continue
        model = model_of(op.path)
        for obj, _marker in objects:
            if model is not None and type(obj) is not model:
                continue
            url = op.fill({p: param_value(obj, p) for p in op.params})
            response = getattr(api, op.method)(url, data={}, format="json")
            probed += 1
            body = response.content.decode("utf-8", "replace") if not response.streaming else ""
            assert not [m for m in markers if m in body], url
            if model is not None:
                allowed = (404,) if op.method == "get" else (403, 404, 405)
                assert response.status_code in allowed, f"{op.method.upper()} {url} -> {response.status_code}"
    assert probed > 20
    for obj, _ in objects:
        assert model_to_dict(type(obj)._default_manager.get(pk=obj.pk)) == before[(type(obj), obj.pk)]


# --- an incident's life ----------------------------------------------------------------------

def test_raise_assign_ask_answer_resolve_reopen_through_the_api(orgs, supplier_a, dcc_operator, api_for):
    user_api, desk = api_for(supplier_a), api_for(dcc_operator)
    response = raise_via(user_api, devices=["00db1234567890a0"], service_requests=["90-B3:00-DB:17"],
                         regions=["north"])
    assert response.status_code == 201, response.json()
    raised = response.json()
    ref = raised["reference"]
    assert raised["organisation"] == "SUPA" and raised["status"] == "new" and raised["channel"] == "api"
    assert raised["devices"] == ["00-DB-12-34-56-78-90-A0"] and raised["service_requests"] == ["90-B3:00-DB:17"]
    assert raised["response_due"] and raised["resolution_due"] and raised["breached"] is False

    # Only DCC runs the log.
    assert user_api.post(f"{BASE}/incidents/{ref}/assign/", {"resolver": "DSP"}, format="json").status_code == 403
    assigned = desk.post(f"{BASE}/incidents/{ref}/assign/", {"resolver": "DSP", "note": "DSP to look"},
                         format="json")
    assert assigned.status_code == 200 and assigned.json()["status"] == "assigned"
    assert assigned.json()["resolver"] == "DSP"
    unknown = desk.post(f"{BASE}/incidents/{ref}/assign/", {"resolver": "NOPE"}, format="json")
    assert unknown.status_code == 400 and "resolver" in unknown.json()

    asked = desk.post(f"{BASE}/incidents/{ref}/request-information/", {"text": "Which firmware?"}, format="json")
    assert asked.json()["status"] == "awaiting_user" and asked.json()["paused"] is True
    assert asked.json()["resolution_due"] is None  # the clock stands still
    answered = user_api.post(f"{BASE}/incidents/{ref}/answer/", {"text": "2.1 on every meter"}, format="json")
    assert answered.status_code == 200 and answered.json()["status"] == "in_progress"
    assert answered.json()["paused"] is False and answered.json()["resolution_due"]

    assert user_api.post(f"{BASE}/incidents/{ref}/resolve/", {"resolution": "x"}, format="json").status_code == 403
    resolved = desk.post(f"{BASE}/incidents/{ref}/resolve/", {"resolution": "DSP restarted the queue"}, format="json")
    assert resolved.json()["status"] == "resolved" and resolved.json()["resolved_at"]
    assert user_api.post(f"{BASE}/incidents/{ref}/reopen/", {"reason": ""}, format="json").status_code == 400
    reopened = user_api.post(f"{BASE}/incidents/{ref}/reopen/", {"reason": "Still E21 on 40 meters"}, format="json")
    assert reopened.status_code == 200 and reopened.json()["status"] == "in_progress"
    assert reopened.json()["reopened_count"] == 1 and reopened.json()["reference"] == ref

    kinds = [entry["kind"] for entry in user_api.get(f"{BASE}/incidents/{ref}/").json()["timeline"]]
    assert {"assignment", "request_for_information", "response", "resolution", "status_change"} <= set(kinds)
    category = desk.post(f"{BASE}/incidents/{ref}/category/", {"category": 2}, format="json")
    assert category.status_code == 400 and "reason" in category.json()
    category = desk.post(f"{BASE}/incidents/{ref}/category/", {"category": 2, "reason": "national"}, format="json")
    assert category.json()["category"] == 2

    # The list carries each row's clock; filters narrow it.
    listed = user_api.get(f"{BASE}/incidents/?status=in_progress&category=2").json()["results"]
    assert [row["reference"] for row in listed] == [ref]
    assert {"response_due", "resolution_due", "resolution_left_seconds", "breached"} <= set(listed[0])
    assert len(user_api.get(f"{BASE}/incidents/?reference=00-DB-12-34-56-78-90-A0").json()["results"]) == 1
    assert len(user_api.get(f"{BASE}/incidents/?breached=true").json()["results"]) == 0
    assert len(user_api.get(f"{BASE}/incidents/?resolver=DSP").json()["results"]) == 1


def test_dcc_raises_on_behalf_of_a_service_user(orgs, supplier_a, dcc_operator, api_for):
    desk = api_for(dcc_operator)
    missing = raise_via(desk, organisation="SUPA")
    assert missing.status_code == 400 and "caller" in missing.json()
    made = raise_via(desk, organisation="SUPA", raised_by="alice")
    assert made.status_code == 201
    incident = Incident.objects.get(reference=made.json()["reference"])
    assert incident.organisation == orgs["SUPA"] and incident.raised_by == supplier_a
    assert incident.logged_by == dcc_operator and made.json()["logged_by"] == "operator"


def test_hostile_bodies_are_refused_naming_the_field(supplier_a, api_for):
    api = api_for(supplier_a)
    cases = [
        ({"summary": "x" * 201}, "summary"),
        ({"summary": ["not", "text"]}, "summary"),
        ({"proposed_category": 9}, "proposed_category"),
        ({"proposed_category": "one"}, "proposed_category"),
        ({"description": "x" * 20_001}, "description"),
        ({"organisation": "SUPB"}, "organisation"),  # another's code is as unknown as a typo
        ({"organisation": "NOSUCH"}, "organisation"),
        ({"devices": ["00-DB-12"]}, "devices"),
        ({"devices": "00db1234567890a0"}, "devices"),
        ({"service_requests": ["has a space"]}, "service_requests"),
        ({"regions": ["atlantis"]}, "regions"),
        ({"interested_parties": ["NOSUCH"]}, "interested_parties"),
        ({"affected_items": ["no-such-item"]}, "affected_items"),
    ]
    for overrides, field in cases:
        response = raise_via(api, **overrides)
        assert response.status_code == 400, (overrides, response.content)
        assert field in response.json(), (overrides, response.json())
    assert not Incident.objects.exists()
    bad_filter = api.get(f"{BASE}/incidents/?device=not-a-eui")
    assert bad_filter.status_code == 400 and "device" in bad_filter.json()
    assert api.get(f"{BASE}/incidents/?category=7").status_code == 400


# --- attachments -----------------------------------------------------------------------------

def test_attachments_are_checked_and_downloads_scoped(supplier_a, supplier_b, dcc_operator, api_for, raise_incident):
    incident = raise_incident(supplier_a)
    api = api_for(supplier_a)
    url = f"{BASE}/incidents/{incident.reference}/attachments/"
    DeskPolicy.objects.update_or_create(pk=1, defaults={"attachment_max_bytes": 2048})

    too_big = api.post(url, {"file": io.BytesIO(b"a" * 4096)}, format="multipart")
    assert too_big.status_code == 400 and "file" in too_big.json() and "2,048" in str(too_big.json())
    renamed = io.BytesIO(b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff")
    renamed.name = "notes.txt"
    wrong = api.post(url, {"file": renamed}, format="multipart")
    assert wrong.status_code == 400 and "file" in wrong.json()
    disguised = io.BytesIO(PNG)
    disguised.name = "screen.pdf"
    assert api.post(url, {"file": disguised}, format="multipart").status_code == 400
    page = io.BytesIO(b"<html><script>alert(1)</script></html>")
    page.name = "log.txt"
    assert api.post(url, {"file": page}, format="multipart").status_code == 400
    assert not IncidentAttachment.objects.exists()

    good = io.BytesIO(PNG)
    good.name = "screen.png"
    made = api.post(url, {"file": good}, format="multipart")
    assert made.status_code == 201 and made.json()["content_type"] == "image/png"
    download = made.json()["download"]
    response = api.get(download)
    assert response.status_code == 200 and b"".join(response.streaming_content) == PNG
    assert response["Content-Disposition"].startswith("attachment")
    assert api_for(supplier_b).get(download).status_code == 404
    assert [a["filename"] for a in api.get(url).json()] == ["screen.png"]


# --- import ----------------------------------------------------------------------------------

def test_import_previews_and_commits_all_or_nothing(supplier_a, api_for):
    api = api_for(supplier_a)
    url = f"{BASE}/incidents/import/"
    text = ("summary,description,category,devices\n"
            "Reads fail,All reads fail,2,00db1234567890a0\n"
            "Bad category,Something,9,\n"
            "Bad device,Something else,3,00-DB-XX\n")

    def upload(content, commit, name="incidents.csv"):
        handle = io.BytesIO(content)
        handle.name = name
        return api.post(url, {"file": handle, "commit": commit}, format="multipart")

    preview = upload(text.encode(), False)
    assert preview.status_code == 200
    body = preview.json()
    assert body["committed"] is False and body["clean"] is False and body["errors"] == 2
    rows = {row["row"]: row for row in body["rows"]}
    assert rows[2]["error"] == "" and rows[2]["change"] == "create"
    assert "category" in rows[3]["error"] and "devices" in rows[4]["error"]

    refused = upload(text.encode(), True)
    assert refused.status_code == 400
    assert "row 3" in str(refused.json()["detail"]) and "category" in str(refused.json()["detail"])
    assert not Incident.objects.exists()  # nothing half-written

    clean = "\n".join(text.splitlines()[:2]) + "\nSecond,Also broken,4,\n"
    committed = upload(clean.encode(), True)
    assert committed.status_code == 201 and committed.json()["committed"] is True
    assert Incident.objects.filter(organisation=supplier_a.organisation, channel="import").count() == 2

    book = openpyxl.Workbook()
    book.active.append(["summary", "description", "category"])
    book.active.append(["From Excel", "An xlsx row", 5])
    data = io.BytesIO()
    book.save(data)
    assert upload(data.getvalue(), True, "incidents.xlsx").status_code == 201
    broken = upload(b"\x00\x01\x02 not a table", True, "incidents.csv")
    assert broken.status_code == 400 and "file" in broken.json()
    assert Incident.objects.count() == 3


def test_sdag_members_may_not_import(sdag_member, api_for):
    handle = io.BytesIO(b"summary,description,category\nx,y,3\n")
    handle.name = "x.csv"
    response = api_for(sdag_member).post(f"{BASE}/incidents/import/", {"file": handle, "commit": True},
                                         format="multipart")
    assert response.status_code == 403 and not Incident.objects.exists()


# --- reports, forecasts, deliveries ----------------------------------------------------------

def test_report_csv_equals_the_report_functions_file(orgs, supplier_a, supplier_b, dcc_operator, api_for):
    for _ in range(3):
        device(orgs["SUPA"], DeviceType.ESME, status="commissioned")
    device(orgs["SUPB"], DeviceType.ESME, status="commissioned")
    expected = reports.installation_status(reports.report_scope(supplier_a)).csv()
    response = api_for(supplier_a).get(f"{BASE}/reports/RSMI_001/?export=csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert b"".join(response.streaming_content) == expected
    # DCC reads the same report for the organisation it names.
    assert api_for(dcc_operator).get(f"{BASE}/reports/RSMI_001/?export=csv&organisation=SUPA").getvalue() == expected
    as_json = api_for(supplier_a).get(f"{BASE}/reports/RSMI_001/").json()
    assert len(as_json["rows"]) == 3 and as_json["organisation"] == "SUPA"
    # A supplier reads only its own; a bad filter is named.
    assert api_for(supplier_a).get(f"{BASE}/reports/RSMI_001/?organisation=SUPB").status_code == 400
    assert api_for(supplier_a).get(f"{BASE}/reports/RSMI_004/?region=mars").status_code == 400
    assert api_for(supplier_a).get(f"{BASE}/reports/RSAT_001/?month=2026-13").status_code == 400
    bad_device = api_for(supplier_a).get(f"{BASE}/reports/RSAT_002/?device=zz")
    assert bad_device.status_code == 400 and "device" in bad_device.json()
    assert api_for(supplier_a).get(f"{BASE}/reports/NOPE/").status_code == 404
    assert api_for(dcc_operator).get(f"{BASE}/reports/RSMI_001/").status_code == 400


def test_forecasts_are_the_users_own_and_refuse_bad_input(orgs, supplier_a, supplier_b, dcc_operator, api_for):
    catalogue.load(ServiceRequestVariant)
    api = api_for(supplier_a)
    url = f"{BASE}/forecasts/"
    made = api.post(url, {"month": "2026-03", "srv": "4.1.1", "forecast": 1200}, format="json")
    assert made.status_code == 201 and made.json()["organisation"] == "SUPA" and made.json()["month"] == "2026-03"
    again = api.post(url, {"month": "2026-03", "srv": "4.1.1", "forecast": 1500}, format="json")
    assert again.json()["id"] == made.json()["id"] and again.json()["forecast"] == 1500
    for body, field in [({"month": "2026-13", "srv": "4.1.1", "forecast": 1}, "month"),
                        ({"month": "March", "srv": "4.1.1", "forecast": 1}, "month"),
                        ({"month": "1800-01", "srv": "4.1.1", "forecast": 1}, "month"),
                        ({"month": "2026-03", "srv": "99.9", "forecast": 1}, "srv"),
                        ({"month": "2026-03", "srv": "4.1.1", "forecast": -1}, "forecast"),
                        ({"month": "2026-03", "srv": "4.1.1", "forecast": "lots"}, "forecast"),
                        ({"month": "2026-03", "srv": "4.1.1", "forecast": 10**12}, "forecast"),
                        ({"month": "2026-03", "srv": "4.1.1", "forecast": 1, "organisation": "SUPB"}, "organisation")]:
        response = api.post(url, body, format="json")
        assert response.status_code == 400 and field in response.json(), (body, response.json())
    assert UsageForecast.objects.get().forecast == 1500
    assert api_for(supplier_b).get(url).json()["count"] == 0
    assert api_for(supplier_b).get(f"{url}{made.json()['id']}/").status_code == 404
    assert api.get(f"{url}?month=2026-03").json()["count"] == 1
    assert api.get(f"{url}?month=never").status_code == 400
    # DCC names the service user.
    desk = api_for(dcc_operator)
    assert desk.post(url, {"month": "2026-04", "srv": "4.1.1", "forecast": 5}, format="json").status_code == 400
    assert desk.post(url, {"month": "2026-04", "srv": "4.1.1", "forecast": 5, "organisation": "SUPB"},
                     format="json").status_code == 201


def test_deliveries_download_for_their_owner_only(orgs, supplier_a, supplier_b, api_for):
    delivery = SelfServiceReportDelivery(organisation=orgs["SUPA"], kind=ReportKind.RSMI_002,
                                         month=dt.date(2026, 1, 1), due_on=dt.date(2026, 2, 13),
                                         state=DeliveryState.DELIVERED, rows=1)
    delivery.file.save("RSMI_002_SUPA_2026-01.csv", ContentFile(b"device_type\nESME\n"), save=False)
    delivery.save()
    listed = api_for(supplier_a).get(f"{BASE}/deliveries/").json()["results"]
    assert [row["id"] for row in listed] == [delivery.pk]
    response = api_for(supplier_a).get(listed[0]["download"])
    assert response.status_code == 200 and b"".join(response.streaming_content) == b"device_type\nESME\n"
    assert api_for(supplier_b).get(listed[0]["download"]).status_code == 404
    assert api_for(supplier_b).get(f"{BASE}/deliveries/").json()["count"] == 0


# --- status, alerts, maintenance, tables -----------------------------------------------------

def test_components_alerts_and_maintenance(components, supplier_a, dcc_operator, dcc_admin, second_dcc_admin,
                                           api_for):
    user_api, desk = api_for(supplier_a), api_for(dcc_operator)
    assert user_api.post(f"{BASE}/components/dsp/status/", {"status": "degraded"}, format="json").status_code in (
        403, 404)
    changed = desk.post(f"{BASE}/components/dsp/status/", {"status": "degraded", "reason": "slow"}, format="json")
    assert changed.status_code == 200 and changed.json()["status"] == "degraded"
    assert desk.post(f"{BASE}/components/dsp/status/", {"status": "on_fire"}, format="json").status_code == 400

    assert user_api.post(f"{BASE}/alerts/", {"title": "x", "description": "y"}, format="json").status_code == 403
    alert = desk.post(f"{BASE}/alerts/", {"title": "DSP slow", "description": "Queues", "components": ["dsp"],
                                          "regions": ["north"]}, format="json")
    assert alert.status_code == 201, alert.json()
    ref = alert.json()["reference"]
    assert desk.post(f"{BASE}/alerts/", {"title": "x", "description": "y", "components": ["nope"]},
                     format="json").status_code == 400
    assert [c["active_alerts"] for c in user_api.get(f"{BASE}/components/").json() if c["key"] == "dsp"] == [1]
    assert desk.post(f"{BASE}/alerts/{ref}/updates/", {"text": "Improving"}, format="json").status_code == 201
    assert desk.post(f"{BASE}/alerts/{ref}/close/", {"text": "Fixed"}, format="json").json()["is_active"] is False
    assert [u["text"] for u in user_api.get(f"{BASE}/alerts/{ref}/").json()["updates"]] == ["Improving", "Fixed"]

    admin, approver = api_for(dcc_admin), api_for(second_dcc_admin)
    start = dt.datetime.now(dt.UTC) + dt.timedelta(days=30)
    window = {"title": "DSP upgrade", "description": "New release", "components": ["dsp"],
              "start_at": start.isoformat(), "end_at": (start + dt.timedelta(hours=2)).isoformat()}
    backwards = {**window, "end_at": (start - dt.timedelta(hours=2)).isoformat()}
    assert admin.post(f"{BASE}/maintenance/", backwards, format="json").status_code == 400
    made = admin.post(f"{BASE}/maintenance/", window, format="json")
    assert made.status_code == 201
    pm = made.json()["reference"]
    assert user_api.get(f"{BASE}/maintenance/{pm}/").status_code == 404  # not announced yet
    assert admin.post(f"{BASE}/maintenance/{pm}/approve/").status_code == 403  # not the scheduler
    assert approver.post(f"{BASE}/maintenance/{pm}/approve/").json()["status"] == "approved"
    announced = admin.post(f"{BASE}/maintenance/{pm}/announce/")
    assert announced.json()["status"] == "announced" and announced.json()["alert"]
    assert user_api.get(f"{BASE}/maintenance/{pm}/").status_code == 200
    assert admin.post(f"{BASE}/maintenance/{pm}/cancel/", {}, format="json").status_code == 400


def test_targets_and_policy_are_edited_by_dcc_administrators(dcc_operator, dcc_admin, supplier_a, api_for):
    rows = api_for(dcc_operator).get(f"{BASE}/targets/").json()
    assert [row["category"] for row in rows] == [1, 2, 3, 4, 5] and all(row["is_default"] for row in rows)
    assert api_for(dcc_operator).patch(f"{BASE}/targets/2/", {"response_minutes": 30},
                                       format="json").status_code == 403
    saved = api_for(dcc_admin).patch(f"{BASE}/targets/2/", {"response_minutes": 30}, format="json")
    assert saved.status_code == 200 and saved.json()["response_minutes"] == 30 and not saved.json()["is_default"]
    assert api_for(dcc_admin).patch(f"{BASE}/targets/2/", {"response_minutes": "soon"},
                                    format="json").status_code == 400
    assert api_for(dcc_admin).get(f"{BASE}/targets/9/").status_code == 404

    assert api_for(dcc_operator).get(f"{BASE}/policy/").json()["auto_close_working_days"] >= 1
    assert api_for(dcc_operator).patch(f"{BASE}/policy/", {"auto_close_working_days": 3},
                                       format="json").status_code == 403
    assert api_for(dcc_admin).patch(f"{BASE}/policy/", {"auto_close_working_days": 0},
                                    format="json").status_code == 400
    assert api_for(dcc_admin).patch(f"{BASE}/policy/", {"auto_close_working_days": 3},
                                    format="json").json()["auto_close_working_days"] == 3
    assert DeskPolicy.current().auto_close_working_days == 3


def test_major_incident_report_written_and_downloaded(components, supplier_a, supplier_b, dcc_operator, api_for,
                                                      raise_incident):
    incident = raise_incident(supplier_a)
    desk = api_for(dcc_operator)
    ref = incident.reference
    assert api_for(supplier_a).post(f"{BASE}/incidents/{ref}/flag-major/", {}, format="json").status_code == 403
    alert = desk.post(f"{BASE}/incidents/{ref}/flag-major/", {"components": ["dsp"]}, format="json")
    assert alert.status_code == 201 and alert.json()["components"] == ["dsp"]
    body = {"summary": "S", "timeline": "T", "impact": "I", "root_cause": "R", "actions": "A"}
    first = desk.post(f"{BASE}/incidents/{ref}/major-reports/", body, format="json")
    assert first.status_code == 201 and first.json()["version"] == 1
    assert desk.post(f"{BASE}/incidents/{ref}/major-reports/", body, format="json").status_code == 400  # no reason
    versions = api_for(supplier_a).get(f"{BASE}/incidents/{ref}/major-reports/").json()
    assert [v["version"] for v in versions] == [1]
    pdf = api_for(supplier_a).get(first.json()["pdf"])
    assert pdf.status_code == 200 and b"".join(pdf.streaming_content).startswith(b"%PDF")
    assert api_for(supplier_b).get(first.json()["pdf"]).status_code == 404
    assert incident.status == IncidentStatus.NEW


def test_problems_are_dccs(supplier_a, dcc_operator, api_for, raise_incident):
    incident = raise_incident(supplier_a)
    desk = api_for(dcc_operator)
    made = desk.post(f"{BASE}/problems/", {"title": "Queue stalls", "incidents": [incident.reference]},
                     format="json")
    assert made.status_code == 201 and made.json()["incidents"] == [incident.reference]
    prb = made.json()["reference"]
    assert desk.patch(f"{BASE}/problems/{prb}/", {"status": "resolved"}, format="json").status_code == 400
    assert desk.patch(f"{BASE}/problems/{prb}/", {"root_cause": "lock", "fix": "patch", "status": "resolved"},
                      format="json").json()["status"] == "resolved"
    assert api_for(supplier_a).get(f"{BASE}/problems/").json()["count"] == 0
    assert api_for(supplier_a).post(f"{BASE}/problems/", {"title": "x"}, format="json").status_code == 403
    # The supplier sees no problem reference on its incident; DCC does.
    assert api_for(supplier_a).get(f"{BASE}/incidents/{incident.reference}/").json()["problem"] is None
    assert desk.get(f"{BASE}/incidents/{incident.reference}/").json()["problem"] == prb



def test_the_incident_list_costs_the_same_queries_for_one_row_or_many(supplier_a, dcc_operator, api_for,
                                                                     raise_incident):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    api = api_for(dcc_operator)
    first = raise_incident(supplier_a)
    services.incident_request_information(actor=dcc_operator, incident=first, text="Which meters?")
    api.get(f"{BASE}/incidents/")  # the token's last use is written at most once a minute: not in the count
    with CaptureQueriesContext(connection) as one:
        assert len(api.get(f"{BASE}/incidents/").json()["results"]) == 1
    for _ in range(4):
        services.incident_request_information(actor=dcc_operator, incident=raise_incident(supplier_a), text="?")
    with CaptureQueriesContext(connection) as five:
        assert len(api.get(f"{BASE}/incidents/").json()["results"]) == 5
    assert len(five.captured_queries) == len(one.captured_queries)
