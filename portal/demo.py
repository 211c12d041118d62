"""Demo organisations and people. Other apps add their own <app>/demo.py; load_demo runs them in order."""
from portal import services
from portal.choices import OrganisationKind, PortalRole, ProviderCode, Region

DEMO_PASSWORD = "smart-metering-demo"

ORGANISATIONS = [
    # code, name, kind, provider code, region, DUIS roles, DUIS user id
    ("DCC", "Data Communications Company", OrganisationKind.DCC, "", "", [], ""),
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


def demo_logins():
    """The demo logins that `make run` prints and the README lists."""
    return [(username, DEMO_PASSWORD, role.label) for username, _, _, _, _, role, login in PEOPLE if login]


def load(stdout=None):
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
            password=DEMO_PASSWORD if login else None, is_staff=admin, is_superuser=admin,
        )
    if stdout:
        stdout.write(f"portal: {len(organisations)} organisations, {len(PEOPLE)} people")
