"""Shared fixtures: the organisations of the network and one person per role.

The base set follows DESIGN.md: a DCC operator, staff of supplier A and staff of supplier B
(the outsider), plus a DCC administrator and an SDAG member.
Each app may add tests/<app>/isolation.py with ``owned_objects(organisation, person)``
returning [(object, marker text)] owned by that organisation; the isolation sweep
(tests/portal/test_isolation.py) uses every such module against every URL.
"""
import pytest
from django.test import Client
from rest_framework.test import APIClient

from portal import services
from portal.choices import OrganisationKind, PortalRole, ProviderCode, Region


@pytest.fixture
def orgs(db):
    def org(code, name, kind, **extra):
        return services.organisation_upsert(code=code, name=name, kind=kind, **extra)

    return {
        "DCC": org("DCC", "Data Communications Company", OrganisationKind.DCC, user_id="90-B3-D5-1F-30-00-00-00"),
        "DECC": org("DECC", "Department of Energy and Climate Change", OrganisationKind.GOVERNMENT),
        "DSP": org("DSP", "Data Service Provider", OrganisationKind.PROVIDER, provider_code=ProviderCode.DSP),
        "CSPN": org("CSPN", "CSP North", OrganisationKind.PROVIDER, provider_code=ProviderCode.CSP_NORTH,
                    region=Region.NORTH),
        "CSPC": org("CSPC", "CSP Central", OrganisationKind.PROVIDER, provider_code=ProviderCode.CSP_CENTRAL,
                    region=Region.CENTRAL),
        "CSPS": org("CSPS", "CSP South", OrganisationKind.PROVIDER, provider_code=ProviderCode.CSP_SOUTH,
                    region=Region.SOUTH),
        "SUPA": org("SUPA", "Albion Energy", OrganisationKind.SERVICE_USER, duis_roles=["IS", "GS", "ES"],
                    user_id="90-B3-D5-1F-30-01-00-01"),
        "SUPB": org("SUPB", "Brightwater Power", OrganisationKind.SERVICE_USER, duis_roles=["IS", "GS"],
                    user_id="90-B3-D5-1F-30-01-00-02"),
    }


def _person(username, organisation, role, **extra):
    """A person with a password and an authenticator app (tests/mfa.py): multi-factor sign-in is
    required of most roles, and a test about something else signs in as a real person would."""
    from tests.mfa import enrol

    person = services.person_upsert(
        username=username, first_name=username.title(), last_name="Tester", organisation=organisation, role=role,
        initials=username[:2].upper(), email=f"{username}@example.org", password="test-password-123", **extra,
    )
    enrol(person)
    return person


@pytest.fixture
def dcc_operator(orgs):
    return _person("operator", orgs["DCC"], PortalRole.DCC_OPERATIONS)


@pytest.fixture
def dcc_admin(orgs):
    return _person("administrator", orgs["DCC"], PortalRole.DCC_ADMIN, is_staff=True, is_superuser=True)


@pytest.fixture
def supplier_a(orgs):
    return _person("alice", orgs["SUPA"], PortalRole.SERVICE_USER)


@pytest.fixture
def supplier_b(orgs):
    return _person("bob", orgs["SUPB"], PortalRole.SERVICE_USER)


@pytest.fixture
def sdag_member(orgs):
    return _person("sdagmember", orgs["DECC"], PortalRole.SDAG_MEMBER)


@pytest.fixture
def client_for():
    """client_for(user) -> a Django test client logged in as that user, its session past the second
    factor (the person is enrolled with an authenticator app if they were not)."""
    from tests.mfa import verified_login

    def make(user):
        return verified_login(Client(), user)

    return make


@pytest.fixture
def api_for():
    """api_for(user) -> a DRF APIClient authenticated as that user (token auth, as scripts use it)."""

    def make(user):
        from portal.services import api_token_get_or_create
        from tests.mfa import enrol

        enrol(user)  # a token is issued only to a person with multi-factor sign-in where it is required
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_get_or_create(user=user).key}")
        return client

    return make


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Throttle counters and cached values must not leak from one test into the next."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def quiet_simulator():
    """The adapter's simulator with no random E20/E21 failures (a test that wants them configures
    its own), reset afterwards. The adapter and browser tests use it for every test."""
    from adapter import simulator

    simulator.configure(fail_e20={"north": 0, "central": 0, "south": 0},
                        fail_e21={"north": 0, "central": 0, "south": 0})
    yield simulator
    simulator.reset()


def _flushes(item):
    """Whether the test runs outside a rolled-back transaction, so Django flushes the tables after it."""
    marker = item.get_closest_marker("django_db")
    kwargs = marker.kwargs if marker is not None else {}
    transactional = kwargs.get("transaction") or kwargs.get("serialized_rollback")
    return bool(transactional) or bool({"transactional_db", "live_server"} & set(getattr(item, "fixturenames", ())))


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


@pytest.hookimpl(hookwrapper=True, trylast=True)
def pytest_runtest_teardown(item, nextitem):
    """A transactional test (a live-server journey, real row locks across threads) flushes the
    database when it ends; put back what the migrations loaded (the SRV catalogue, seeded measures,
    the service desk's shipped targets) so later tests on the same worker find it, as before."""
    yield
    if nextitem is None or not _flushes(item):
        return  # the last test of the run (the test database is already gone), or nothing flushed
    setup = getattr(item, "rep_setup", None)
    if setup is None or not setup.passed:
        return  # skipped or never set up: nothing flushed
    from django.core.management import call_command
    from django.db import connections
    from pytest_django.plugin import blocking_manager_key

    with item.config.stash[blocking_manager_key].unblock():
        for connection in connections.all(initialized_only=True):
            contents = getattr(connection, "_test_serialized_contents", None)
            if contents:
                # Empty again without the post-migrate rows (content types), then load the saved contents.
                call_command("flush", verbosity=0, interactive=False, database=connection.alias,
                             inhibit_post_migrate=True)
                connection.creation.deserialize_db_from_string(contents)
                # The rows come back with their own ids, which move no sequence: reset them, or the
                # next test's inserts collide with restored rows (a counter row the service desk
                # creates on first use took the id of another and was lost to ON CONFLICT).
                from django.apps import apps
                from django.core.management.color import no_style

                statements = connection.ops.sequence_reset_sql(no_style(), apps.get_models())
                if statements:
                    with connection.cursor() as cursor:
                        for statement in statements:
                            cursor.execute(statement)


@pytest.fixture(autouse=True)
def _keystore_in_tmp(settings, tmp_path_factory):
    """Test keys (adapter.keystore, `manage.py duis keys`, the demo) go to a temporary directory,
    never into the checkout's var/keys."""
    settings.ADAPTER_KEYSTORE = "local"
    settings.ADAPTER_KEYSTORE_DIR = str(tmp_path_factory.mktemp("keystore"))
