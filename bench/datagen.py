"""Benchmark data, generated inside PostgreSQL (generate_series) and moved with COPY, never the ORM.

* 40 service users (BU01..BU40) plus DCC and the providers; a DCC operator and a service user person.
* Devices: INSERT ... SELECT straight into inventory_device (canonical EUI-64 ids, MPANs).
* One London month of request and alert facts written as the CSV files ``slas_import_facts`` reads
  (COPY (SELECT ...) TO STDOUT), so that loading them is the ingest benchmark. Latencies are
  log-normal per leg with type-dependent scales, so every measure has a tail and some misses;
  0.4% of requests are rejected inside DCC (not measured) and 0.6% never get a response (misses).
"""
import datetime as dt

from django.db import connection

from inventory.validators import MPAN_PRIMES, mpan_check_digit
from portal.choices import OrganisationKind, PortalRole, ProviderCode, Region

MONTH = dt.date(2025, 6, 1)  # June: no clock change, 30 London days
SERVICE_USERS = 40
DEVICE_BASE = 0x00DB200000000000
PASSWORD = "bench-password-123"


def service_user_code(number):
    return f"BU{number:02d}"


def organisations_and_people():
    """The organisations and two people the benchmarks act as (ORM: a few dozen rows)."""
    from portal import services

    def org(code, name, kind, **extra):
        return services.organisation_upsert(code=code, name=name, kind=kind, **extra)

    dcc = org("DCC", "Data Communications Company", OrganisationKind.DCC, user_id="90-B3-D5-1F-30-00-00-00")
    org("DSP", "Data Service Provider", OrganisationKind.PROVIDER, provider_code=ProviderCode.DSP)
    for code, provider, region in (("CSPN", ProviderCode.CSP_NORTH, Region.NORTH),
                                   ("CSPC", ProviderCode.CSP_CENTRAL, Region.CENTRAL),
                                   ("CSPS", ProviderCode.CSP_SOUTH, Region.SOUTH)):
        org(code, f"CSP {region}", OrganisationKind.PROVIDER, provider_code=provider, region=region)
    users = {}
    for number in range(1, SERVICE_USERS + 1):
        users[number] = org(service_user_code(number), f"Bench Energy {number}", OrganisationKind.SERVICE_USER,
                            duis_roles=["IS", "GS"], user_id=f"90-B3-D5-1F-30-02-00-{number:02X}")
    operator = services.person_upsert(
        username="bench-operator", first_name="Bench", last_name="Operator", organisation=dcc,
        role=PortalRole.DCC_OPERATIONS, initials="BO", email="bench-operator@example.org", password=PASSWORD)
    supplier = services.person_upsert(
        username="bench-supplier", first_name="Bench", last_name="Supplier", organisation=users[1],
        role=PortalRole.SERVICE_USER, initials="BS", email="bench-supplier@example.org", password=PASSWORD)
    return operator, supplier


def _eui_sql(number_sql):
    hexed = f"upper(lpad(to_hex({number_sql}), 16, '0'))"
    return " || '-' || ".join(f"substr({hexed}, {i}, 2)" for i in range(1, 17, 2))


