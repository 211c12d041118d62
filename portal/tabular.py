"""Uploaded tables (CSV, XLSX) in, exports out: one way for every import and export of the site.

Reading (Python's csv module for CSV, openpyxl read-only for XLSX, after the zip-bomb check): size and row
limits, empty and header-only files, binary data,
UTF-8 with or without BOM, Windows-1252/Latin-1, comma/semicolon/tab separators, missing
columns and exact duplicate rows all get a message that says what is wrong and where.
Writing: streamed (CSV a chunk of rows at a time, XLSX through openpyxl's write-only mode into a temporary
file); cells that a spreadsheet would run as a formula (=, +, -, @, tab, CR) are neutralised.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import IO, Any

from django.conf import settings
from django.http import FileResponse, Http404, StreamingHttpResponse

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
XLSX_MAGIC = b"PK\x03\x04"


class TableError(ValueError):
    """The file as a whole cannot be read; the message says why."""


@dataclass
class Table:
    headers: list[str]
    rows: list[tuple[int, dict[str, str]]]  # [(row number as in the file, {column: text})]; the header is row 1
    duplicates: dict[int, int] = field(default_factory=dict)  # row number -> earlier identical row number
    encoding: str = "utf-8"


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _decode(data: bytes) -> tuple[str, str]:
    if b"\x00" in data[:4096]:
        raise TableError("The file holds binary data: upload a CSV text file or an XLSX workbook.")
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="strict"), "utf-8-sig"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        # Excel on Windows saves CSV as Windows-1252, a superset of Latin-1's printable range.
        return data.decode("cp1252", errors="replace"), "cp1252"


def _delimiter(first_line: str) -> str:
    try:
        return csv.Sniffer().sniff(first_line, delimiters=",;\t").delimiter
    except csv.Error:
        return ","


def _shown(filename: str | None) -> str:
    return f"{filename.rsplit('/', 1)[-1]}: " if filename else ""


def check_xlsx(data: bytes, *, filename: str | None = "") -> None:
    """Refuse a workbook that would unpack to more than UPLOAD_MAX_UNPACKED_BYTES, or whose members are
    compressed more than UPLOAD_MAX_RATIO to one (a zip bomb), before anything decompresses it.

    The sizes are the ones the zip's directory declares; they are enough because Python's zipfile (which
    openpyxl reads through) never gives more bytes of a member than its declared size."""
    import zipfile

    shown = _shown(filename)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise TableError(f"{shown}the file is not a readable XLSX workbook (not a zip archive).") from None
    if len(members) > 10_000:
        raise TableError(f"{shown}the workbook holds {len(members):,} parts; refused as a zip bomb.")
    unpacked = sum(member.file_size for member in members)
    limit = settings.UPLOAD_MAX_UNPACKED_BYTES
    if unpacked > limit:
        raise TableError(f"{shown}the workbook unpacks to {unpacked:,} bytes; the largest accepted is {limit:,} "
                         "bytes (UPLOAD_MAX_UNPACKED_BYTES). Refused unopened: it may be a zip bomb.")
    for member in members:
        # Small parts (styles, a short sheet) compress well and harmlessly: judge the ratio of big ones.
        ratio = member.file_size // max(1, member.compress_size)
        if member.file_size > 1024 * 1024 and ratio > settings.UPLOAD_MAX_RATIO:
            raise TableError(f"{shown}the part {member.filename} is compressed {ratio:,} to 1 (at most "
                             f"{settings.UPLOAD_MAX_RATIO} to 1 is accepted, UPLOAD_MAX_RATIO). Refused unopened: "
                             "it may be a zip bomb.")


def _too_many_rows(filename: str | None) -> TableError:
    return TableError(f"{_shown(filename)}the file has more than {settings.UPLOAD_MAX_ROWS:,} rows (UPLOAD_MAX_ROWS): "
                      "split it into smaller files.")


def _xlsx_rows(data: bytes, filename: str | None) -> list[list[str]]:
    """The first sheet's rows as text, read row by row (openpyxl read-only), at most UPLOAD_MAX_ROWS + 1."""
    import openpyxl

    check_xlsx(data, filename=filename)
    limit = settings.UPLOAD_MAX_ROWS + 1  # the header row
    rows: list[list[str]] = []
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            sheet = workbook.worksheets[0]
            for row in sheet.iter_rows(values_only=True):
                if len(rows) >= limit:
                    raise _too_many_rows(filename)
                rows.append([_text(v) for v in row])
        finally:
            workbook.close()
    except TableError:
        raise
    except Exception as exc:  # openpyxl raises many types for a damaged workbook
        raise TableError(f"{_shown(filename)}the file is not a readable XLSX workbook "
                         f"({exc.__class__.__name__}).") from None
    while rows and not any(rows[-1]):
        rows.pop()  # read-only sheets report trailing empty rows
    return rows


