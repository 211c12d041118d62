"""Pages of the slas app: measures, the monthly report (DCC: national; service users: own
traffic), statements with downloads, and charges. Views parse, call, render."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from portal.access import may
from portal.dbrouter import replica_reads
from portal.errors import errors_to_form
from portal.generic import FORBIDDEN, ObjectDetailView, ObjectEditView, view_of
from portal.imports import import_page
from portal.scoping import get_scoped_or_404, scope
from portal.tabular import export_format, export_response
from slas import charts, documents, forms, metrics, report, selectors, services
from slas.models import Charge, Measure, MonthSummary, ReliefEvent, Statement

# Service levels are for DCC operations and service users (portal.access).
SERVICE_LEVELS = "slas.report.view"


def _month(request):
    try:
        return metrics.parse_month(request.GET.get("month", ""))
    except ValueError:
        return metrics.previous_month(metrics.month_start(timezone.localdate()))


@view_of(Measure, "slas.measure.view")
def measure_list(request):
    measures = scope(request.user, Measure)
    return render(request, "slas/measure_list.html", {"measures": measures})


class MeasureEdit(ObjectEditView):
    """DCC administrators change a measure's targets; the service rebuilds the current month."""

    model = Measure
    capability = "slas.measure.change"
    form_class = forms.MeasureTargetsForm
    template_name = "slas/measure_edit.html"
    context_object_name = "measure"

    def save(self, form, measure):
        # the form has written the new targets on its instance: the service gets the stored row
        services.measure_update(measure=Measure.objects.get(pk=measure.pk), actor=self.request.user,
                                **form.cleaned_data)
        return measure

    def success_message(self, measure, form):
        return f"{measure}: targets saved and this month's figures rebuilt."

    def success_url(self, measure, obj):
        return reverse("slas:measure_list")


measure_edit = MeasureEdit.as_view()


@view_of(ReliefEvent, SERVICE_LEVELS)
def relief_list(request):
    """Relief windows; DCC administrators record new ones here (the months touched are rebuilt)."""
    form = None
    if may(request.user, "slas.reliefevent.add"):
        form = forms.ReliefEventForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                relief = services.relief_record(actor=request.user, **form.cleaned_data)
            except ValidationError as exc:
                errors_to_form(form, exc)
            else:
                messages.success(request, f"Relief window recorded: {relief}.")
                return redirect("slas:relief_list")
    elif request.method == "POST":
        raise PermissionDenied("Only DCC administrators record relief events.")
    events = scope(request.user, ReliefEvent.objects.select_related("recorded_by"))[:500]
    return render(request, "slas/relief_list.html", {"events": events, "form": form})


@view_of(Charge, "slas.charge.set")
def charge_import(request):
    """Upload -> preview -> commit (portal.imports.import_page), with the importer of
    slas_import_charges."""
    return import_page(request, run=services.charges_import, form_class=forms.ChargesImportForm,
                       template="slas/charge_import.html", key="slas-charges",
                       success_url=reverse("slas:charge_list"))


def _report_context(request):
    month = _month(request)
    organisation = selectors.viewer_organisation(request.user)
    built = report.build(month, organisation)
    return month, built


@view_of(MonthSummary, SERVICE_LEVELS)
@replica_reads
def report_page(request):
    month, built = _report_context(request)
    series, first = selectors.trend(request.user, month)
    months = []
    m = first
    while m <= month:
        months.append(m)
        m = metrics.next_month(m)
    measures = list(selectors.measures())
    context = {
        "month": month, "report": built, "previous": metrics.previous_month(month),
        "next": metrics.next_month(month),
        "fig_bars": charts.achieved_bars(built["measures"]),
        "fig_trend": charts.trend_lines(series, measures, months),
        "fig_latency": charts.latency(built["measures"]),
        "fig_heat": charts.heatmap(selectors.misses_by_region_day(request.user, month), month),
    }
    return render(request, "slas/report.html", context)


REPORT_HEADERS = ["code", "type", "provider", "region", "measured", "within", "excluded", "achieved_pct",
                  "target_pct", "minimum_pct", "met", "p50_seconds", "p95_seconds", "p99_seconds"]


@view_of(None, SERVICE_LEVELS, refused=FORBIDDEN)
@replica_reads
def report_export(request, fmt):
    export_format(fmt, ("pdf", "csv"))
    month, built = _report_context(request)
    if fmt == "pdf":
        pdf = documents.report_pdf({"month": month, "report": built})
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="service-report-{month:%Y-%m}.pdf"'
        return response
    # Incident measures follow the others, their resolver in the region column.
    rows = [{h: row[h] for h in REPORT_HEADERS} for row in [*built["measures"], *built["incidents"]]]
    return export_response(f"service-report-{month:%Y-%m}", REPORT_HEADERS, rows, "csv", "report")


@view_of(Statement, SERVICE_LEVELS)
def statement_list(request):
    statements = list(selectors.statements_for(request.user)[:500])
    latest = {}
    for statement in statements:
        latest.setdefault((statement.organisation_id, statement.month), statement.version)
    for statement in statements:
        statement.is_current = latest[(statement.organisation_id, statement.month)] == statement.version
    return render(request, "slas/statement_list.html", {"statements": statements})


class StatementDetail(ObjectDetailView):
    """One version of a statement, with the other versions of its month."""

    model = Statement
    capability = "slas.statement.view"
    queryset = Statement.objects.select_related("organisation", "run")
    template_name = "slas/statement_detail.html"
    context_object_name = "statement"

    def extra_context(self, statement):
        versions = scope(self.request.user, Statement).filter(organisation=statement.organisation,
                                                               month=statement.month).order_by("version")
        return {**documents.statement_context(statement), "versions": versions}


statement_detail = StatementDetail.as_view()


@view_of(Statement, "slas.statement.view")
@replica_reads
def statement_download(request, pk, fmt):
    statement = get_scoped_or_404(request.user, Statement.objects.select_related("organisation"), pk=pk)
    export_format(fmt, ("pdf", "html", "csv"))
    if fmt == "pdf":
        response = HttpResponse(documents.statement_pdf(statement), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="statement-{statement.reference}.pdf"'
        return response
    if fmt == "html":
        return HttpResponse(documents.statement_html(statement))
    return export_response(f"statement-{statement.reference}", ["item", "value", "detail", "result"],
                           documents.statement_rows(statement), "csv", "statement")


@view_of(Charge, SERVICE_LEVELS)
def charge_list(request):
    return render(request, "slas/charge_list.html", {"charges": selectors.charges_for(request.user)[:500]})
