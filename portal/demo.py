"""Demo organisations and people. Other apps add their own <app>/demo.py; load_demo runs them in order."""
import os
import secrets
from pathlib import Path

from django.conf import settings

from portal import services
from portal.choices import OrganisationKind, PortalRole, ProviderCode, Region

DEMO_PASSWORD = "smart-metering-demo"
# The demo superuser (the admin site, every organisation) never has the published password: its
# password is DEMO_ADMIN_PASSWORD or load_demo --admin-password when given, else random, kept in
# this file of the var folder (readable by its owner only) so that `manage.py demo_logins` prints it.
ADMIN_PASSWORD_FILE = "demo-admin-password"

ORGANISATIONS = [
    # code, name, kind, provider code, region, DUIS roles, DUIS user id
    ("DCC", "Data Communications Company", OrganisationKind.DCC, "", "", [], "90-B3-D5-1F-30-00-00-00"),
    ("DECC", "Department of Energy and Climate Change", OrganisationKind.GOVERNMENT, "", "", [], ""),
    ("DSP", "Data Service Provider", OrganisationKind.PROVIDER, ProviderCode.DSP, "", [], ""),
    ("CSPN", "CSP North", OrganisationKind.PROVIDER, ProviderCode.CSP_NORTH, Region.NORTH, [], ""),
    ("CSPC", "CSP Central", OrganisationKind.PROVIDER, ProviderCode.CSP_CENTRAL, Region.CENTRAL, [], ""),
    ("CSPS", "CSP South", OrganisationKind.PROVIDER, ProviderCode.CSP_SOUTH, Region.SOUTH, [], ""),
    ("SUPA", "Albion Energy", OrganisationKind.SERVICE_USER, "", "", ["IS", "GS", "ES"], "90-B3-D5-1F-30-01-00-01"),
    ("SUPB", "Brightwater Power", OrganisationKind.SERVICE_USER, "", "", ["IS", "GS"], "90-B3-D5-1F-30-01-00-02"),
    ("SUPC", "Caledon Gas and Power", OrganisationKind.SERVICE_USER, "", "", ["IS", "GS"], "90-B3-D5-1F-30-01-00-03"),
    ("DNOM", "Midlands Distribution", OrganisationKind.SERVICE_USER, "", "", ["ED"], "90-B3-D5-1F-30-01-00-04"),
    ("GTNL", "Northline Gas Transport", OrganisationKind.SERVICE_USER, "", "", ["GT"], "90-B3-D5-1F-30-01-00-05"),
]

# username, first, last, initials, organisation code, role, can log in
PEOPLE = [
    ("admin", "Ada", "Administrator", "AA", "DCC", PortalRole.DCC_ADMIN, True),
    ("ops", "Olu", "Operator", "OO", "DCC", PortalRole.DCC_OPERATIONS, True),
    ("supa", "Sam", "Albion", "SA", "SUPA", PortalRole.SERVICE_USER, True),
    ("supb", "Bea", "Brightwater", "BB", "SUPB", PortalRole.SERVICE_USER, True),
    ("sdag", "Dee", "Advisor", "DA", "DECC", PortalRole.SDAG_MEMBER, True),
]


def _admin_password_path() -> Path:
    return Path(settings.VAR_DIR) / ADMIN_PASSWORD_FILE


def stored_admin_password() -> str:
    """The demo superuser's password that load_demo last set, or "" when it never ran here."""
    try:
        return _admin_password_path().read_text().strip()
    except OSError:
        return ""


def admin_password(given: str | None = None) -> str:
    """The password load_demo gives the demo superuser: the one given (option, then the
    DEMO_ADMIN_PASSWORD variable), else the one stored by an earlier run (so re-running keeps the
    logins that were printed), else a new random one. Whatever it is, it is stored for demo_logins."""
    password = given or os.environ.get("DEMO_ADMIN_PASSWORD", "").strip() or stored_admin_password()
    password = password or secrets.token_urlsafe(15)
    path = _admin_password_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    # Created owner-only before the password is written, so it is never readable by others.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(password + "\n")
    os.chmod(path, 0o600)
    return password


def demo_logins():
    """The demo logins that `make run` prints and the README lists: the shared demo password for
    every role but the superuser, whose password is the one load_demo stored."""
    logins = []
    for username, _, _, _, _, role, login in PEOPLE:
        if not login:
            continue
        if role == PortalRole.DCC_ADMIN:
            logins.append((username, stored_admin_password() or "(run manage.py load_demo)", role.label))
        else:
            logins.append((username, DEMO_PASSWORD, role.label))
    return logins


def load(stdout=None, admin_password: str | None = None):
    """Organisations and people. ``admin_password`` is the demo superuser's (load_demo passes the one
    it chose); without it the superuser gets a random password nobody knows."""
    organisations = {}
    for code, name, kind, provider, region, roles, user_id in ORGANISATIONS:
        organisations[code] = services.organisation_upsert(
            code=code, name=name, kind=kind, provider_code=provider, region=region, duis_roles=roles, user_id=user_id
        )
    for username, first, last, initials, org, role, login in PEOPLE:
        admin = role == PortalRole.DCC_ADMIN
        services.person_upsert(
            username=username, first_name=first, last_name=last, initials=initials,
            organisation=organisations[org], role=role, email=f"{username}@example.org",
            password=((admin_password or secrets.token_urlsafe(15)) if admin else DEMO_PASSWORD) if login else None,
            is_staff=admin, is_superuser=admin,
        )
    if stdout:
        stdout.write(f"portal: {len(organisations)} organisations, {len(PEOPLE)} people")
