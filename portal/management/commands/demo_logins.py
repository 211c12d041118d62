"""Print the demo logins (used by `make run`)."""
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from portal.demo import demo_logins


class Command(BaseCommand):
    help = "Print the demo logins."

    def handle(self, *args, **options):
        for username, password, role in demo_logins():
            self.stdout.write(f"  {username:<8} {password:<22} {role}")
        keys = sorted((Path(settings.VAR_DIR) / "demo-keys").glob("*.key.pem"))
        if keys:
            # The demo suppliers' own keys for signing critical commands (pick one on a request's page).
            self.stdout.write(f"  command-signing key files: {', '.join(str(path) for path in keys)}")
