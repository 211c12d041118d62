"""What the topology's hosts run from the test tree (scripts/cluster_test.sh): the data the web
host loads before the scenarios, and the task the schedule probes call."""
import os

DEVICES = 100_000
PASSWORD = "cluster-password-123"
# The cluster's people pass multi-factor sign-in (required of DCC staff and of a supplier that may
# send critical commands) with recovery codes the test knows (tests.mfa: seed_served_codes,
# served_second_factor, next_served_code), as every test of a portal in its own processes does.


def load_data():
    """The benchmark's organisations and people, 100,000 devices, and a DCC administrator."""
    from bench import datagen
    from portal import services
    from portal.choices import PortalRole

    operator, supplier = datagen.organisations_and_people()
    datagen.devices(DEVICES)
    for user in (operator, supplier):
        services.person_upsert(username=user.username, first_name=user.first_name, last_name=user.last_name,
                               organisation=user.organisation, role=user.role, password=PASSWORD)
    services.person_upsert(username="cluster-admin", first_name="Cluster", last_name="Admin",
                           organisation=operator.organisation, role=PortalRole.DCC_ADMIN, password=PASSWORD,
                           is_staff=True, is_superuser=True)
    from portal.models import User
    from tests.mfa import seed_served_codes

    for person in User.objects.filter(username__in=(operator.username, supplier.username, "cluster-admin")):
        seed_served_codes(person)
    print(f"cluster data: {DEVICES:,} devices, users {operator.username}, {supplier.username}, cluster-admin")


def host_name():
    """The schedule probe: which host's worker ran this task."""
    return os.environ.get("CLUSTER_HOST", "unknown")
