"""The import pattern every register uses: preview every row, commit only a clean file, in one transaction.

An importer is a function ``run(data, *, filename, commit, actor) -> Preview``. It parses the file
with portal.tabular.read_table, checks every row and, only when ``commit`` is true and no row has an
error, writes all rows inside one transaction. The web preview page and the ``import_*`` management
commands both call it, so they cannot disagree.
"""
import sys
from dataclasses import dataclass, field

from django.core.management.base import BaseCommand, CommandError


@dataclass
class RowResult:
    row: int  # row number as in the file (header is row 1)
    key: str  # the row's natural key, e.g. the action reference or the device id
    error: str = ""  # empty when the row is fine; otherwise names the field
    change: str = ""  # "create", "update", "unchanged" (for the preview)

    @property
    def ok(self):
        return not self.error


@dataclass
class Preview:
    results: list = field(default_factory=list)
    file_error: str = ""
    committed: bool = False

    @property
    def clean(self):
        return not self.file_error and bool(self.results) and all(r.ok for r in self.results)

    @property
    def error_count(self):
        return sum(1 for r in self.results if not r.ok)

    def counts(self):
        counts = {}
        for result in self.results:
            label = "error" if result.error else (result.change or "ok")
            counts[label] = counts.get(label, 0) + 1
        return counts


class ImportCommand(BaseCommand):
    """``manage.py import_x FILE [--commit]``: one line per row (row number, key, ok or the error);
    exit status 0 only when the file is clean. Subclasses set ``importer`` (dotted path or function)."""

    importer = None

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--commit", action="store_true", help="write the rows (refused while any row has an error)")
        parser.add_argument("--actor", help="username recorded in the audit trail")

    def handle(self, *args, file, commit=False, actor=None, **options):
        from django.utils.module_loading import import_string

        from portal.models import User

        user = None
        if actor:
            user = User.objects.filter(username=actor).first()
            if user is None:
                raise CommandError(f"--actor: no user named {actor!r}")
        try:
            with open(file, "rb") as handle:
                data = handle.read()
        except OSError as exc:
            raise CommandError(f"cannot read {file}: {exc.strerror}") from None
        importer = import_string(self.importer) if isinstance(self.importer, str) else self.importer
        preview = importer(data, filename=file, commit=commit, actor=user)
        if preview.file_error:
            self.stdout.write(f"file: {preview.file_error}")
        for result in preview.results:
            self.stdout.write(f"{result.row}\t{result.key}\t{'ok' if result.ok else result.error}")
        if preview.clean:
            self.stdout.write(f"{len(preview.results)} rows ok; " + ("written" if preview.committed else
                              "nothing written (add --commit to write)"))
            return
        if commit:
            self.stdout.write("nothing written: fix the rows above and run again")
        sys.exit(1)