def check_upload(data: bytes, *, filename: str | None = "", max_bytes: int | None = None) -> None:
    """The checks every uploaded table passes before it is stored or parsed: its size and, for a
    workbook, what it would unpack to. Raises TableError naming the file."""
    limit = max_bytes or settings.UPLOAD_MAX_BYTES
    if len(data) > limit:
        raise TableError(f"{_shown(filename)}the file is {len(data):,} bytes; the largest accepted is {limit:,} bytes.")
    if data.startswith(XLSX_MAGIC) or (filename or "").lower().endswith(".xlsx"):
        check_xlsx(data, filename=filename)


def read_table(data: bytes, *, filename: str | None = "", required: Sequence[str] = (), optional: Sequence[str] = (),
               max_bytes: int | None = None) -> Table:
    """Parse ``data`` (bytes) into a Table, or raise TableError with a clear message."""
    limit = max_bytes or settings.UPLOAD_MAX_BYTES
    if len(data) > limit:
        raise TableError(f"The file is {len(data):,} bytes; the largest accepted is {limit:,} bytes.")
    if not data.strip():
        raise TableError("The file is empty.")
    name = (filename or "").lower()
    encoding = "xlsx"
    if data.startswith(XLSX_MAGIC) or name.endswith(".xlsx"):
        sheet_rows = _xlsx_rows(data, filename)
        headers = [h.lower() for h in (sheet_rows[0] if sheet_rows else [])]
        raw_rows = sheet_rows[1:]
    elif name.endswith((".xls", ".pdf", ".zip", ".json")):
        raise TableError("Upload a CSV (.csv) or XLSX (.xlsx) file.")
    else:
        text, encoding = _decode(data)
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        first_line = text.split("\n", 1)[0]
        reader = csv.reader(io.StringIO(text), delimiter=_delimiter(first_line))
        lines: list[list[str]] = []
        try:
            for line in reader:
                if len(lines) > settings.UPLOAD_MAX_ROWS:
                    raise _too_many_rows(filename)
                lines.append(line)
        except csv.Error as exc:
            raise TableError(f"The CSV cannot be read: {exc}.") from None
        if not lines:
            raise TableError("The file is empty.")
        headers = [h.strip().lower() for h in lines[0]]
        raw_rows = [[v.strip() for v in line] for line in lines[1:]]
    headers = [h.lstrip("\ufeff") for h in headers]
    missing = [column for column in required if column not in headers]
    if missing:
        raise TableError(
            f"Missing column{'s' if len(missing) > 1 else ''}: {', '.join(missing)}. "
            f"Expected columns: {', '.join([*required, *optional])}; "
            f"found: {', '.join(h for h in headers if h) or 'none'}."
        )
    rows: list[tuple[int, dict[str, str]]] = []
    seen: dict[tuple[tuple[str, str], ...], int] = {}  # a row's cells -> the first row holding them
    duplicates: dict[int, int] = {}
    for index, values in enumerate(raw_rows, start=2):
        if not any(v for v in values):
            continue  # blank lines are not rows
        if len(values) > len(headers) and any(values[len(headers):]):
            raise TableError(f"Row {index} has {len(values)} cells but the header has {len(headers)} columns.")
        row = {header: (values[i] if i < len(values) else "") for i, header in enumerate(headers) if header}
        key = tuple(sorted(row.items()))
        if key in seen:
            duplicates[index] = seen[key]
        else:
            seen[key] = index
        rows.append((index, row))
    if not rows:
        raise TableError("The file has a header row but no data rows.")
    return Table(headers=headers, rows=rows, duplicates=duplicates, encoding=encoding)


def neutralise(value: object) -> object:
    """Make a cell safe to open in a spreadsheet: text that starts like a formula gets a leading '."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, (int, Decimal, float)) and not isinstance(value, bool):
        return value
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return neutralise(str(value))


CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
ROWS_PER_CHUNK = 1000


def _values(headers: Sequence[str], row: Mapping[str, Any] | Sequence[Any]) -> list[Any]:
    return [row.get(h) for h in headers] if isinstance(row, Mapping) else list(row)


def csv_chunks(headers: Sequence[str], rows: Iterable[Mapping[str, Any] | Sequence[Any]],
               rows_per_chunk: int = ROWS_PER_CHUNK) -> Iterator[bytes]:
    """The rows as CSV (UTF-8 with BOM, so Excel reads it right), a chunk of rows at a time: a download
    never holds the whole file, only ``rows_per_chunk`` rows of it."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    out.write("\ufeff")
    writer.writerow(list(headers))
    count = 0
    for row in rows:
        writer.writerow([_cell(v) for v in _values(headers, row)])
        count += 1
        if count % rows_per_chunk == 0:
            yield out.getvalue().encode("utf-8")
            out.seek(0)
            out.truncate()
    yield out.getvalue().encode("utf-8")


