"""What an incident attachment may be: checked by its content, never by its name alone.

The first bytes decide the type (PDF, PNG, JPEG, GIF, an Office Open XML workbook or document,
a ZIP of logs, or plain text such as CSV, logs, XML and JSON); the file's extension must be one
that type is saved with, so a renamed executable or an HTML page called "log.txt" with script in
it is refused. Nothing is ever served back inline: downloads go out as attachments.
"""
import io
import zipfile

from django.core.exceptions import ValidationError

# type -> extensions it may carry
TYPES = {
    "application/pdf": (".pdf",),
    "image/png": (".png",),
    "image/jpeg": (".jpg", ".jpeg"),
    "image/gif": (".gif",),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": (".xlsx",),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": (".docx",),
    "application/zip": (".zip",),
    "text/plain": (".txt", ".log", ".csv", ".xml", ".json"),
}
_TEXT_SNIFF = 64 * 1024
# Markup that browsers run: a "text" file that starts like a web page is refused.
_ACTIVE_TEXT = (b"<!doctype html", b"<html", b"<script", b"<svg", b"<?xml-stylesheet")


def _office_or_zip(content):
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = set(archive.namelist())
    except zipfile.BadZipFile:
        return None
    if "[Content_Types].xml" in names:
        if any(name.startswith("xl/") for name in names):
            return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        if any(name.startswith("word/") for name in names):
            return "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        return None  # another Office format (with macros, slides): not accepted
    return "application/zip"


def _text(content):
    head = content[:_TEXT_SNIFF]
    if b"\x00" in head:
        return None
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the sniff boundary is still text.
        if exc.start < len(head) - 4:
            try:
                head.decode("cp1252")
            except UnicodeDecodeError:
                return None
    lowered = head.lstrip().lower()
    if lowered.startswith(_ACTIVE_TEXT) or b"<script" in lowered:
        return None
    return "text/plain"


def sniff(content):
    """The type of ``content`` as its bytes show it, or None when it is none we accept."""
    if content.startswith(b"%PDF-"):
        return "application/pdf"
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if content.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if content.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if content.startswith(b"PK\x03\x04"):
        return _office_or_zip(content)
    return _text(content)


def check(*, filename, content, max_bytes):
    """The content type of an acceptable attachment, or ValidationError on ``file`` saying why."""
    name = (filename or "").strip()
    if not name:
        raise ValidationError({"file": "the file has no name"})
    if not content:
        raise ValidationError({"file": f"{name} is empty"})
    if len(content) > max_bytes:
        raise ValidationError({"file": f"{name} is {len(content):,} bytes; "
                                       f"the largest accepted is {max_bytes:,} bytes"})
    found = sniff(content)
    accepted = ", ".join(sorted({ext for exts in TYPES.values() for ext in exts}))
    if found is None:
        raise ValidationError({"file": f"{name} is not a file type the service desk accepts ({accepted})"})
    extension = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension not in TYPES[found]:
        raise ValidationError({"file": f"{name} holds {found} content, which is saved as "
                                       f"{' or '.join(TYPES[found])}, not {extension or 'a file without extension'}"})
    return found


def safe_name(filename):
    """The file's own name without any path, with only plain characters (stored and offered back)."""
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(c if c.isalnum() or c in "._-" else "_" for c in base).strip("._") or "attachment"
    return cleaned[-150:]
