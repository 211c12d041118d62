"""Import and export of the actions log (CSV or XLSX), on portal.tabular and portal.imports.

Columns: reference,title,text,owners,due,status,updates. ``owners`` is ``;``-separated usernames
or initials (``ALL`` for every SDAG member); ``due`` is DD.MM.YY, DD/MM/YYYY, ISO or ``tbc``;
``updates`` is one ``DD.MM.YY: text`` per line. Every row is checked first; only a clean file is
written, in one transaction, and re-importing the same file changes nothing.
"""
import re
from dataclasses import dataclass, field

from auditlog.context import set_actor
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count

from portal.imports import RowResult, read_for_preview
from portal.models import User
from workshops import services
from workshops.choices import ActionStatus
from workshops.models import Action, ActionUpdate, Meeting

COLUMNS = ["reference", "title", "text", "owners", "due", "status", "updates"]
REQUIRED = ["reference", "title", "owners", "due", "status"]
REFERENCE_RE = re.compile(r"^(?P<prefix>[A-Z][A-Z0-9]*)_(?P<meeting>\d+)\.(?P<seq>\d{2,})$")
UPDATE_RE = re.compile(r"^(?P<date>\d{1,4}[./-]\d{1,2}[./-]\d{1,4})\s*:\s*(?P<text>.+)$")
STATUS_WORDS = {
    **{value: value for value in ActionStatus.values},
    **{label.lower(): value for value, label in ActionStatus.choices},
    "closed to be agreed": ActionStatus.CLOSED_TO_BE_AGREED,
    "closed - to be agreed": ActionStatus.CLOSED_TO_BE_AGREED,
}


@dataclass
class ParsedRow:
    reference: str
    title: str
    text: str
    owners: list
    all_members: bool
    due: object
    status: str
    updates: list = field(default_factory=list)  # [(date, text)]
    meeting: Meeting | None = None


class People:
    """Owner look-up by username or initials, loaded once per file."""

    def __init__(self):
        users = list(User.objects.filter(is_active=True))
        self.by_username = {u.username.lower(): u for u in users}
        self.by_initials = {}
        for user in users:
            if user.initials:
                self.by_initials.setdefault(user.initials.upper(), []).append(user)

    def find(self, token):
        user = self.by_username.get(token.lower())
        if user:
            return user
        matches = self.by_initials.get(token.upper(), [])
        if len(matches) == 1:
            return matches[0]
        if matches:
            names = ", ".join(sorted(u.username for u in matches))
            raise ValidationError(f"owners: initials {token!r} match {len(matches)} people ({names}); use a username")
        raise ValidationError(f"owners: nobody has the username or initials {token!r}")


def parse_row(row, people):
    reference = row.get("reference", "").strip().upper()
    match = REFERENCE_RE.match(reference)
    if not match:
        raise ValidationError(f"reference: {reference or '(empty)'!r} is not like SDAG_5.04")
    title = row.get("title", "").strip()
    if not title:
        raise ValidationError("title: required")
    if len(title) > 200:
        raise ValidationError(f"title: {len(title)} characters; at most 200")
    owners, all_members = [], False
    for token in [t.strip() for t in row.get("owners", "").split(";") if t.strip()]:
        if token.upper() == "ALL":
            all_members = True
        else:
            owner = people.find(token)
            if owner not in owners:
                owners.append(owner)
    if not owners and not all_members:
        raise ValidationError("owners: at least one owner (username, initials or ALL)")
    try:
        due = services.parse_date_or_tbc(row.get("due", ""))
    except ValidationError as exc:
        raise ValidationError(exc.message_dict["due"][0]) from None
    status_text = re.sub(r"\s+", " ", row.get("status", "").strip().lower())
    status = STATUS_WORDS.get(status_text)
    if status is None:
        raise ValidationError(f"status: {row.get('status', '')!r} is not one of {', '.join(ActionStatus.values)}")
    updates = []
    for number, line in enumerate([ln.strip() for ln in row.get("updates", "").splitlines() if ln.strip()], 1):
        found = UPDATE_RE.match(line)
        if not found:
            raise ValidationError(f"updates: line {number} {line[:40]!r} is not 'DD.MM.YY: text'")
        try:
            date = services.parse_date_or_tbc(found["date"], field="updates")
        except ValidationError:
            raise ValidationError(f"updates: line {number} has no valid date ({found['date']!r})") from None
        updates.append((date, found["text"].strip()))
    meeting = Meeting.objects.filter(series__action_prefix=match["prefix"], number=int(match["meeting"])).first()
    return ParsedRow(reference, title, row.get("text", "").strip(), owners, all_members, due, status, updates,
                     meeting)


