"""The pieces every importer shares (portal.imports): reading the file into the preview, the
rows but repeats, a refused row's message naming its fields."""
from django.core.exceptions import ValidationError

from portal.imports import Preview, row_error

COLS = ("reference", "title")


def test_a_file_that_cannot_be_read_is_the_previews_file_error():
    preview = Preview()
    assert preview.read(b"reference\nx\n", filename="a.csv", required=COLS) is None
    assert "Missing column: title" in preview.file_error and not preview.clean


def test_a_repeated_row_is_reported_and_skipped():
    preview = Preview()
    table = preview.read(b"reference,title\nA,x\nB,y\nA,x\n", filename="a.csv", required=COLS)
    rows = list(preview.fresh_rows(table, key=lambda row: row["reference"]))
    assert [(number, key) for number, key, _row in rows] == [(2, "A"), (3, "B")]
    assert [(r.row, r.key, r.error) for r in preview.results] == [(4, "A", "the same as row 2")]


def test_a_refused_row_names_each_field():
    preview = Preview()
    preview.refuse(2, "A", ValidationError({"title": ["is empty"], "reference": ["too long", "not unique"]}))
    assert preview.results[0].error == "title: is empty; reference: too long not unique"
    assert row_error(ValidationError("no field")) == "no field"
