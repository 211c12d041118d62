"""Retention of facts by month (PostgreSQL): a month's partition out to a gzip CSV file, and back.

Archiving writes the partition with COPY ... TO STDOUT (CSV with a header of column names) into
``<table>_YYYY_MM.csv.gz`` under the archive folder, then ``<file>.sha256`` in sha256sum's format
(so ``sha256sum -c`` checks it too), then detaches and drops the partition; restoring checks both
the recorded and the written checksum before anything is read, COPYs the file into a fresh table
of the partition's shape, builds its indexes and attaches it (slas.partitions.swap). The caller
(slas.services) holds the transaction and records the archive (slas.models.FactArchive).
"""
import csv
import datetime as dt
import gzip
import hashlib
import io
import os
from pathlib import Path

from django.db import connection
from psycopg import sql

from slas import partitions
from slas.sqltext import execute, names


def file_for(folder: str | os.PathLike[str], table: str, month: dt.date) -> Path:
    return Path(folder) / f"{partitions.partition_name(table, month)}.csv.gz"


def checksum_file(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def written_checksum(path: Path) -> str:
    """The checksum in the file beside the archive ('' when it is missing or unreadable)."""
    try:
        return checksum_file(path).read_text().split()[0]
    except (OSError, IndexError):
        return ""


def write(table: str, month: dt.date, folder) -> tuple[Path, int, str]:
    """The month's partition of ``table`` into its gzip CSV file and checksum file: (path, rows,
    sha256). Written to a temporary name and renamed, so a file under the final name is whole."""
    path = file_for(folder, table, month)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    query = sql.SQL("COPY (SELECT * FROM {} ORDER BY id) TO STDOUT WITH (FORMAT csv, HEADER true)").format(
        sql.Identifier(partitions.partition_name(table, month)))
    with connection.cursor() as cursor, open(partial, "wb") as raw:
        # mtime=0: the same rows give the same bytes, hence the same checksum.
        with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as packed, cursor.copy(
                query.as_string(cursor.connection)) as stream:
            for data in stream:
                packed.write(data)
        rows = cursor.rowcount
        raw.flush()
        os.fsync(raw.fileno())
    os.replace(partial, path)
    digest = sha256_of(path)
    checksum_file(path).write_text(f"{digest}  {path.name}\n")
    return path, rows, digest


def drop(table: str, month: dt.date):
    """Detach the month's partition and drop it (in the caller's transaction)."""
    name = sql.Identifier(partitions.partition_name(table, month))
    with connection.cursor() as cursor:
        execute(cursor, sql.SQL("ALTER TABLE {} DETACH PARTITION {}").format(sql.Identifier(table), name))
        execute(cursor, sql.SQL("DROP TABLE {}").format(name))


def read_back(table: str, month: dt.date, path: Path) -> int:
    """The archive file into a fresh table of the partition's shape, indexed and attached as the
    month's partition (in the caller's transaction). The rows read."""
    name = f"{partitions.partition_name(table, month)}_new"
    with connection.cursor() as cursor, gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
        partitions.standalone(cursor, table, name, month)
        header = next(csv.reader(io.StringIO(handle.readline())))
        query = sql.SQL("COPY {} ({}) FROM STDIN WITH (FORMAT csv)").format(sql.Identifier(name), names(header))
        with cursor.copy(query.as_string(cursor.connection)) as stream:
            while chunk := handle.read(1 << 20):
                stream.write(chunk)
        rows = cursor.rowcount
        partitions.build_indexes(cursor, table, name)
        partitions.swap(cursor, table, name, month)
    return rows
