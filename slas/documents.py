"""Statement and report documents: HTML (for the page and the PDF), PDF (WeasyPrint) and CSV rows."""
from django.template.loader import render_to_string

from slas.models import Statement


def statement_context(statement):
    data = statement.data
    latest = (Statement.objects.filter(organisation_id=statement.organisation_id, month=statement.month)
              .order_by("-version").values_list("version", flat=True).first())
    return {"statement": statement, "data": data, "measures": data.get("measures", []),
            "credits": data.get("credits", []), "is_current": latest == statement.version}


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
