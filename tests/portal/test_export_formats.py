"""An export in a format the page does not offer answers 404 (it used to fall back to CSV, or to
the page itself, hiding a wrong link); the offered formats still download."""
import pytest
from django.http import Http404

from portal.tabular import export_format


def test_export_format_names_the_offered_formats_and_refuses_the_rest():
    assert export_format(None) is None and export_format("") is None
    assert export_format("xlsx") == "xlsx"
    assert export_format("pdf", ("pdf", "csv")) == "pdf"
    with pytest.raises(Http404, match="no docx export here: csv or xlsx"):
        export_format("docx")


@pytest.mark.django_db
@pytest.mark.parametrize("url", [
    "/inventory/devices/?export=pdf", "/inventory/models/?export=json", "/inventory/items/?export=docx",
    "/workshops/actions/export/?format=pdf", "/slas/report.docx",
])
def test_unknown_export_formats_answer_404(url, dcc_operator, client_for):
    assert client_for(dcc_operator).get(url).status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("url", [
    "/inventory/devices/?export=csv", "/inventory/models/?export=xlsx", "/inventory/items/?export=csv",
    "/workshops/actions/export/?format=xlsx", "/workshops/actions/export/", "/slas/report.csv",
])
def test_offered_export_formats_still_download(url, dcc_operator, client_for):
    response = client_for(dcc_operator).get(url)
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
