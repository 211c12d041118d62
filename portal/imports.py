"""The import pattern every register uses: preview every row, commit only a clean file, in one transaction.

An importer is a function ``run(data, *, filename, commit, actor) -> Preview``. It parses the file
with portal.tabular.read_table, checks every row and, only when ``commit`` is true and no row has an
error, writes all rows inside one transaction. The web preview page and the ``import_*`` management
commands both call it, so they cannot disagree.
"""
from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeAlias

from django.core.management.base import BaseCommand, CommandError, CommandParser

from portal.tabular import Table, TableError, read_table

if TYPE_CHECKING:
    from django import forms
    from django.core.exceptions import ValidationError
    from django.http import HttpRequest, HttpResponse


def row_error(exc: ValidationError) -> str:
    """A row's errors as its preview line shows them, each after the field it names
    ("hub_id: unknown hub ...; region: ...")."""
    if hasattr(exc, "message_dict"):
        return "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in exc.message_dict.items())
    return " ".join(exc.messages)


@dataclass
class RowResult:
    row: int  # row number as in the file (header is row 1)
    key: str  # the row's natural key, e.g. the action reference or the device id
    error: str = ""  # empty when the row is fine; otherwise names the field
    change: str = ""  # "create", "update", "unchanged" (for the preview)

    @property
    def ok(self) -> bool:
        return not self.error


@dataclass
class Preview:
    results: list[RowResult] = field(default_factory=list)
    file_error: str = ""
    committed: bool = False

    @property
    def clean(self) -> bool:
        return not self.file_error and bool(self.results) and all(r.ok for r in self.results)

    @property
    def error_count(self) -> int:
        return sum(1 for r in self.results if not r.ok)

    def read(self, data: bytes, *, filename: str = "", required: Sequence[str] = (),
             optional: Sequence[str] = ()) -> Table | None:
        """The file's table (portal.tabular.read_table); a file that cannot be read is the
        preview's ``file_error``, and None."""
        try:
            return read_table(data, filename=filename, required=required, optional=optional)
        except TableError as exc:
            self.file_error = str(exc)
            return None

    def fresh_rows(self, table: Table,
                   key: Callable[[dict[str, str]], str]) -> Iterator[tuple[int, str, dict[str, str]]]:
        """The table's rows with their numbers and keys, but for a row the same as an earlier one:
        that one is reported so and skipped."""
        for number, row in table.rows:
            name = key(row)
            if number in table.duplicates:
                self.results.append(RowResult(number, name, f"the same as row {table.duplicates[number]}"))
                continue
            yield number, name, row

    def refuse(self, number: int, key: str, exc: ValidationError) -> None:
        """Row ``number`` is refused for the errors of ``exc`` (row_error)."""
        self.results.append(RowResult(number, key, row_error(exc)))

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for result in self.results:
            label = "error" if result.error else (result.change or "ok")
            counts[label] = counts.get(label, 0) + 1
        return counts


# ``run(data, *, filename, commit, actor) -> Preview`` (the module's docstring).
Importer: TypeAlias = Callable[..., Preview]


def read_for_preview(data: bytes, **options: Any) -> tuple[Preview, Table | None]:
    """An importer's first step: a new preview and the file's table (``read_table(data, **options)``:
    filename, required and optional columns). A file that cannot be read gives no table and says
    why in ``preview.file_error``; the importer then answers with the preview at once."""
    preview = Preview()
    return preview, preview.read(data, **options)


class ImportCommand(BaseCommand):
    """``manage.py import_x FILE [--commit]``: one line per row (row number, key, ok or the error);
    exit status 0 only when the file is clean. Subclasses set ``importer`` (dotted path or function)."""

    importer: str | Importer  # set by every subclass

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file")
        parser.add_argument("--commit", action="store_true", help="write the rows (refused while any row has an error)")
        parser.add_argument("--actor", help="username recorded in the audit trail")

    def handle(self, *args: Any, file: str, commit: bool = False, actor: str | None = None, **options: Any) -> None:
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


def import_page(request: HttpRequest, *, run: Importer, form_class: type[forms.Form], template: str, key: str,
                success_url: str, done: Callable[[Preview], str] | None = None,
                context: Mapping[str, Any] | None = None) -> HttpResponse:
    """The upload -> preview -> commit page of every register's import.

    A clean preview's file is kept in default storage under a random token remembered in the
    uploader's session, so "Commit" writes exactly the file that was previewed, without uploading
    it again, and nobody else can commit it. ``run`` is the register's importer; ``done(preview)``
    the success message (default: the counts). The template gets form, preview and token (set
    only when the preview is clean: the commit button posts it back)."""
    import uuid

    from django.contrib import messages
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage
    from django.shortcuts import redirect, render

    session_key = f"imports:{key}"
    stored = request.session.get(session_key, {})
    committing = request.method == "POST" and bool(request.POST.get("token"))
    # bound only to an upload: a commit's POST carries no file, and its form should not show an error
    form = form_class(request.POST, request.FILES) if request.method == "POST" and not committing else form_class()
    preview, token = None, None
    if committing:
        token = request.POST["token"]
        path = stored.get(token, {}).get("path", "")
        if not path or not default_storage.exists(path):
            messages.error(request, "That preview has expired: upload the file again.")
            return redirect(request.path)
        with default_storage.open(path, "rb") as handle:
            data = handle.read()
        preview = run(data, filename=stored[token]["filename"], commit=True, actor=request.user)
        if preview.committed:
            default_storage.delete(path)
            stored.pop(token)
            request.session[session_key] = stored
            messages.success(request, done(preview) if done else "Imported: " + ", ".join(
                f"{n} {k}" for k, n in sorted(preview.counts().items())))
            return redirect(success_url)
        messages.error(request, "Nothing was written: fix the rows with errors and upload again.")
        token = None
    elif request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        data = upload.read()
        preview = run(data, filename=upload.name, commit=False, actor=request.user)
        if preview.clean:
            token = uuid.uuid4().hex
            path = default_storage.save(f"imports/{key}/{token}", ContentFile(data))
            stored[token] = {"path": path, "filename": upload.name}
            request.session[session_key] = stored
    return render(request, template, {"form": form, "preview": preview, "token": token, **(context or {})})
