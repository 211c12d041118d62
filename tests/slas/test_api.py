"""The slas REST API: measures (targets by DCC administrators, rollups rebuilt), relief windows,
charges, statements with versions and downloads, and the monthly report as JSON."""
import datetime as dt
import io
import json
from decimal import Decimal

import pytest
import time_machine
from django.core.management import call_command

from slas import report, services
from slas.models import Charge, Measure, ReliefEvent, Statement

OCT = "2025-10"
IN_OCTOBER = dt.datetime(2025, 10, 20, 12, 0, tzinfo=dt.UTC)


def _sm11(payload):
    return next(m for m in payload["measures"] if m["code"] == "SM1.1" and m["type"] == "on_demand")


def test_measures_readable_by_all_and_targets_changed_by_admins_only(month_with_misses, dcc_admin, dcc_operator,
                                                                      supplier_a, api_for):
    measure = Measure.objects.get(code="SM1.1", measurement_type="on_demand")
    listed = api_for(supplier_a).get("/api/slas/measures/", {"page_size": 500})
    assert listed.status_code == 200 and listed.json()["count"] == Measure.objects.count()
    url = f"/api/slas/measures/{measure.pk}/"
    for outsider in (supplier_a, dcc_operator):
        response = api_for(outsider).patch(url, {"target_seconds": "60"}, format="json")
        assert response.status_code in (403, 404)
    measure.refresh_from_db()
    assert measure.target_seconds == Decimal("4.000")

    admin = api_for(dcc_admin)
    with time_machine.travel(IN_OCTOBER, tick=False):
        before = _sm11(admin.get("/api/slas/report/", {"month": OCT}).json())
        assert (before["measured"], before["within"]) == (100, 97)
        changed = admin.patch(url, {"target_seconds": "10", "weight": "2"}, format="json")
        assert changed.status_code == 200, changed.content
        assert changed.json()["target_seconds"] == "10.000"
        # The service rebuilt October's rollups: the 9 s outbound legs are now within target.
        after = _sm11(admin.get("/api/slas/report/", {"month": OCT}).json())
    assert (after["measured"], after["within"], after["met"]) == (100, 100, True)
    bad = admin.patch(url, {"minimum_pct": "99.50"}, format="json")
    assert bad.status_code == 400 and "minimum_pct" in bad.json()
    assert admin.patch(url, {"target_pct": "abc"}, format="json").status_code == 400
    assert admin.delete(url).status_code == 405


def test_relief_events_recorded_by_admins_with_a_named_field_error(orgs, measures, dcc_admin, dcc_operator,
                                                                   supplier_a, api_for):
    body = {"provider": "CSP_NORTH", "region": "north", "starts_at": "2025-10-03T10:00:00+01:00",
            "ends_at": "2025-10-03T12:00:00+01:00", "reason": "Approved relief: mast outage"}
    for outsider in (supplier_a, dcc_operator):
        assert api_for(outsider).post("/api/slas/relief-events/", body, format="json").status_code == 403
    admin = api_for(dcc_admin)
    wrong = admin.post("/api/slas/relief-events/", {**body, "ends_at": body["starts_at"]}, format="json")
    assert wrong.status_code == 400 and "ends_at" in wrong.json()
    assert admin.post("/api/slas/relief-events/", {**body, "provider": "NOPE"}, format="json").status_code == 400
    created = admin.post("/api/slas/relief-events/", body, format="json")
    assert created.status_code == 201, created.content
    relief = ReliefEvent.objects.get()
    assert relief.recorded_by == dcc_admin and relief.starts_at == dt.datetime(2025, 10, 3, 9, tzinfo=dt.UTC)
    listed = admin.get("/api/slas/relief-events/").json()
    assert [r["reason"] for r in listed["results"]] == ["Approved relief: mast outage"]
    assert admin.delete(f"/api/slas/relief-events/{relief.pk}/").status_code == 405


def test_charges_listed_per_organisation_and_set_by_admins(month_with_misses, orgs, dcc_admin, dcc_operator,
                                                           supplier_a, api_for):
    own = api_for(supplier_a).get("/api/slas/charges/").json()["results"]
    assert [(c["party"], c["amount"]) for c in own] == [("SUPA", "2000.00")]
    everything = api_for(dcc_operator).get("/api/slas/charges/", {"month": OCT}).json()["results"]
    assert {c["party"] for c in everything} == {"DSP", "CSP_NORTH", "SUPA", "SUPB"}
    refused = api_for(dcc_operator).get("/api/slas/charges/", {"month": "2025-13"}).json()
    assert (refused["status"], list(refused["errors"])) == (400, ["month"])

    body = {"month": "2025-11", "party": "SUPB", "amount": "1234.50"}
    for outsider in (supplier_a, dcc_operator):
        assert api_for(outsider).post("/api/slas/charges/", body, format="json").status_code == 403
    admin = api_for(dcc_admin)
    created = admin.post("/api/slas/charges/", body, format="json")
    assert created.status_code == 201 and created.json()["party"] == "SUPB"
    assert Charge.objects.get(month=dt.date(2025, 11, 1), organisation=orgs["SUPB"]).amount == Decimal("1234.50")
    # Setting the same party and month again replaces the figure (one charge per party and month).
    assert admin.post("/api/slas/charges/", {**body, "amount": "99"}, format="json").status_code == 201
    assert Charge.objects.get(month=dt.date(2025, 11, 1), organisation=orgs["SUPB"]).amount == Decimal("99.00")
    for field, value in (("month", "November"), ("party", "NOPE"), ("amount", "-1"), ("amount", "1.234")):
        response = admin.post("/api/slas/charges/", {**body, field: value}, format="json")
        assert response.status_code == 400 and field in response.json(), (field, response.content)


