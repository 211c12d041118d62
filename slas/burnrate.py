"""Burn-rate warnings: is a service measure spending its month's error budget too fast?

For a measure with target T% the budget allows a miss rate of (100 - T)/100. The burn rate over
a window is the window's miss rate divided by that allowance: 1 spends the budget exactly by
month end, 14.4 spends a 30-day budget in about two days. A rule (BurnRateRule, editable by DCC
administrators) fires when BOTH a short and a long window burn at or above its threshold: the
long window proves it is not a blip, the short one that it is still happening (the
multi-window rule of SLO practice). DCC operations are told once when an episode opens; the
episode closes when the short window recovers, and a later burst opens a new one.

Reads the facts (read-only): one aggregate query per measurement type over the long window, the
short window counted inside it. The allowance is the measure's error budget as slas.metrics
defines it for every measure. Relief windows are not applied here: a warning is about what users
live through now.
"""
from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeAlias, cast
from urllib.parse import urlencode

from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from portal.access import people
from slas import metrics
from slas.choices import INTERVAL_COLUMN, EpisodeState, MeasurementType
from slas.models import AlertFact, BurnRateEpisode, BurnRateRule, Measure, RequestFact

if TYPE_CHECKING:
    from portal.models import User
    from portal.types import Actor

log = logging.getLogger(__name__)
CSP_KIND = "CSP"

# {"short": [measured, misses], "long": [measured, misses]} of one measure in one region.
Windows: TypeAlias = dict[str, list[int]]


def window_counts(measures: Iterable[Measure], now: dt.datetime, short: dt.timedelta,
                  long: dt.timedelta) -> dict[tuple[int, str], Windows]:
    """{(measure_pk, region): {"short": (measured, misses), "long": (measured, misses)}}.
    CSP measures are counted per region (each region is its own CSP); others nationally ("")."""
    by_type = defaultdict(list)
    for measure in measures:
        by_type[measure.measurement_type].append(measure)
    counts: dict[tuple[int, str], Windows] = {}
    for mtype, group in by_type.items():
        facts: QuerySet[Any]  # alert facts or request facts
        if mtype == MeasurementType.ALERT:
            facts, stamp = AlertFact.objects.all(), "raised_at"
        else:
            facts, stamp = RequestFact.objects.filter(measurement_type=mtype, measured=True), "start_at"
        facts = facts.filter(**{f"{stamp}__gte": now - long, f"{stamp}__lt": now})
        recent = Q(**{f"{stamp}__gte": now - short})
        annotations = {}
        for measure in group:
            column = INTERVAL_COLUMN[measure.interval]
            started = Q(**{f"{column}__isnull": False})
            missed = ~metrics.within_q(column, measure.target_us)  # the one "within target" (slas.metrics)
            annotations[f"m{measure.pk}_n"] = Count("pk", filter=started)
            annotations[f"m{measure.pk}_x"] = Count("pk", filter=started & missed)
            annotations[f"m{measure.pk}_sn"] = Count("pk", filter=started & recent)
            annotations[f"m{measure.pk}_sx"] = Count("pk", filter=started & missed & recent)
        # Rows of the region and the counts named m<pk>_n, _x, _sn, _sx (annotations the stubs cannot name).
        for row in cast("QuerySet[Any, dict[str, Any]]", facts.values("region").annotate(**annotations).order_by()):
            for measure in group:
                region = (row["region"] or "") if measure.provider == CSP_KIND else ""
                entry = counts.setdefault((measure.pk, region), {"short": [0, 0], "long": [0, 0]})
                entry["long"][0] += row[f"m{measure.pk}_n"]
                entry["long"][1] += row[f"m{measure.pk}_x"]
                entry["short"][0] += row[f"m{measure.pk}_sn"]
                entry["short"][1] += row[f"m{measure.pk}_sx"]
    return counts


def burn(measured: int, misses: int, target_pct: Decimal) -> Decimal:
    """Burn rate of a window: its miss rate over the miss rate the target allows."""
    allowed = metrics.error_budget(target_pct)
    if not measured or allowed <= 0:
        return Decimal(0)
    return (Decimal(misses) / Decimal(measured) / allowed).quantize(Decimal("0.01"))


