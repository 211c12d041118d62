"""Writes of the slas app: measures and terms, relief windows, charges, facts, month freeze,
restatement and notification. Keyword-only arguments, full_clean before save, one transaction,
audit actor set."""
from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

from auditlog.context import set_actor
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Max
from django.utils import timezone

from portal.access import people
from portal.choices import OrganisationKind, ProviderCode
from portal.events import publish
from portal.imports import Preview, RowResult, read_for_preview
from portal.models import Organisation
from slas import archive, facts, incidents, metrics, partitions, report, rollups
from slas.choices import FactKind
from slas.models import (
    AlertFact,
    Charge,
    CreditRun,
    FactArchive,
    Measure,
    ProviderTerms,
    ReliefEvent,
    RequestFact,
    Statement,
)

if TYPE_CHECKING:
    from portal.types import Actor

log = logging.getLogger(__name__)


def measure_update(*, measure: Measure, actor: Actor, target_seconds: Decimal | None = None,
                   target_pct: Decimal | None = None, minimum_pct: Decimal | None = None, weight: Decimal | None = None,
                   rebuild_months: Iterable[dt.date] = ()) -> Measure:
    """Change a measure's targets. Counts within target depend on the target, so the months given
    (by default the current one) are rebuilt; older months keep the figures they were frozen with
    unless rebuilt with slas_rebuild_rollups."""
    if measure.is_incident and target_seconds is not None and Decimal(target_seconds) != measure.target_seconds:
        # Its time is the category's in the service desk's target table, copied in at each count.
        raise ValidationError({"target_seconds": "An incident measure's time is its category's target time in the "
                                                 "service desk's table: change it there."})
    with transaction.atomic(), set_actor(actor):
        for name, value in (("target_seconds", target_seconds), ("target_pct", target_pct),
                            ("minimum_pct", minimum_pct), ("weight", weight)):
            if value is not None:
                setattr(measure, name, value)
        measure.full_clean()
        measure.save()
    for month in rebuild_months or [metrics.month_start(timezone.localdate())]:
        rollups.rebuild_month(month)
    return measure


def terms_update(*, provider: str, actor: Actor, percent_per_point: Decimal, cap_pct: Decimal) -> ProviderTerms:
    with transaction.atomic(), set_actor(actor):
        terms = ProviderTerms.objects.filter(provider=provider).first() or ProviderTerms(provider=provider)
        terms.percent_per_point, terms.cap_pct = percent_per_point, cap_pct
        terms.full_clean()
        terms.save()
    return terms


def relief_record(*, provider: str, region: str = "", starts_at: dt.datetime, ends_at: dt.datetime, reason: str,
                  actor: Actor) -> ReliefEvent:
    """Record an approved relief window and rebuild the months it touches so its requests drop out."""
    with transaction.atomic(), set_actor(actor):
        relief = ReliefEvent(provider=provider, region=region or "", starts_at=starts_at, ends_at=ends_at,
                             reason=reason, recorded_by=actor)
        relief.full_clean()
        relief.save()
    month = metrics.month_start(metrics.london_day(starts_at))
    last = metrics.month_start(metrics.london_day(ends_at))
    while month <= last:
        rollups.rebuild_month(month)
        month = metrics.next_month(month)
    return relief


def charge_set(*, month: dt.date, amount: Decimal, actor: Actor, provider: str = "",
               organisation: Organisation | None = None) -> Charge:
    month = metrics.month_start(month)
    with transaction.atomic(), set_actor(actor):
        lookup = {"provider": provider} if provider else {"organisation": organisation}
        charge = Charge.objects.filter(month=month, **lookup).first() or Charge(month=month, **lookup)
        charge.amount = amount
        charge.full_clean()
        charge.save()
    return charge


def charges_import(data: bytes, *, filename: str = "", commit: bool = False, actor: Actor = None) -> Preview:
    """Columns month,party,amount: party a provider code (DSP, CSP_NORTH...) or a service user's
    organisation code; amount in pounds. Nothing is written while any row has an error."""
    preview, table = read_for_preview(data, filename=filename, required=("month", "party", "amount"))
    if table is None:
        return preview
    providers = {p.value for p in ProviderCode if p != ProviderCode.E2E}
    users = {o.code: o for o in Organisation.objects.filter(kind=OrganisationKind.SERVICE_USER)}
    parsed: list[tuple[dt.date, str, Decimal]] = []
    seen: dict[tuple[dt.date, str], int] = {}
    for line, row in table.rows:
        key = f"{row['month']} {row['party']}"
        result = RowResult(row=line, key=key)
        preview.results.append(result)
        try:
            month = metrics.parse_month(row["month"])
        except ValueError as exc:
            result.error = f"month: {exc}"
            continue
        party = row["party"].strip()
        if party not in providers and party not in users:
            result.error = f"party: {party!r} is neither a provider code ({', '.join(sorted(providers))}) " \
                           f"nor a service user's organisation code"
            continue
        try:
            amount = Decimal(row["amount"].replace(",", "").lstrip("£"))
        except InvalidOperation:
            result.error = f"amount: {row['amount']!r} is not an amount in pounds"
            continue
        if amount < 0 or amount != amount.quantize(Decimal("0.01")):
            result.error = "amount: must be pounds and pence, not negative"
            continue
        if (month, party) in seen:
            result.error = f"party: {party} appears twice for {month:%Y-%m} (also row {seen[(month, party)]})"
            continue
        seen[(month, party)] = line
        existing = Charge.objects.filter(month=month, **({"provider": party} if party in providers
                                                          else {"organisation": users.get(party)})).first()
        result.change = "create" if existing is None else ("unchanged" if existing.amount == amount else "update")
        parsed.append((month, party, amount))
    if commit and preview.clean:
        with transaction.atomic():
            for month, party, amount in parsed:
                if party in providers:
                    charge_set(month=month, amount=amount, actor=actor, provider=party)
                else:
                    charge_set(month=month, amount=amount, actor=actor, organisation=users[party])
        preview.committed = True
    return preview