def _differences(action, parsed):
    changes = []
    if action.title != parsed.title:
        changes.append("title")
    if action.text != parsed.text:
        changes.append("text")
    if {o.pk for o in action.owners.all()} != {o.pk for o in parsed.owners} or \
            action.all_members != parsed.all_members:
        changes.append("owners")
    if action.due != parsed.due:
        changes.append("due")
    if action.status != parsed.status:
        changes.append("status")
    if _new_updates(action, parsed):
        changes.append("updates")
    return changes


def _new_updates(action, parsed):
    have = {(u.date, u.text) for u in action.updates.all() if not u.status_to}
    return [u for u in parsed.updates if u not in have]


def run(data, *, filename="", commit=False, actor=None):
    """Check every row; when ``commit`` and all rows are fine, write them in one transaction."""
    preview, table = read_for_preview(data, filename=filename, required=REQUIRED, optional=["text", "updates"])
    if table is None:
        return preview
    people = People()
    parsed_rows, seen = [], {}
    existing = {a.reference: a for a in Action.objects.prefetch_related("owners", "updates")}
    for number, row in table.rows:
        key = row.get("reference", "").strip().upper()
        try:
            if key in seen:
                raise ValidationError(f"reference: {key} already appears in row {seen[key]}")
            parsed = parse_row(row, people)
            seen[key] = number
            action = existing.get(parsed.reference)
            if action is None:
                change = "create"
            else:
                differences = _differences(action, parsed)
                change = f"update ({', '.join(differences)})" if differences else "unchanged"
            preview.results.append(RowResult(row=number, key=key, change=change))
            parsed_rows.append((parsed, action, change))
        except ValidationError as exc:
            preview.results.append(RowResult(row=number, key=key, error="; ".join(exc.messages)))
    if commit and preview.clean:
        with transaction.atomic():
            for parsed, action, change in parsed_rows:
                if change != "unchanged":
                    _write(parsed, action, actor)
        preview.committed = True
    return preview


def _write(parsed, action, actor):
    if action is None:
        if parsed.meeting is not None:
            services.action_reference_claim(reference=parsed.reference, meeting=parsed.meeting)
        action = services._save(
            Action(reference=parsed.reference, meeting=parsed.meeting, title=parsed.title, text=parsed.text,
                   due=parsed.due, all_members=parsed.all_members, status=parsed.status),
            actor=actor, m2m={"owners": parsed.owners},
        )
    else:
        services.action_edit(action=action, actor=actor, title=parsed.title, text=parsed.text, due=parsed.due,
                             all_members=parsed.all_members, owners=parsed.owners)
        if action.status != parsed.status:
            services.action_set_status(action=action, status=parsed.status, actor=actor, note="Imported")
    with set_actor(actor):
        for date, text in _new_updates(action, parsed):
            update = ActionUpdate(action=action, date=date, text=text, author=actor)
            update.full_clean()
            update.save()


# --- Export --------------------------------------------------------------------------------

def export_rows(actions):
    """Rows in the import's own format, so an exported file re-imports unchanged; yielded a chunk of
    actions at a time (their owners and updates fetched per chunk), for a streamed download."""
    ambiguous = set(User.objects.exclude(initials="").values("initials").annotate(n=Count("pk"))
                    .filter(n__gt=1).values_list("initials", flat=True))
    for action in actions.prefetch_related("owners", "updates").iterator(chunk_size=500):
        owners = ["ALL"] if action.all_members else []
        owners += [o.username if (not o.initials or o.initials in ambiguous) else o.initials
                   for o in action.owners.all()]
        yield {
            "reference": action.reference, "title": action.title, "text": action.text,
            "owners": ";".join(owners), "due": action.due.strftime("%d.%m.%y") if action.due else "tbc",
            "status": action.status,
            "updates": "\n".join(f"{u.date:%d.%m.%y}: {u.text}" for u in action.updates.all() if not u.status_to),
        }
