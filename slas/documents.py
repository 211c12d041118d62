"""Statement and report documents: HTML (for the page and the PDF), PDF (WeasyPrint) and CSV rows."""
from decimal import Decimal

from django.template.loader import render_to_string

from slas.models import Statement


def statement_context(statement):
    data = statement.data
    latest = (Statement.objects.filter(organisation_id=statement.organisation_id, month=statement.month)
              .order_by("-version").values_list("version", flat=True).first())
    return {"statement": statement, "data": data, "measures": data.get("measures", []),
            "credits": data.get("credits", []), "is_current": latest == statement.version,
            "traffic": traffic_note(statement)}


def _measured_by_measure(rows):
    totals = {}
    for row in rows:
        key = (row["code"], row["type"])
        totals[key] = totals.get(key, 0) + int(row.get("measured") or 0)
    return totals


def traffic_note(statement):
    """How the statement's traffic relates to the service user's report, from the figures: the
    statement's measures are the national ones frozen with the month (every service user's
    measured requests and alerts: providers earn credits on all traffic), while the service user's
    report counts its own (report.build with the organisation, as its report page shows it today).
    Counts are of measured intervals: a request is counted once in each measure that times it."""
    from slas import report

    national = _measured_by_measure(statement.data.get("measures", []))
    own_rows, _per_user = report.measure_results(statement.month, statement.organisation)
    own = _measured_by_measure(own_rows)
    national_total, own_total = sum(national.values()), sum(own.get(k, 0) for k in national)
    examples = sorted(((code, mtype, own.get((code, mtype), 0), n) for (code, mtype), n in national.items() if n),
                      key=lambda e: (-e[2], -e[3], e[0]))[:3]
    return {"national_total": national_total, "own_total": own_total,
            "share_pct": (Decimal(own_total) * 100 / national_total).quantize(Decimal("0.1")) if national_total
            else None,
            "examples": [{"code": c, "type": t, "own": o, "national": n} for c, t, o, n in examples],
            "measures": len(national), "measured_measures": sum(1 for n in national.values() if n)}


def statement_html(statement):
    return render_to_string("slas/statement_document.html", statement_context(statement))


def statement_pdf(statement):
    from weasyprint import HTML

    return HTML(string=statement_html(statement)).write_pdf()


def statement_rows(statement):
    """CSV rows: the statement's figures, line by line."""
    data = statement.data
    rows = [("statement", statement.reference, "", ""), ("organisation", statement.organisation.code, "", ""),
            ("month", f"{statement.month:%Y-%m}", "", ""), ("version", statement.version, "", ""),
            ("reason", statement.reason, "", "")]
    for credit in data.get("credits", []):
        for line in credit["lines"]:
            rows.append((f"{credit['provider']} {line['code']} {line['type']}",
                         f"achieved {line['achieved_pct']}% target {line['target_pct']}% "
                         f"minimum {line['minimum_pct']}%",
                         f"shortfall {line['shortfall']}", f"points {line['points']}"))
        rows.append((f"{credit['provider']} credit", f"points {credit['points']}", f"credit {credit['credit_pct']}%",
                     f"charge {credit['charge']} credit {credit['credit']}"))
    rows += [("pool", data.get("pool"), "", ""), ("your charges", str(statement.charges), "", ""),
             ("all charges", data.get("total_charges"), "", ""), ("your credit", str(statement.amount), "", "")]
    return rows


def report_pdf(context):
    from weasyprint import HTML

    return HTML(string=render_to_string("slas/report_document.html", context)).write_pdf()