def test_statements_scoped_with_versions_and_download_links(month_with_misses, orgs, dcc_admin, supplier_a,
                                                            supplier_b, api_for, client_for):
    services.month_freeze(month=month_with_misses, notify=False)
    services.month_restate(month=month_with_misses, reason="late responses", actor=dcc_admin)
    api = api_for(supplier_a)
    listed = api.get("/api/slas/statements/").json()["results"]
    assert {s["organisation"] for s in listed} == {"SUPA"} and [s["version"] for s in listed] == [2, 1]
    theirs = Statement.objects.get(organisation=orgs["SUPB"], version=1)
    assert api.get(f"/api/slas/statements/{theirs.pk}/").status_code == 404
    assert api.get(f"/api/slas/statements/{theirs.pk}/versions/").status_code == 404
    assert api.get("/api/slas/statements/", {"organisation": "SUPB"}).json()["results"] == []
    mine = Statement.objects.get(organisation=orgs["SUPA"], version=1)
    detail = api.get(f"/api/slas/statements/{mine.pk}/").json()
    assert detail["amount"] == "444.45" and detail["month"] == OCT and detail["data"]["pool"] == "666.67"
    versions = api.get(f"/api/slas/statements/{mine.pk}/versions/").json()
    assert [(v["version"], v["reason"]) for v in versions] == [(1, ""), (2, "late responses")]
    pdf = client_for(supplier_a).get(detail["downloads"]["pdf"])
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert client_for(supplier_b).get(detail["downloads"]["csv"]).status_code == 404
    # The same PDF through the API, scoped as the page is: another organisation's is 404.
    api_pdf = api.get(f"/api/slas/statements/{mine.pk}/pdf/", HTTP_ACCEPT="application/pdf")
    assert api_pdf.status_code == 200 and api_pdf["Content-Type"] == "application/pdf"
    assert b"".join(api_pdf.streaming_content).startswith(b"%PDF")
    assert api.get(f"/api/slas/statements/{theirs.pk}/pdf/").status_code == 404
    assert api.get("/api/slas/statements/", {"month": "10-2025"}).status_code == 400


def test_report_json_matches_the_command_and_self_service_sees_own_traffic(month_with_misses, orgs, dcc_operator,
                                                                           supplier_a, sdag_member, api_for):
    out = io.StringIO()
    call_command("slas_report", "--month", OCT, "--format", "json", stdout=out)
    full = api_for(dcc_operator).get("/api/slas/report/", {"month": OCT})
    assert full.status_code == 200 and full.json() == json.loads(out.getvalue())
    own = api_for(supplier_a).get("/api/slas/report/", {"month": OCT}).json()
    assert own == report.as_json(report.build(dt.date(2025, 10, 1), orgs["SUPA"]))
    assert _sm11(full.json())["measured"] == 100 and _sm11(own)["measured"] == 50
    assert [s["organisation"] for s in own["statements"]] == ["SUPA"]
    assert api_for(sdag_member).get("/api/slas/report/", {"month": OCT}).status_code == 403
    for bad in ({}, {"month": "2025-13"}, {"month": "SUPB"}, {"month": "9999-12"}, {"month": "0001-01"}):
        response = api_for(dcc_operator).get("/api/slas/report/", bad)
        assert response.status_code == 400 and "month" in response.json(), bad


@pytest.mark.django_db
def test_openapi_documents_the_slas_api(client, dcc_operator, client_for):
    schema = client_for(dcc_operator).get("/api/schema/", {"format": "json"})
    paths = json.loads(schema.content)["paths"]
    assert {"/api/v1/slas/report/", "/api/v1/slas/measures/{id}/", "/api/v1/slas/relief-events/",
            "/api/v1/slas/charges/", "/api/v1/slas/statements/{id}/versions/"} <= set(paths)
    report_get = paths["/api/v1/slas/report/"]["get"]
    assert report_get["parameters"][0]["name"] == "month" and report_get["parameters"][0]["required"]
    assert "delete" not in paths["/api/v1/slas/statements/{id}/"]