def xlsx_file(headers: Sequence[str], rows: Iterable[Mapping[str, Any] | Sequence[Any]],
              title: str = "export") -> IO[bytes]:
    """The rows as an XLSX workbook in a temporary file (deleted when closed), at the start: openpyxl's
    write-only mode writes each row out as it is appended, so memory holds a row, not the sheet."""
    import tempfile

    import openpyxl

    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31] or "export")
    sheet.append(list(headers))
    for row in rows:
        sheet.append([_cell(v) for v in _values(headers, row)])
    handle = tempfile.TemporaryFile(suffix=".xlsx")
    try:
        workbook.save(handle)
    except BaseException:
        handle.close()
        raise
    handle.seek(0)
    return handle


def export_bytes(headers: Sequence[str], rows: Iterable[Mapping[str, Any] | Sequence[Any]], fmt: str = "csv",
                 title: str = "export") -> bytes:
    """CSV or XLSX bytes, whole (for a file kept or mailed; a download streams: export_response)."""
    if fmt == "xlsx":
        with xlsx_file(headers, rows, title) as handle:
            return handle.read()
    if fmt != "csv":
        raise ValueError(f"unknown export format {fmt!r}")
    return b"".join(csv_chunks(headers, rows))


def _in_context(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """Run the generator in the context of the view that made it: the server reads it after the view
    returned, and its queries must still go where the view's do (portal.dbrouter's replica reads)."""
    import contextvars

    context = contextvars.copy_context()
    while True:
        try:
            yield context.run(next, chunks)
        except StopIteration:
            return


def export_format(value: str | None, offered: Sequence[str] = ("csv", "xlsx")) -> str | None:
    """The export format a request asks for: None when it asks for none (the page itself), the
    format when it is one of ``offered``, else 404 (a link to report.docx or ?export=pdf names a
    download that does not exist; answering with a CSV instead, or the page, would hide that)."""
    if not value:
        return None
    if value not in offered:
        raise Http404(f"no {value} export here: {' or '.join(offered)}")
    return value


def export_response(filename: str, headers: Sequence[str], rows: Iterable[Mapping[str, Any] | Sequence[Any]],
                    fmt: str = "csv", title: str = "export") -> StreamingHttpResponse:
    """An HTTP download of the rows in the chosen format (``filename`` without extension), streamed: CSV
    a chunk of rows at a time as the server sends it, XLSX written row by row to a temporary file that
    is then sent in blocks. Give ``rows`` as an iterator (a queryset's ``.iterator(chunk_size=...)``),
    so the rows are never all in memory either."""
    fmt = export_format(fmt, tuple(CONTENT_TYPES)) or "csv"
    if fmt == "xlsx":
        return FileResponse(xlsx_file(headers, rows, title), as_attachment=True, filename=f"{filename}.xlsx",
                            content_type=CONTENT_TYPES["xlsx"])
    response = StreamingHttpResponse(_in_context(csv_chunks(headers, rows)), content_type=CONTENT_TYPES["csv"])
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    return response


def read_headers(data: bytes, *, filename: str | None = "") -> list[str]:
    """The header row of an uploaded table (CSV or XLSX), lower-cased, without reading its rows: an
    upload's columns can be checked at once, before the file is stored for its rows to be read later.
    Raises TableError as read_table does for a file that cannot be read."""
    name = (filename or "").lower()
    if data.startswith(XLSX_MAGIC) or name.endswith(".xlsx"):
        import openpyxl

        check_xlsx(data, filename=filename)
        try:
            workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            try:
                first = next(workbook.worksheets[0].iter_rows(values_only=True, max_row=1), ())
            finally:
                workbook.close()
        except Exception as exc:  # openpyxl raises many types for a damaged workbook
            raise TableError(f"{_shown(filename)}the file is not a readable XLSX workbook "
                             f"({exc.__class__.__name__}).") from None
        headers = [_text(v).lower() for v in first]
    elif name.endswith((".xls", ".pdf", ".zip", ".json")):
        raise TableError("Upload a CSV (.csv) or XLSX (.xlsx) file.")
    else:
        # The first line only (a header is short: at most 64 kB of it is read).
        head = data[:65536].replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n", 1)[0]
        text, _encoding = _decode(head)
        try:
            first_row = next(csv.reader([text], delimiter=_delimiter(text)), [])
        except csv.Error as exc:
            raise TableError(f"The CSV cannot be read: {exc}.") from None
        headers = [h.strip().lower() for h in first_row]
    return [h.lstrip("\ufeff") for h in headers]