def facts_import(*, requests: str | os.PathLike[str] | None = None,
                 alerts: str | os.PathLike[str] | None = None, replace: bool = False) -> facts.LoadResult:
    """Load fact files (see slas.facts.load_files); raises facts.FactsRejected with every bad row.
    ``replace``: the months the files hold are replaced (facts and fact rollups), atomically."""
    return facts.load_files(requests=requests, alerts=alerts, replace=replace)


def facts_partitions_ahead() -> list[str]:
    """Create this month's fact partitions and the next ones (slas.partitions); the names made."""
    return partitions.ahead()


def facts_archive(*, older_than_months: int, today: dt.date | None = None,
                  folder: str | os.PathLike[str] | None = None) -> list[FactArchive]:
    """Archive every month of facts older than ``older_than_months`` whole London months before
    this one: each kind's partition to a gzip CSV file with its SHA-256 (slas.archive), then
    detached and dropped, one month and kind per transaction. Rollups and summaries stay."""
    if not partitions.enabled():
        raise ValidationError({"older_than_months": "Facts are archived by month on PostgreSQL only."})
    if older_than_months < 1:
        raise ValidationError({"older_than_months": "Give at least 1 month."})
    cutoff = metrics.month_start(today or timezone.localdate())
    for _ in range(older_than_months):
        cutoff = metrics.previous_month(cutoff)
    folder = folder or settings.SLAS_FACT_ARCHIVE_DIR
    made = []
    for kind, model in ((FactKind.REQUESTS, RequestFact), (FactKind.ALERTS, AlertFact)):
        table = model._meta.db_table
        for month in [m for m in partitions.months(table) if m < cutoff]:
            with transaction.atomic(), connection.cursor() as cursor:
                partitions.lock(cursor, table)
                path, rows, digest = archive.write(table, month, folder)
                record = FactArchive(month=month, kind=kind, path=str(path), rows=rows, sha256=digest)
                record.full_clean()
                archive.drop(table, month)
                record.save()
            made.append(record)
    return made


def facts_restore(*, month: dt.date) -> list[FactArchive]:
    """Put an archived month's facts back as its partitions, after checking each file against
    the SHA-256 recorded and the one written beside it; a mismatch restores nothing."""
    month = metrics.month_start(month)
    records = list(FactArchive.objects.filter(month=month, restored_at__isnull=True))
    if not records:
        raise ValidationError({"month": f"{month:%Y-%m} has no archived facts to restore."})
    for record in records:
        path = Path(record.path)
        if not path.exists():
            raise ValidationError({"month": f"{path}: archive file missing; nothing restored."})
        found, written = archive.sha256_of(path), archive.written_checksum(path)
        if found != record.sha256 or written != record.sha256:
            raise ValidationError({"month": f"{path}: checksum mismatch (recorded {record.sha256}, file {found}, "
                                            f"checksum file {written or 'missing'}); nothing restored."})
    with transaction.atomic(), connection.cursor() as cursor:
        for record in records:
            model = RequestFact if record.kind == FactKind.REQUESTS else AlertFact
            table = model._meta.db_table
            partitions.lock(cursor, table)
            if model.objects.filter(day__gte=month, day__lt=metrics.next_month(month)).exists():
                raise ValidationError({"month": f"{month:%Y-%m} already holds {record.kind}: nothing restored."})
            rows = archive.read_back(table, month, Path(record.path))
            if rows != record.rows:
                raise ValidationError({"month": f"{record.path}: {rows} rows where {record.rows} were archived; "
                                                "nothing restored."})
            record.restored_at = timezone.now()
            record.full_clean()
            record.save()
    return records


def facts_fold() -> tuple[int, int]:
    return facts.fold_backlog()


# --- month freeze, statements and restatement ---------------------------------------------------

def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items() if k not in ("measure", "histogram", "achieved")}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    return value


def _snapshot(built: dict[str, Any]) -> dict[str, Any]:
    return {
        "measures": _jsonable(built["measures"]),
        "incidents": _jsonable(built["incidents"]),
        "availability": _jsonable(built["availability"]),
        "credits": _jsonable([{k: v for k, v in c.items() if k != "credit_pence"} for c in built["credits"]]),
        "pool": str(built["pool"]),
        "statements": _jsonable(built["statements"]),
        "relief_events": [{"provider": r.provider, "region": r.region, "starts_at": r.starts_at.isoformat(),
                           "ends_at": r.ends_at.isoformat(), "reason": r.reason} for r in built["relief_events"]],
        "excluded_total": built["excluded_total"],
        "formula": built["formula"],
    }


