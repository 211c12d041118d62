"""Upload limits against hostile files made here: a real zip bomb (a workbook of a few hundred KB that
unpacks to hundreds of MB) refused before anything unpacks it, too many rows, and request bodies over
UPLOAD_MAX_BYTES answered 413 before they are read; the API's batches (file and JSON rows) under the
same limits."""
import io
import tracemalloc
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from portal.tabular import TableError, read_table

MB = 1024 * 1024


def zip_bomb(unpacked, *, name="xl/worksheets/sheet1.xml"):
    """A real zip bomb: an XLSX-shaped zip whose sheet is ``unpacked`` bytes (a multiple of 1 MiB) of
    "0", stored as one compressed MiB repeated (a full flush resets the compressor, so every MiB
    compresses to the same bytes): built in milliseconds, and Python's zipfile unpacks it."""
    import struct
    import zlib

    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = compressor.compress(b"0" * MB) + compressor.flush(zlib.Z_FULL_FLUSH)
    data = block * (unpacked // MB) + compressor.flush(zlib.Z_FINISH)
    crc = 0
    for _ in range(unpacked // MB):
        crc = zlib.crc32(b"0" * MB, crc)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
    head = buffer.getvalue()
    directory_at = struct.unpack("<I", head[-6:-2])[0]
    files, directory = head[:directory_at], head[directory_at:-22]
    encoded = name.encode()
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, crc, len(data), unpacked, len(encoded), 0)
    central = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0, crc, len(data), unpacked,
                          len(encoded), 0, 0, 0, 0, 0, len(files))
    body = files + local + encoded + data
    directory += central + encoded
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 2, 2, len(directory), len(body), 0)
    return body + directory + end


def real_workbook(rows):
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_a_zip_bomb_is_refused_unopened_naming_the_file():
    bomb = zip_bomb(300 * MB)
    assert len(bomb) < 1 * MB  # small compressed, 300 MB unpacked: a real one, zipfile unpacks it
    with zipfile.ZipFile(io.BytesIO(bomb)) as archive, archive.open("xl/worksheets/sheet1.xml") as sheet:
        assert archive.getinfo("xl/worksheets/sheet1.xml").file_size == 300 * MB
        assert sheet.read(MB) == b"0" * MB
    tracemalloc.start()
    with pytest.raises(TableError) as error:
        read_table(bomb, filename="uploads/readings.xlsx", required=["srv"])
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert "readings.xlsx" in str(error.value) and "zip bomb" in str(error.value)
    assert "unpacks to 314,572,8" in str(error.value)
    assert peak < 20 * MB  # nothing was unpacked


def test_a_part_compressed_too_well_is_refused(settings):
    settings.UPLOAD_MAX_UNPACKED_BYTES = 500 * MB
    bomb = zip_bomb(20 * MB)
    with pytest.raises(TableError) as error:
        read_table(bomb, filename="b.xlsx")
    assert "b.xlsx" in str(error.value) and "to 1" in str(error.value) and "sheet1.xml" in str(error.value)


def test_a_workbook_with_too_many_rows_is_refused_while_read(settings):
    settings.UPLOAD_MAX_ROWS = 5
    ok = read_table(real_workbook([["srv", "device_id"]] + [["4.1.1", f"d{n}"] for n in range(5)]), filename="a.xlsx")
    assert len(ok.rows) == 5 and ok.headers == ["srv", "device_id"]
    with pytest.raises(TableError) as error:
        read_table(real_workbook([["srv", "device_id"]] + [["4.1.1", f"d{n}"] for n in range(6)]), filename="a.xlsx")
    assert "a.xlsx" in str(error.value) and "more than 5 rows" in str(error.value)
    csv = ("srv,device_id\n" + "4.1.1,d\n" * 6).encode()
    with pytest.raises(TableError) as error:
        read_table(csv, filename="rows.csv")
    assert "more than 5 rows" in str(error.value)


def test_a_damaged_workbook_says_so():
    with pytest.raises(TableError) as error:
        read_table(b"PK\x03\x04 not really a zip", filename="x.xlsx")
    assert "not a readable XLSX workbook" in str(error.value)


class _Exploding(io.RawIOBase):
    """A request body that must not be read."""

    def readable(self):
        return True

    def readinto(self, buffer):
        raise AssertionError("the body was read")


def _raw_post(path, length, content_type="multipart/form-data; boundary=x"):
    from django.core.handlers.wsgi import WSGIHandler

    answer = {}

    def start_response(status, headers):
        answer["status"], answer["headers"] = status, dict(headers)

    environ = {"REQUEST_METHOD": "POST", "PATH_INFO": path, "SERVER_NAME": "localhost", "SERVER_PORT": "80",
               "wsgi.url_scheme": "http", "CONTENT_TYPE": content_type, "CONTENT_LENGTH": str(length),
               "wsgi.input": _Exploding(), "wsgi.errors": io.StringIO(), "HTTP_HOST": "localhost"}
    body = b"".join(WSGIHandler()(environ, start_response))
    return answer, body


@pytest.mark.django_db
def test_a_body_over_the_limit_is_refused_413_without_reading_it():
    answer, body = _raw_post("/api/v1/adapter/batches/", 10 * 1024 * MB)  # says 10 GiB
    assert answer["status"].startswith("413") and b"UPLOAD_MAX_BYTES" in body
    assert answer["headers"]["Content-Type"] == "application/problem+json"
    page, body = _raw_post("/inventory/devices/import/", 10 * 1024 * MB)
    assert page["status"].startswith("413") and b"largest accepted" in body
    # a JSON body (read into memory whole) has the lower limit of a body that is not a file
    json_answer, body = _raw_post("/api/v1/adapter/batches/", 11 * MB, content_type="application/json")
    assert json_answer["status"].startswith("413") and b"send a large batch as a file" in body


@pytest.mark.django_db
def test_file_bytes_over_the_limit_are_stopped_as_they_stream(supplier_a, api_for, settings):
    from adapter.models import Batch

    settings.UPLOAD_MAX_BYTES = 10_000  # the body (20 kB) is under the Content-Length allowance
    rows = b"srv,device_id\n" + b"4.1.1,00db1234567890a0\n" * 900
    answer = api_for(supplier_a).post("/api/v1/adapter/batches/",
                                      {"file": SimpleUploadedFile("big.csv", rows, "text/csv")}, format="multipart")
    assert answer.status_code == 413 and "10,000" in answer.json()["detail"]
    assert not Batch.objects.exists()


@pytest.mark.django_db
def test_api_batches_meet_the_same_limits(supplier_a, api_for, settings):
    from adapter.models import Batch

    api = api_for(supplier_a)
    bomb = zip_bomb(300 * MB)
    answer = api.post("/api/v1/adapter/batches/", {"file": SimpleUploadedFile("bomb.xlsx", bomb)}, format="multipart")
    assert answer.status_code == 400 and "bomb.xlsx" in answer.json()["errors"]["file"][0]
    settings.UPLOAD_MAX_ROWS = 3
    rows = [{"srv": "4.1.1", "device_id": "00db1234567890a0", "params": {}}] * 4
    answer = api.post("/api/v1/adapter/batches/", {"rows": rows}, format="json")
    assert answer.status_code == 400 and "at most 3" in answer.json()["errors"]["rows"][0]
    settings.UPLOAD_MAX_BYTES = 2048
    big = b"srv,device_id\n" + b"4.1.1,00db1234567890a0\n" * 200
    answer = api.post("/api/v1/adapter/batches/", {"file": SimpleUploadedFile("rows.csv", big)}, format="multipart")
    assert answer.status_code in (400, 413)
    assert not Batch.objects.exists()
