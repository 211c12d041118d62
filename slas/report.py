"""The monthly report, computed from rollups only (never from raw facts).

``build(month, organisation=None)`` returns the measure results (national for DSP and end-to-end
measures, per region for CSP measures; with ``organisation``, over that service user's traffic
only), the incident measures (per category and resolver, from the same rollups and summaries;
with ``organisation``, over its own incidents), the availability of each service component, the
credits per provider, the statements' shares and the exclusions. ``as_json`` gives the shape of
``manage.py slas_report --format json``. Incident measures earn no credits: the credit terms are
the request and alert measures'.
"""
from collections import defaultdict
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Sum

from portal.choices import ProviderCode, Region
from portal.models import Organisation
from servicedesk import selectors as desk
from slas import credits, metrics, rollups
from slas.choices import ProviderKind
from slas.models import Charge, Measure, MonthRollup, MonthSummary, ProviderTerms, ReliefEvent
from slas.rollups import provider_for

REGIONS = [r.value for r in Region]
CREDIT_PROVIDERS = [ProviderCode.DSP, ProviderCode.CSP_NORTH, ProviderCode.CSP_CENTRAL, ProviderCode.CSP_SOUTH]


def _seconds(value):
    return None if value is None else Decimal(value).quantize(Decimal("0.001"), ROUND_HALF_UP)


def _result(measure, region, summary):
    """One row of the report from a MonthSummary (None: no traffic)."""
    measured, within, excluded = (summary.measured, summary.within, summary.excluded) if summary else (0, 0, 0)
    pct = credits.achieved(measured, within)
    p50, p95, p99 = (summary.p50_seconds, summary.p95_seconds, summary.p99_seconds) if summary else (None,) * 3
    return {
        "measure": measure, "code": measure.code, "name": measure.name, "type": measure.measurement_type,
        "provider": provider_for(measure.provider, region or ""), "region": region,
        "interval": measure.get_interval_display(), "target_seconds": measure.target_seconds,
        "measured": measured, "within": within, "excluded": excluded,
        "achieved": pct, "achieved_pct": None if pct is None else credits.to_decimal(pct, "0.01"),
        "target_pct": measure.target_pct, "minimum_pct": measure.minimum_pct, "weight": measure.weight,
        "met": None if pct is None else pct >= credits.frac(measure.target_pct),
        "below_minimum": None if pct is None else pct <= credits.frac(measure.minimum_pct),
        "state": metrics.measure_state(pct, measure.target_pct, measure.minimum_pct).value,
        "p50_seconds": _seconds(p50), "p95_seconds": _seconds(p95), "p99_seconds": _seconds(p99),
        "histogram": summary.histogram if summary else {},
    }


def measure_results(month, organisation=None, measures=None):
    """Results per measure (national or per region for CSP measures; with ``organisation``, over
    that service user's traffic only) and, when no organisation is given, per service user too:
    (rows, per_user {org_id: rows}). Read from MonthSummary, recomputed first if the month's
    rollups changed since; the per-user rows are read when first used (the JSON report and the
    credits need only the national ones)."""
    measures = measures or list(Measure.objects.of_facts())
    rollups.refresh_summaries([month])
    summaries = MonthSummary.objects.filter(month=month)
    own = summaries.filter(organisation__isnull=True) if organisation is None else summaries.filter(
        organisation=organisation)
    groups = {(s.measure_id, s.region): s for s in own}
    results = []
    for measure in measures:
        for region in (REGIONS if measure.provider == ProviderKind.CSP else [None]):
            results.append(_result(measure, region, groups.get((measure.pk, region or ""))))
    per_user = PerUser(summaries.filter(organisation__isnull=False) if organisation is None
                       else summaries.none(), {m.pk: m for m in measures})
    return results, per_user


class PerUser(Mapping):
    """{org_id: [result rows]} read from the per-user MonthSummary rows on first access."""

    def __init__(self, rows, by_id):
        self._rows, self._by_id, self._built = rows, by_id, None

    def _data(self):
        if self._built is None:
            built = defaultdict(list)
            for summary in self._rows:
                measure = self._by_id.get(summary.measure_id)
                if measure is not None:
                    built[summary.organisation_id].append(_result(measure, summary.region or None, summary))
            order = {pk: n for n, pk in enumerate(self._by_id)}
            for rows in built.values():
                rows.sort(key=lambda r: (order[r["measure"].pk], r["region"] or ""))
            self._built = dict(built)
        return self._built

    def __getitem__(self, key):
        return self._data()[key]

    def __iter__(self):
        return iter(self._data())

    def __len__(self):
        return len(self._data())


def incident_results(month, organisation=None, measures=None, *, refresh=True):
    """The incident measures' rows: per measure (category and clock), one row per resolver that
    had incidents decided in the month (a measure with none: one row, not measured). With
    ``organisation``, over the incidents it raised only. Read from MonthSummary like every measure."""
    measures = measures if measures is not None else list(Measure.objects.of_incidents())
    if refresh:
        rollups.refresh_summaries([month])
    summaries = MonthSummary.objects.filter(month=month, measure__in=measures)
    summaries = summaries.filter(organisation__isnull=True) if organisation is None else summaries.filter(
        organisation=organisation)
    by_measure = defaultdict(list)
    for summary in summaries.order_by("region"):
        by_measure[summary.measure_id].append(summary)
    rows = []
    for measure in measures:
        found = by_measure.get(measure.pk) or [None]
        for summary in found:
            row = _result(measure, summary.region if summary else None, summary)
            row["resolver"] = (summary.region or "unassigned") if summary else ""
            row["category"] = measure.category
            rows.append(row)
    return rows