def devices(count):
    """``count`` devices in the register: ESME/GSME/CHF/IHD spread over the 40 service users and
    the three regions, most commissioned. Devices of BU01 with g % 8 = 0 are commissioned ESMEs
    in the north (the batch benchmark sends to them)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, code FROM portal_organisation WHERE code LIKE 'BU%'")
        ids = {code: pk for pk, code in cursor.fetchall()}
        org_array = "(ARRAY[" + ", ".join(str(ids[service_user_code(n)]) for n in range(1, SERVICE_USERS + 1)) + "])"
        cursor.execute(f"""
            INSERT INTO inventory_device (device_id, device_type, status, supplier_id, region, mpxn, hub_id, model_id,
                firmware_version, installed_at, commissioned_at, status_changed_at, created_at)
            SELECT {_eui_sql(f"{DEVICE_BASE}::bigint + g")},
                   (ARRAY['ESME', 'GSME', 'CHF', 'IHD'])[1 + g % 4],
                   CASE WHEN g % 8 = 0 OR g % 20 > 2 THEN 'commissioned'
                        ELSE (ARRAY['pending', 'installed_not_commissioned', 'decommissioned'])[1 + g % 20] END,
                   CASE WHEN g % 8 = 0 THEN {org_array}[1] ELSE {org_array}[1 + (g / 8) % {SERVICE_USERS}] END,
                   CASE WHEN g % 8 = 0 THEN 'north' ELSE (ARRAY['north', 'central', 'south'])[1 + (g / 4) % 3] END,
                   CASE WHEN g % 4 = 0 THEN m.first12 || (
                            SELECT sum(substr(m.first12, w.i::int, 1)::int * w.p) % 11 % 10
                            FROM unnest(ARRAY{list(MPAN_PRIMES)}) WITH ORDINALITY AS w(p, i))::text
                        WHEN g % 4 = 1 THEN lpad((2000000 + g)::text, 10, '0') ELSE '' END,
                   NULL, NULL, '1.' || (g % 7), now() - interval '400 days', now() - interval '390 days',
                   now() - interval '390 days', now()
            FROM generate_series(1, {int(count)}) g,
                 LATERAL (SELECT lpad((100000000000 + g)::text, 12, '0')) AS m(first12)
        """)
        cursor.execute("ANALYZE inventory_device")


def device_eui(g):
    text = f"{DEVICE_BASE + g:016X}"
    return "-".join(text[i:i + 2] for i in range(0, 16, 2))


def device_mpan(g):
    """The MPAN core of device number g (ESMEs: g % 4 == 0): distributor 10 (a DNO), the
    number, and the check digit the SQL above computes the same way."""
    first12 = f"{100000000000 + g:012d}"
    return first12 + str(mpan_check_digit(first12))


# Per measurement type: (share of requests in percent, scale of the DSP/CSP legs). On-demand legs
# are seconds; scheduled and future-dated legs are minutes to hours (their targets are hours).
TYPES = [("on_demand", 60, 1), ("future_dated_ack", 5, 600), ("future_dated_response", 5, 100),
         ("firmware", 2, 2000), ("dcc_only", 8, 1), ("dsp_scheduled", 10, 100), ("meter_scheduled", 10, 100)]


def _type_case(position):
    edges, total = [], 0
    for name, share, scale in TYPES:
        total += share
        edges.append((total, name, scale))
    kind = "CASE " + " ".join(f"WHEN t < {edge} THEN '{name}'" for edge, name, _ in edges) + " END"
    scale = "CASE " + " ".join(f"WHEN t < {edge} THEN {s}" for edge, _, s in edges) + " END"
    return kind if position == 0 else scale


def _normal():
    return "(sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()))"


def _month_start_sql(month=MONTH):
    return f"'{month:%Y-%m-%d} 00:00 Europe/London'::timestamptz"


def write_requests_csv(path, count, *, first=1):
    """``count`` request facts of the month as the slas_import_facts CSV, numbered from ``first``
    (a month grown in steps gets new ids at each step)."""
    sql = f"""
    COPY (
      WITH b AS (
        SELECT g, g % 100 AS t, 1 + floor({SERVICE_USERS} * power(random(), 1.4))::int AS org,
               (ARRAY['north', 'central', 'south'])[1 + g % 3] AS region,
               {_month_start_sql()} + random() * interval '30 days' AS s, random() AS u,
               {_normal()} AS z1, {_normal()} AS z2, {_normal()} AS z3, {_normal()} AS z4
        FROM generate_series({int(first)}, {int(first) + int(count) - 1}) g
      ), k AS (
        SELECT *, {_type_case(0)} AS mt, {_type_case(1)} AS sc FROM b
      ), x AS (
        SELECT *, s + interval '5 milliseconds' AS rec,
               interval '1 second' * sc * 0.9 * exp(0.55 * z1) AS d_out,
               interval '1 second' * sc * 1.8 * exp(0.55 * z2) AS d_csp,
               interval '1 second' * 2.0 * exp(0.5 * z3) AS d_han,
               interval '1 second' * (CASE WHEN sc = 1 THEN 0.2 ELSE sc END) * exp(0.6 * z4) AS d_in
        FROM k
      )
      SELECT 'BENCH-' || g, '4.1.1', mt, 'BU' || lpad(org::text, 2, '0'), '', region, s, rec,
             CASE WHEN u < 0.004 OR mt = 'dcc_only' THEN NULL ELSE rec + d_out END,
             CASE WHEN u < 0.004 OR mt = 'dcc_only' THEN NULL ELSE rec + d_out + d_csp END,
             CASE WHEN u < 0.010 OR mt = 'dcc_only' THEN NULL ELSE rec + d_out + d_csp + d_han END,
             CASE WHEN u < 0.010 THEN NULL WHEN mt = 'dcc_only' THEN rec + 1.5 * d_out
                  ELSE rec + d_out + 2 * d_csp + d_han END,
             CASE WHEN u < 0.010 THEN NULL WHEN mt = 'dcc_only' THEN rec + 1.5 * d_out + d_in
                  ELSE rec + d_out + 2 * d_csp + d_han + d_in END,
             CASE WHEN u < 0.004 THEN 'E4' WHEN u < 0.010 THEN 'E21' ELSE 'I0' END
      FROM x
    ) TO STDOUT WITH (FORMAT csv)
    """
    _copy_out(path, sql, "request_id,srv,measurement_type,organisation,device_id,region,start_at,received_at,"
                         "dsp_sent_at,wan_delivered_at,device_responded_at,wan_returned_at,responded_at,outcome")


def write_alerts_csv(path, count):
    sql = f"""
    COPY (
      WITH b AS (
        SELECT g, 1 + floor({SERVICE_USERS} * power(random(), 1.4))::int AS org,
               (ARRAY['north', 'central', 'south'])[1 + g % 3] AS region,
               {_month_start_sql()} + random() * interval '30 days' AS s, random() AS u,
               interval '1 second' * 8 * exp(0.6 * {_normal()}) AS d_csp,
               interval '1 second' * 0.8 * exp(0.6 * {_normal()}) AS d_dsp
        FROM generate_series(1, {int(count)}) g
      )
      SELECT 'BENCH-A-' || g, '8F35', 'BU' || lpad(org::text, 2, '0'), '', region, s,
             CASE WHEN u < 0.002 THEN NULL ELSE s + d_csp END,
             CASE WHEN u < 0.005 THEN NULL ELSE s + d_csp + d_dsp END
      FROM b
    ) TO STDOUT WITH (FORMAT csv)
    """
    _copy_out(path, sql, "alert_id,alert_code,organisation,device_id,region,raised_at,wan_received_at,delivered_at")


def _copy_out(path, sql, header):
    with connection.cursor() as cursor, open(path, "wb") as handle:
        cursor.execute("SET TIME ZONE 'UTC'")
        handle.write(header.encode() + b"\n")
        with cursor.copy(sql) as copy:
            for chunk in copy:
                handle.write(chunk)
        cursor.execute("RESET TIME ZONE")


# The SRVs of the generated month of service requests (the self-service reports count them by SRV).
REQUEST_SRVS = ("4.1.1", "4.17", "4.8.1", "11.2", "7.4", "7.5", "6.2.7", "3.1", "8.2", "11.3")


def service_requests(count, *, prefix="BENCH-", month=MONTH):
    """``count`` service requests of the month in the adapter's own table (what the self-service
    reports read): each to a device of the register, sent by that device's supplier (so BU01, with
    an eighth of the register, sends about 15% of them), spread evenly over the month, answered
    I0 two seconds later. The devices must be the single contiguous block devices() wrote."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM adapter_servicerequestvariant WHERE code = ANY(%s) ORDER BY code",
                       [list(REQUEST_SRVS)])
        srvs = [row[0] for row in cursor.fetchall()]
    if not srvs:
        return 0
    return _per_device("adapter_servicerequest", """
        INSERT INTO adapter_servicerequest (request_id, srv_id, organisation_id, device_id, device_ref,
            region, measurement_type, state, outcome, message, params, start_at, received_at,
            dsp_sent_at, wan_delivered_at, device_responded_at, wan_returned_at, responded_at,
            completed_at, precommand, signature, attempts, response, signature_failures)
        SELECT {prefix} || r, (ARRAY{srvs})[1 + r %% {n_srvs}], d.supplier_id, d.id, d.device_id,
               d.region, 'on_demand', 'responded', 'I0', '', '{{}}', t.at, t.at,
               t.at + interval '0.2 s', t.at + interval '0.9 s', t.at + interval '1.4 s',
               t.at + interval '1.8 s', t.at + interval '2 s', t.at + interval '2 s', '', '', 1, '{{}}', 0
        {rows}""", count, prefix, month, step=7919, srvs=srvs, n_srvs=len(srvs))


