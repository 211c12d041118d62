"""Service credit arithmetic, exact: Fractions inside, Decimals (pounds, to the penny) outside.

For provider P, over each of its measures with a measured count > 0 (A achieved %, T target %,
M minimum %): shortfall = 0 if A >= T, 1 if A <= M, else (T - A) / (T - M). Points = sum of
weight x shortfall. Credit % = min(cap, points x percent per point). Credit = charge x credit % /
100, rounded half up to the penny. End-to-end measures earn no credits. The pool (the sum of the
providers' credits) is shared among service users pro rata to their charges, in pence, by the
largest remainder method (ties by organisation code), so the shares add up exactly to the pool.
"""
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

FORMULA = (
    "For each provider, over each of its measures measured this month: shortfall is 0 when the achieved "
    "level A is at or above the target T, 1 when A is at or below the minimum M, otherwise (T - A) / (T - M). "
    "Points are the sum of weight x shortfall. The credit percentage is points x the provider's percent per "
    "point, capped at its cap. The credit is the provider's monthly charge x credit percentage / 100, rounded "
    "half up to the penny. End-to-end measures earn no credits. The month's credits form a pool shared among "
    "service users in proportion to their monthly charges, in pence, by the largest remainder method (ties "
    "broken by organisation code), so the shares add up exactly to the pool."
)
PENNY = Decimal("0.01")


def frac(value):
    return Fraction(str(value)) if not isinstance(value, Fraction) else value


def to_decimal(value, places="0.0001"):
    """A Fraction shown as a Decimal (half up) for display and JSON; money uses pounds() instead."""
    value = frac(value)
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(Decimal(places), ROUND_HALF_UP)


def achieved(measured, within):
    """The exact achieved percentage, or None when nothing was measured."""
    return Fraction(within * 100, measured) if measured else None


def shortfall(a, t, m):
    a, t, m = frac(a), frac(t), frac(m)
    if a >= t:
        return Fraction(0)
    if a <= m:
        return Fraction(1)
    return (t - a) / (t - m)


def round_pence(value):
    """A non-negative Fraction of pence rounded half up to a whole penny."""
    value = frac(value)
    return (value.numerator * 2 + value.denominator) // (value.denominator * 2)


def pounds(pence):
    return (Decimal(pence) / 100).quantize(PENNY)


def provider_credit(*, provider, results, percent_per_point, cap_pct, charge):
    """results: [{"code", "type", "measured", "within", "target_pct", "minimum_pct", "weight"}] of the
    provider's measures. Returns the calculation, line by line, with the credit in pounds."""
    lines, points = [], Fraction(0)
    for result in results:
        if not result["measured"]:
            continue
        a = achieved(result["measured"], result["within"])
        s = shortfall(a, result["target_pct"], result["minimum_pct"])
        contribution = frac(result["weight"]) * s
        points += contribution
        if s == 0:
            branch = "met"
        elif s == 1:
            branch = "at or below minimum"
        else:
            branch = "between minimum and target"
        lines.append({
            "code": result["code"], "type": result["type"], "measured": result["measured"],
            "within": result["within"], "achieved_pct": str(to_decimal(a)),
            "target_pct": str(result["target_pct"]), "minimum_pct": str(result["minimum_pct"]),
            "weight": str(result["weight"]), "branch": branch, "shortfall": str(to_decimal(s)),
            "points": str(to_decimal(contribution)),
        })
    uncapped = points * frac(percent_per_point)
    credit_pct = min(frac(cap_pct), uncapped)
    charge_pence = int(frac(charge) * 100)
    credit_pence = round_pence(charge_pence * credit_pct / 100)
    return {
        "provider": provider, "lines": lines, "points": str(to_decimal(points)),
        "percent_per_point": str(percent_per_point), "cap_pct": str(cap_pct),
        "capped": uncapped > frac(cap_pct), "credit_pct": str(to_decimal(credit_pct)),
        "charge": str(pounds(charge_pence)), "credit": str(pounds(credit_pence)), "credit_pence": credit_pence,
    }


def allocate(pool_pence, charges):
    """Share ``pool_pence`` pro rata to ``charges`` ({code: pence}) by the largest remainder method.
    Returns {code: pence}; the values add up to the pool exactly (unless no one has any charge)."""
    total = sum(charges.values())
    if not total or not pool_pence:
        return {code: 0 for code in charges}
    shares, remainders = {}, []
    for code, pence in charges.items():
        whole, remainder = divmod(pool_pence * pence, total)
        shares[code] = whole
        remainders.append((-remainder, code))
    left = pool_pence - sum(shares.values())
    for _remainder, code in sorted(remainders)[:left]:
        shares[code] += 1
    return shares