def failing_requests_url(measure: Measure, region: str) -> str:
    try:
        url = reverse("adapter:request_list")
    except NoReverseMatch:
        return ""
    query = f"?measurement_type={measure.measurement_type}"
    if region:
        query += f"&region={region}"
    return url + query


def dcc_operations() -> list[User]:
    return list(people("dcc"))


def burnrate_check(now: dt.datetime | None = None) -> list[BurnRateEpisode]:
    """Scheduled every five minutes: open (and announce) or close episodes. Returns the
    episodes opened in this run."""
    now = now or timezone.now()
    opened = []
    for rule in BurnRateRule.objects.filter(is_active=True):
        chosen = Measure.objects.of_facts()  # incident measures have no facts to burn through
        if rule.measure_code:
            chosen = chosen.filter(code=rule.measure_code)
        measures = {m.pk: m for m in chosen}
        short = dt.timedelta(minutes=rule.short_window_minutes)
        long = dt.timedelta(minutes=rule.long_window_minutes)
        counts = window_counts(measures.values(), now, short, long)
        open_episodes = {(e.measure_code, e.region): e for e in rule.episodes.filter(state=EpisodeState.OPEN)}
        for (measure_pk, region), windows in counts.items():
            measure = measures[measure_pk]
            key = (f"{measure.code} {measure.measurement_type}", region)
            (short_n, short_x), (long_n, long_x) = windows["short"], windows["long"]
            short_burn = burn(short_n, short_x, measure.target_pct)
            long_burn = burn(long_n, long_x, measure.target_pct)
            enough = short_n >= rule.min_requests and long_n >= rule.min_requests
            firing = enough and short_burn >= rule.threshold and long_burn >= rule.threshold
            episode = open_episodes.pop(key, None)
            if firing and episode is None:
                opened.append(_open(rule, measure, key, region, now, short_burn, long_burn, windows))
            elif episode is not None and not (enough and short_burn >= rule.threshold):
                _close(episode, now)
        # Measures with no traffic at all in the long window have recovered too.
        for episode in open_episodes.values():
            _close(episode, now)
    return opened


@transaction.atomic
def _open(rule: BurnRateRule, measure: Measure, key: tuple[str, str], region: str, now: dt.datetime,
          short_burn: Decimal, long_burn: Decimal, windows: Windows) -> BurnRateEpisode:
    from portal.events import publish

    episode = BurnRateEpisode(
        rule=rule, measure_code=key[0], region=region, opened_at=now, short_rate=short_burn, long_rate=long_burn,
        details={"measure": str(measure), "target_pct": str(measure.target_pct),
                 "short": {"minutes": rule.short_window_minutes, "measured": windows["short"][0],
                           "misses": windows["short"][1], "burn_rate": str(short_burn)},
                 "long": {"minutes": rule.long_window_minutes, "measured": windows["long"][0],
                          "misses": windows["long"][1], "burn_rate": str(long_burn)},
                 "threshold": str(rule.threshold)},
    )
    episode.full_clean()
    episode.save()
    where = f" in the {region} region" if region else ""
    summary = (f"{measure}{where} is burning its error budget: {short_burn}x over "
               f"{rule.short_window_minutes} min and {long_burn}x over {rule.long_window_minutes} min")
    body = (f"Rule {rule.name} (threshold {rule.threshold}x). Target {measure.target_pct}%.\n"
            f"Last {rule.short_window_minutes} min: {windows['short'][1]} misses of {windows['short'][0]}.\n"
            f"Last {rule.long_window_minutes} min: {windows['long'][1]} misses of {windows['long'][0]}.")
    publish("burnrate.warning", obj=episode, recipients=dcc_operations(), summary=summary, body=body,
            url=failing_requests_url(measure, region),
            payload={"measure": measure.code, "measurement_type": measure.measurement_type, "region": region,
                     "short": episode.details["short"], "long": episode.details["long"],
                     "threshold": str(rule.threshold)})
    log.warning("burn-rate episode opened: %s", summary)
    return episode


