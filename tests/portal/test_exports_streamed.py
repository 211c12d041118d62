"""Downloads are streamed: CSV a chunk of rows at a time, pulled from the rows as the server sends it;
XLSX written row by row (openpyxl write-only) to a temporary file sent in blocks. Checked for content
as well: headers, values, formula cells neutralised, a workbook that opens."""
import csv
import io

import openpyxl
import pytest
from django.http import FileResponse, StreamingHttpResponse
from django.urls import reverse

from portal.tabular import ROWS_PER_CHUNK, export_response

HEADERS = ["reference", "count", "note"]


class Counted:
    """Rows made on demand, counting how many were taken."""

    def __init__(self, n):
        self.n, self.taken = n, 0

    def __iter__(self):
        for i in range(self.n):
            self.taken += 1
            yield {"reference": f"R{i}", "count": i, "note": "=cmd()" if i == 1 else f"note {i}"}


def test_csv_is_streamed_a_chunk_of_rows_at_a_time():
    rows = Counted(2 * ROWS_PER_CHUNK + 5)
    response = export_response("things", HEADERS, iter(rows), "csv")
    assert isinstance(response, StreamingHttpResponse) and response.streaming
    assert response["Content-Disposition"] == 'attachment; filename="things.csv"'
    assert rows.taken == 0  # nothing built before the server asks
    chunks = iter(response.streaming_content)
    first = next(chunks)
    assert rows.taken == ROWS_PER_CHUNK  # one chunk's rows, not the file's
    body = first + b"".join(chunks)
    assert rows.taken == rows.n
    text = body.decode("utf-8")
    assert text.startswith("\ufeff")
    lines = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert lines[0] == HEADERS and len(lines) == rows.n + 1
    assert lines[2] == ["R1", "1", "'=cmd()"] and lines[-1][0] == f"R{rows.n - 1}"


@pytest.mark.django_db  # closing a response finishes the request, which tidies database connections
def test_xlsx_is_a_file_response_of_a_write_only_workbook():
    rows = Counted(3000)
    response = export_response("things", HEADERS, iter(rows), "xlsx", title="Things")
    assert isinstance(response, FileResponse) and response.streaming
    assert 'filename="things.xlsx"' in response["Content-Disposition"]
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    chunks = list(response.streaming_content)
    assert len(chunks) > 1  # sent in blocks from the file
    book = openpyxl.load_workbook(io.BytesIO(b"".join(chunks)), read_only=True)
    sheet = book["Things"]
    values = list(sheet.iter_rows(values_only=True))
    assert list(values[0]) == HEADERS and len(values) == 3001
    assert values[2] == ("R1", 1, "'=cmd()")
    handle = response.file_to_stream
    response.close()
    assert handle.closed  # a TemporaryFile: closed is deleted


@pytest.mark.django_db
def test_list_exports_stream(dcc_operator, client_for):
    client = client_for(dcc_operator)
    for fmt in ("csv", "xlsx"):
        response = client.get(reverse("inventory:device_list"), {"export": fmt})
        assert response.status_code == 200 and response.streaming, fmt
        body = response.getvalue()
        assert body.startswith(b"\xef\xbb\xbfdevice_id,") if fmt == "csv" else body[:2] == b"PK"
    actions = client.get(reverse("workshops:action_export"), {"format": "csv"})
    assert actions.streaming and actions.getvalue().decode("utf-8-sig").startswith("reference,")
