"""What the topology's hosts run from the test tree (scripts/cluster_test.sh): the data the web
host loads before the scenarios, and the task the schedule probes call."""
import os

DEVICES = 100_000
PASSWORD = "cluster-password-123"
# The cluster's people pass multi-factor sign-in (required of DCC staff and of a supplier that may
# send critical commands) with recovery codes the test knows: each works once, so every sign-in of
# the test takes the next one (next_code). Test-only values on a throwaway cluster.
RECOVERY_CODES = 200


def recovery_code(username, number):
    # at most 10 letters and digits, as recovery codes are (portal.mfa.services.verify_code)
    return ("".join(c for c in username if c.isalnum())[:6] + f"{number:04d}").upper()


_used = {}


def next_code(username):
    """The next unused recovery code of ``username`` (this test process signs in in order)."""
    _used[username] = _used.get(username, -1) + 1
    return recovery_code(username, _used[username])


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
    from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from portal.models import User

    for person in User.objects.filter(username__in=(operator.username, supplier.username, "cluster-admin")):
        device, _ = StaticDevice.objects.get_or_create(user=person, name="Cluster test codes",
                                                       defaults={"confirmed": True})
        # enrolled (an authenticator app, whose codes this test never computes) ...
        TOTPDevice.objects.get_or_create(user=person, name="Cluster test app", defaults={"confirmed": True})
        # ... and signing in with recovery codes the test knows
        device.token_set.all().delete()
        StaticToken.objects.bulk_create(StaticToken(device=device, token=recovery_code(person.username, n))
                                        for n in range(RECOVERY_CODES))
    print(f"cluster data: {DEVICES:,} devices, users {operator.username}, {supplier.username}, cluster-admin")


def host_name():
    """The schedule probe: which host's worker ran this task."""
    return os.environ.get("CLUSTER_HOST", "unknown")
