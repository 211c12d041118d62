"""The major incident report as a document: self-contained HTML rendered to PDF by WeasyPrint
(as slas statements and workshops minutes are), from one version's own text, so a version
always prints the same. Text is escaped by the template; nothing is fetched while rendering."""
from django.conf import settings
from django.template.loader import render_to_string

from servicedesk.clock import LONDON
from servicedesk.models import MajorIncidentReport


def _no_network(url, *args, **kwargs):
    # The document is self-contained: refusing every fetch keeps rendering offline, and text
    # written into a report cannot make the server fetch anything.
    raise ValueError(f"external resource refused: {url}")


def major_report_html(report: MajorIncidentReport) -> str:
    incident = report.incident
    latest = incident.major_reports.order_by("-version").values_list("version", flat=True).first()
    return render_to_string("servicedesk/major_incident_report.html", {
        "report": report, "incident": incident, "is_current": latest == report.version,
        "created": report.created_at.astimezone(LONDON), "raised": incident.raised_at.astimezone(LONDON),
        "major_at": incident.major_at.astimezone(LONDON) if incident.major_at else None,
        "components": incident.affected_items.order_by("name"),
    })


def major_report_pdf(report: MajorIncidentReport) -> bytes:
    from weasyprint import HTML

    return HTML(string=major_report_html(report), base_url=str(settings.BASE_DIR),
                url_fetcher=_no_network).write_pdf()


def major_report_filename(report: MajorIncidentReport) -> str:
    return f"{report.incident.reference}-major-incident-report-v{report.version}.pdf"