def alerts(count, *, prefix="BENCH-A-", month=MONTH):
    """``count`` alerts of the month in the adapter's table, as service_requests: each from a device
    of the register to its supplier, raised evenly over the month, delivered 9 s later and recorded
    (created_at) then."""
    return _per_device("adapter_alert", """
        INSERT INTO adapter_alert (alert_id, alert_code, description, organisation_id, device_id, region,
            raised_at, wan_received_at, delivered_at, payload, created_at)
        SELECT {prefix} || r, '8F35', '', d.supplier_id, d.id, d.region, t.at, t.at + interval '8 s',
               t.at + interval '9 s', '{{}}', t.at + interval '9 s'
        {rows}""", count, prefix, month, step=104729)


def _per_device(table_name, statement, count, prefix, month, *, step, **values):
    """Run ``statement`` (its {rows}: r = 1..count at evenly spaced times t.at of the month, each
    with a device d of the register, every ``step``-th) and return the rows written.

    The FK triggers are off for the statement (session_replication_role, the throwaway server's
    superuser): every foreign key is true by construction, and 10M deferred checks at COMMIT would
    time the generator, not the reports."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT min(id), count(*) FROM inventory_device")
        first, devices_ = cursor.fetchone()
        if not devices_:
            return 0
        seconds = (30 * 24 * 3600) / max(count, 1)
        rows = f"""FROM generate_series(1, {int(count)}) r
        CROSS JOIN LATERAL (SELECT {_month_start_sql(month)} + r * interval '{seconds} s') AS t(at)
        JOIN inventory_device d ON d.id = {first} + (r::bigint * {step}) %% {devices_}"""
        cursor.execute("SET session_replication_role = replica")
        try:
            cursor.execute(statement.format(prefix="%s", rows=rows, **values), [prefix])
            written = cursor.rowcount
        finally:
            cursor.execute("SET session_replication_role = DEFAULT")
        # As autovacuum would by the time a report is asked for: the visibility map lets the
        # monthly counts be index-only scans.
        cursor.execute(f"VACUUM (ANALYZE) {table_name}")
    return written