def _issue(month: dt.date, version: int, reason: str, actor: Actor) -> tuple[CreditRun, list[Statement]]:
    built = report.build(month)
    snapshot = _snapshot(built)
    run = CreditRun(month=month, version=version, reason=reason, data=snapshot, pool=built["pool"],
                    created_by=actor)
    run.full_clean()
    run.save()
    total = sum((s["charges"] for s in built["statements"]), Decimal("0"))
    organisations = {o.code: o for o in Organisation.objects.filter(code__in=[s["organisation"]
                                                                             for s in built["statements"]])}
    now = timezone.now()
    issued = []
    for entry in built["statements"]:
        organisation = organisations[entry["organisation"]]
        previous = Statement.objects.filter(organisation=organisation, month=month).aggregate(v=Max("version"))["v"]
        statement = Statement(
            organisation=organisation, month=month, version=(previous or 0) + 1, run=run, reason=reason,
            charges=entry["charges"], amount=entry["amount"], issued_at=now,
            data={**snapshot, "statements": None, "charges": str(entry["charges"]),
                  "total_charges": str(total), "share": str(entry["amount"])})
        statement.full_clean()
        statement.save()
        issued.append(statement)
    return run, issued


def month_freeze(*, month: dt.date, actor: Actor = None, notify: bool = True) -> tuple[CreditRun, list[Statement]]:
    """Freeze ``month``: its results, credits and one statement per service user (version 1).
    Running it again issues nothing (the month is frozen once; changes are restatements).
    Returns (run, statements issued now)."""
    month = metrics.month_start(month)
    existing = CreditRun.objects.filter(month=month).order_by("version").first()
    if existing is not None:
        issued: list[Statement] = []
    else:
        incidents.refresh_month(month)  # the incident clocks as they stand now, frozen with the rest
        try:
            with transaction.atomic(), set_actor(actor):
                existing, issued = _issue(month, 1, "", actor)
        except IntegrityError:
            # Another worker froze the month at the same moment: its run stands.
            return CreditRun.objects.get(month=month, version=1), []
    if notify:
        statements_notify(month=month)
    return existing, issued


def month_restate(*, month: dt.date, reason: str, actor: Actor) -> tuple[CreditRun, list[Statement]]:
    """Issue new versions of every statement of a frozen month, with the reason; the earlier
    versions stay as they were."""
    month = metrics.month_start(month)
    if not (reason or "").strip():
        raise ValidationError({"reason": "A restatement needs a reason."})
    with transaction.atomic(), set_actor(actor):
        last = CreditRun.objects.select_for_update().filter(month=month).order_by("-version").first()
        if last is None:
            raise ValidationError({"month": f"{month:%Y-%m} has not been frozen yet: nothing to restate."})
        run, issued = _issue(month, last.version + 1, reason.strip(), actor)
    statements_notify(month=month)
    return run, issued


def statements_notify(*, month: dt.date) -> int:
    """E-mail each service user's staff its statement (with the PDF), once per statement version."""
    from portal.templatetags.formatting import money_text
    from slas import documents

    sent = 0
    for statement in Statement.objects.filter(month=month, notified_at__isnull=True).select_related("organisation"):
        recipients = list(people("service_user").filter(organisation=statement.organisation).exclude(email=""))
        with transaction.atomic():
            locked = Statement.objects.select_for_update().filter(pk=statement.pk, notified_at__isnull=True).first()
            if locked is None:
                continue
            publish(
                "statement.issued", obj=statement, organisation=statement.organisation, recipients=recipients,
                summary=f"Service credit statement {statement.reference}: {money_text(statement.amount)}",
                body=(f"Your service credit statement for {month:%B %Y} (version {statement.version}) is issued: "
                      f"credit {money_text(statement.amount)} on monthly charges of {money_text(statement.charges)}."
                      + (f"\nRestated: {statement.reason}" if statement.reason else "")),
                url=statement.get_absolute_url(),
                payload={"month": f"{month:%Y-%m}", "version": statement.version, "amount": str(statement.amount)},
                attachments=[(f"statement-{statement.reference}.pdf", documents.statement_pdf(statement),
                              "application/pdf")],
            )
            locked.notified_at = timezone.now()
            locked.save(update_fields=["notified_at"])
            sent += 1
    return sent


def ensure_measures() -> None:
    """Seed the measures table and default provider terms where missing (the data migration
    does this too; the demo and tests call it to be safe)."""
    for row in metrics.seed_rows():
        Measure.objects.get_or_create(code=row["code"], measurement_type=row["measurement_type"], defaults=row)
    incidents.ensure_measures()
    for provider in (ProviderCode.DSP, ProviderCode.CSP_NORTH, ProviderCode.CSP_CENTRAL, ProviderCode.CSP_SOUTH):
        ProviderTerms.objects.get_or_create(provider=provider)
