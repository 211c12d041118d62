"""Reading uploads and writing exports (portal.tabular)."""
import pytest

from portal.tabular import TableError, export_bytes, read_table

COLS = ("reference", "title")


def test_reads_csv_with_bom_semicolons_and_latin1():
    table = read_table("\ufeffreference;title\nSDAG_5.04;Café\n".encode(), filename="a.csv", required=COLS)
    assert table.rows == [(2, {"reference": "SDAG_5.04", "title": "Café"})]
    table = read_table("reference,title\nX,Caf\xe9\n".encode("latin-1"), filename="a.csv", required=COLS)
    assert table.rows[0][1]["title"] == "Café" and table.encoding == "cp1252"


def test_reads_xlsx():
    data = export_bytes(["reference", "title"], [{"reference": "SDAG_1.01", "title": "x"}], "xlsx")
    table = read_table(data, filename="a.xlsx", required=COLS)
    assert table.rows == [(2, {"reference": "SDAG_1.01", "title": "x"})]


@pytest.mark.parametrize("data,message", [
    (b"", "empty"),
    (b"reference,title\n", "no data rows"),
    (b"reference\nx\n", "Missing column: title"),
    (b"\x00\x01\x02binary", "binary"),
    (b"reference,title\nA,B,C\n", "Row 2 has 3 cells"),
])
def test_bad_files_get_a_clear_message(data, message):
    with pytest.raises(TableError, match=message):
        read_table(data, filename="a.csv", required=COLS)


def test_size_limit(settings):
    settings.UPLOAD_MAX_BYTES = 10
    with pytest.raises(TableError, match="largest accepted is 10 bytes"):
        read_table(b"reference,title\nA,B\n", filename="a.csv", required=COLS)


def test_duplicate_rows_are_marked():
    table = read_table(b"reference,title\nA,B\nC,D\nA,B\n", filename="a.csv", required=COLS)
    assert table.duplicates == {4: 2}


def test_exports_neutralise_formulas():
    data = export_bytes(["a", "b"], [{"a": "=HYPERLINK(\"x\")", "b": -5}, {"a": "@SUM(1)", "b": "+1"}], "csv")
    text = data.decode("utf-8-sig")
    assert "'=HYPERLINK" in text and "'@SUM" in text and "'+1" in text and ",-5" in text
