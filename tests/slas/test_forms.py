"""Pages where DCC administrators change slas data: measure targets (and the admin site), relief
windows and the charges import with preview. Every change goes through slas.services."""
import datetime as dt
from decimal import Decimal

import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from slas import report
from slas.models import Charge, Measure, ReliefEvent

IN_OCTOBER = dt.datetime(2025, 10, 20, 12, 0, tzinfo=dt.UTC)


def _sm11_within(month):
    built = report.build(month)
    return next(r["within"] for r in built["measures"] if r["code"] == "SM1.1" and r["type"] == "on_demand")


def test_measure_targets_page_rebuilds_and_names_the_field(month_with_misses, dcc_admin, dcc_operator, supplier_a,
                                                           client_for):
    measure = Measure.objects.get(code="SM1.1", measurement_type="on_demand")
    url = reverse("slas:measure_edit", args=[measure.pk])
    for outsider in (dcc_operator, supplier_a):
        assert client_for(outsider).get(url).status_code == 404
        assert client_for(outsider).post(url, {"target_seconds": "60"}).status_code == 404
    admin = client_for(dcc_admin)
    assert 'href="%s"' % url in admin.get(reverse("slas:measure_list")).content.decode()
    form = {"target_seconds": "4", "target_pct": "99.00", "minimum_pct": "99.00", "weight": "1"}
    refused = admin.post(url, form)
    assert refused.status_code == 200 and "The minimum service level must be below the target." in \
        refused.content.decode()
    assert _sm11_within(month_with_misses) == 97
    with time_machine.travel(IN_OCTOBER, tick=False):
        saved = admin.post(url, {**form, "target_seconds": "10", "minimum_pct": "96.00"})
    assert saved.status_code == 302
    measure.refresh_from_db()
    assert measure.target_seconds == Decimal("10.000")
    assert _sm11_within(month_with_misses) == 100  # October rebuilt with the new target


def test_admin_site_saves_measures_through_the_service(month_with_misses, dcc_admin, client_for):
    measure = Measure.objects.get(code="SM1.1", measurement_type="on_demand")
    fields = {name: getattr(measure, name) for name in ("code", "name", "provider", "measurement_type", "interval",
                                                        "target_pct", "minimum_pct", "weight", "position")}
    with time_machine.travel(IN_OCTOBER, tick=False):
        response = client_for(dcc_admin).post(reverse("admin:slas_measure_change", args=[measure.pk]),
                                              {**fields, "target_seconds": "10"})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert _sm11_within(month_with_misses) == 100


def test_relief_page_records_a_window_in_london_time(orgs, measures, dcc_admin, dcc_operator, supplier_a,
                                                     client_for):
    url = reverse("slas:relief_list")
    form = {"provider": "CSP_NORTH", "region": "north", "starts_at": "2025-10-03T10:00",
            "ends_at": "2025-10-03T10:00", "reason": "Approved: mast outage"}
    assert client_for(dcc_operator).post(url, form).status_code == 403
    assert client_for(supplier_a).get(url).status_code == 200
    admin = client_for(dcc_admin)
    refused = admin.post(url, form)
    assert refused.status_code == 200 and not ReliefEvent.objects.exists()
    assert refused.context["form"].errors == {"ends_at": ["The window must end after it starts."]}
    assert admin.post(url, {**form, "ends_at": "2025-10-03T12:30"}).status_code == 302
    relief = ReliefEvent.objects.get()
    # 10:00 British Summer Time is 09:00 UTC.
    assert (relief.starts_at, relief.recorded_by) == (dt.datetime(2025, 10, 3, 9, tzinfo=dt.UTC), dcc_admin)
    assert "Approved: mast outage" in client_for(dcc_operator).get(url).content.decode()


def test_charges_import_page_previews_then_commits(orgs, dcc_admin, dcc_operator, client_for):
    url = reverse("slas:charge_import")
    assert client_for(dcc_operator).get(url).status_code == 403
    admin = client_for(dcc_admin)
    bad = SimpleUploadedFile("charges.csv", b"month,party,amount\n2025-10,DSP,10.00\n2025-10,NOPE,1\n")
    response = admin.post(url, {"file": bad})
    body = response.content.decode()
    assert "party: &#x27;NOPE&#x27; is neither" in body and 'name="token"' not in body
    good = SimpleUploadedFile("charges.csv", b"month,party,amount\n2025-10,DSP,10.00\n2025-10,SUPA,5\n")
    response = admin.post(url, {"file": good})
    assert response.context["preview"].clean and not Charge.objects.exists()
    committed = admin.post(url, {"token": response.context["token"]})
    assert committed.status_code == 302
    assert sorted((c.party, c.amount) for c in Charge.objects.all()) == [("DSP", Decimal("10.00")),
                                                                         ("SUPA", Decimal("5.00"))]
    # The stored preview is used once: a second commit of it finds nothing to write.
    again = admin.post(url, {"token": response.context["token"]})
    assert again.status_code == 302 and again["Location"] == url


def test_only_administrators_see_the_edit_and_import_links(month_with_misses, dcc_admin, dcc_operator, supplier_a,
                                                          client_for):
    measure = Measure.objects.get(code="SM1.1", measurement_type="on_demand")
    edit = 'href="%s"' % reverse("slas:measure_edit", args=[measure.pk])
    imports = 'href="%s"' % reverse("slas:charge_import")
    for person, shown in ((dcc_admin, True), (dcc_operator, False), (supplier_a, False)):
        client = client_for(person)
        assert (edit in client.get(reverse("slas:measure_list")).content.decode()) is shown, person
        assert (imports in client.get(reverse("slas:charge_list")).content.decode()) is shown, person