@transaction.atomic
def _close(episode: BurnRateEpisode, now: dt.datetime) -> None:
    episode.state = EpisodeState.CLOSED
    episode.closed_at = now
    episode.save(update_fields=["state", "closed_at"])


def episode_requests_url(episode: BurnRateEpisode) -> str:
    """The failing requests behind an episode: its measurement type (and region), received from
    the start of the short window that opened it."""
    try:
        url = reverse("adapter:request_list")
    except NoReverseMatch:
        return ""
    mtype = episode.measure_code.rsplit(" ", 1)[-1]
    if mtype == "alert":
        return ""
    minutes = (episode.details.get("short") or {}).get("minutes") or episode.rule.short_window_minutes
    params = {"measurement_type": mtype, "received_after": (episode.opened_at - dt.timedelta(minutes=minutes))
              .isoformat()}
    if episode.region:
        params["region"] = episode.region
    return f"{url}?{urlencode(params)}"


RULE_FIELDS = ("name", "measure_code", "short_window_minutes", "long_window_minutes", "threshold", "min_requests",
               "is_active")


def burnrate_rule_save(*, actor: Actor, rule: BurnRateRule | None = None, **fields: Any) -> BurnRateRule:
    """Create or change a burn-rate rule (DCC administrators; the views check scope)."""
    from auditlog.context import set_actor
    from django.core.exceptions import ValidationError

    unknown = set(fields) - set(RULE_FIELDS)
    if unknown:
        raise ValueError(f"unknown rule fields: {sorted(unknown)}")
    rule = rule or BurnRateRule()
    for name, value in fields.items():
        setattr(rule, name, value)
    if rule.short_window_minutes and rule.long_window_minutes and rule.short_window_minutes >= rule.long_window_minutes:
        # The short window proves the burn is still happening, the long one that it is no blip.
        raise ValidationError({"short_window_minutes": "The short window must be shorter than the long window."})
    rule.full_clean()
    with transaction.atomic(), set_actor(actor):
        rule.save()
    return rule


# The default rules, as Google's SRE workbook (chapter 5, "Alerting on SLOs", table 5-8) and
# Pyrra set them for a 30-day budget: (name, long window, short window, burn-rate threshold).
# Each long window is twelve times its short one. The portal's budget is a London calendar month
# (672 to 745 hours), not 30 days: 14.4x for an hour spends 2 % of a 720-hour budget and 1.9 % of
# a 745-hour one, close enough to keep the workbook's figures. Facts are timed to the microsecond
# and the check runs every five minutes (slas/schedules.py), so the shortest window, five
# minutes, is one run's worth of facts: it never falls between two runs.
DEFAULT_RULES: tuple[tuple[str, int, int, Decimal], ...] = (
    ("Fast burn: 1 h and 5 min at 14.4x", 60, 5, Decimal("14.4")),
    ("Fast burn: 6 h and 30 min at 6x", 360, 30, Decimal("6")),
    ("Slow burn: 1 day and 2 h at 3x", 1440, 120, Decimal("3")),
    ("Slow burn: 3 days and 6 h at 1x", 4320, 360, Decimal("1")),
)


def ensure_default_rules(rule_model: Any = BurnRateRule) -> None:
    """Create the default rules (DEFAULT_RULES) by name, for every measure (a blank measure code),
    leaving alone any an administrator has changed. Run by the data migration
    slas 0012_default_burnrate_rules (with the historical model) and usable again after a reset."""
    for name, long_minutes, short_minutes, threshold in DEFAULT_RULES:
        rule_model.objects.get_or_create(name=name, defaults={
            "measure_code": "", "short_window_minutes": short_minutes, "long_window_minutes": long_minutes,
            "threshold": threshold})


def measures_without_rule(measures: Iterable[Measure] | None = None) -> list[Measure]:
    """The measures of facts that no active rule watches (no rule for every measure, none naming
    the measure's code): for them "nothing is burning" would be a guess, not an answer."""
    rules = list(BurnRateRule.objects.filter(is_active=True).values_list("measure_code", flat=True))
    if "" in rules:
        return []
    watched = set(rules)
    chosen = Measure.objects.of_facts() if measures is None else measures
    return [m for m in chosen if m.code not in watched]