def availability(month):
    """Each active service component's availability in the month (servicedesk's selector: minutes
    less planned maintenance less unplanned outage, as a share of the minutes less maintenance)."""
    return [{"component": a.component.name, "key": a.component.key, "minutes": a.minutes.quantize(Decimal("1")),
             "maintenance": a.maintenance.quantize(Decimal("0.1")), "outage": a.outage.quantize(Decimal("0.1")),
             "available": a.available.quantize(Decimal("0.1")), "percent": a.percent}
            for a in desk.availability_month(month)]


def charges_for(month):
    providers, users = {}, {}
    for charge in Charge.objects.filter(month=month).select_related("organisation"):
        if charge.provider:
            providers[charge.provider] = charge.amount
        else:
            users[charge.organisation.code] = charge.amount
    return providers, users


def credit_calculations(month, results):
    provider_charges, user_charges = charges_for(month)
    terms = {t.provider: t for t in ProviderTerms.objects.all()}
    calculations = []
    for provider in CREDIT_PROVIDERS:
        own = [r for r in results if r["provider"] == provider]
        term = terms.get(provider) or ProviderTerms(provider=provider)
        calculations.append(credits.provider_credit(
            provider=str(provider), percent_per_point=term.percent_per_point, cap_pct=term.cap_pct,
            charge=provider_charges.get(provider, Decimal("0")),
            results=[{"code": r["code"], "type": r["type"], "measured": r["measured"], "within": r["within"],
                      "target_pct": r["target_pct"], "minimum_pct": r["minimum_pct"], "weight": r["weight"]}
                     for r in own]))
    pool_pence = sum(c["credit_pence"] for c in calculations)
    codes = set(user_charges) | set(Organisation.objects.filter(kind="service_user", is_active=True)
                                    .values_list("code", flat=True))
    pence = {code: int(credits.frac(user_charges.get(code, Decimal("0"))) * 100) for code in sorted(codes)}
    shares = credits.allocate(pool_pence, pence)
    statements = [{"organisation": code, "charges": credits.pounds(pence[code]), "amount": credits.pounds(shares[code])}
                  for code in sorted(codes)]
    return calculations, pool_pence, statements


def exclusions(month):
    start, end = metrics.month_bounds(month)
    return list(ReliefEvent.objects.filter(starts_at__lt=end, ends_at__gt=start).order_by("starts_at"))


def build(month, organisation=None):
    month = metrics.month_start(month)
    everything = list(Measure.objects.all())
    measures = [m for m in everything if not m.is_incident]
    results, per_user = measure_results(month, organisation, measures)
    # A service user sees the providers' national calculations (they are on its statement) but
    # only its own share of the pool.
    national = results if organisation is None else measure_results(month, None, measures)[0]
    calculations, pool_pence, statements = credit_calculations(month, national)
    if organisation is not None:
        statements = [s for s in statements if s["organisation"] == organisation.code]
    excluded = MonthRollup.objects.filter(month=month)
    if organisation is not None:
        excluded = excluded.filter(organisation=organisation)
    return {
        "month": month, "organisation": organisation, "measures": results, "per_user": per_user,
        # measure_results has just brought the month's summary up to date.
        "incidents": incident_results(month, organisation, [m for m in everything if m.is_incident], refresh=False),
        "availability": availability(month),
        "credits": calculations, "pool": credits.pounds(pool_pence), "statements": statements,
        "relief_events": exclusions(month),
        "excluded_total": excluded.aggregate(n=Sum("excluded"))["n"] or 0,
        "formula": credits.FORMULA,
    }


def _s(value):
    return None if value is None else str(value)


def as_json(report):
    return {
        "month": f"{report['month']:%Y-%m}",
        "measures": [{
            "code": r["code"], "type": r["type"], "provider": r["provider"], "region": r["region"],
            "measured": r["measured"], "within": r["within"], "achieved_pct": _s(r["achieved_pct"]),
            "target_pct": _s(r["target_pct"]), "minimum_pct": _s(r["minimum_pct"]), "met": r["met"],
            "p99_seconds": _s(r["p99_seconds"]),
        } for r in report["measures"]],
        "incidents": [{
            "code": r["code"], "category": r["category"], "resolver": r["resolver"], "measured": r["measured"],
            "within": r["within"], "achieved_pct": _s(r["achieved_pct"]), "target_pct": _s(r["target_pct"]),
            "met": r["met"],
        } for r in report["incidents"]],
        "availability": [{"component": a["key"], "minutes": str(a["minutes"]), "maintenance": str(a["maintenance"]),
                          "outage": str(a["outage"]), "percent": str(a["percent"])} for a in report["availability"]],
        "credits": [{"provider": c["provider"], "points": c["points"], "credit_pct": c["credit_pct"],
                     "charge": c["charge"], "credit": c["credit"]} for c in report["credits"]],
        "statements": [{"organisation": s["organisation"], "charges": str(s["charges"]), "amount": str(s["amount"])}
                       for s in report["statements"]],
    }
