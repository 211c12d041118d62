"""The reports of the service levels: the monthly service measures report (the month's measure
results, incident measures, availability, credits and exclusions) and the service credit
statements. The navigation lists them under Service levels. Also the service metrics table of the
service desk's monthly transactions report (RSAT_001, SEC H3.24), which servicedesk cannot build
itself (it stands below slas). Registered in SlasConfig.ready()."""
from __future__ import annotations

import datetime as dt
from typing import Any

from portal.access import OPERATIONS
from portal.models import Organisation
from portal.registry import Report, register_report
from servicedesk.reports import Section, register_metrics_section

register_report(Report("monthly_report", "Monthly report", "slas:report", OPERATIONS, section="service_levels",
                       weight=10))
register_report(Report("statements", "Statements", "slas:statement_list", OPERATIONS, section="service_levels",
                       weight=20))

METRIC_HEADERS = ("metric", "name", "provider", "measured", "within", "achieved_pct", "threshold_pct",
                  "minimum_pct", "result")


def _result(row: dict[str, Any]) -> str:
    if row["met"] is None:
        return "not measured"
    return "met" if row["met"] else ("below minimum" if row["below_minimum"] else "below target")


def service_metrics(organisation: Organisation, month: dt.date) -> Section:
    """Each monthly service metric against its threshold (its target %, and the minimum): DCC's
    national performance, as in the monthly report, the request and alert measures (CSP ones per
    region) and then the incident measures per resolver. The same for every service user."""
    from slas import report  # the report machinery imports servicedesk's selectors: read it late

    rows = [*report.measure_results(month)[0], *report.incident_results(month)]
    return Section("Service metrics against their thresholds", METRIC_HEADERS, [
        (row["code"], row["name"], row.get("resolver", row["provider"]) or "", row["measured"], row["within"],
         "" if row["achieved_pct"] is None else f"{row['achieved_pct']:.2f}", f"{row['target_pct']:.2f}",
         f"{row['minimum_pct']:.2f}", _result(row))
        for row in rows])


register_metrics_section(service_metrics)
