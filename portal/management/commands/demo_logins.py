"""Print the demo logins (used by `make run`)."""
from django.core.management.base import BaseCommand

from portal.demo import demo_logins


class Command(BaseCommand):
    help = "Print the demo logins."

    def handle(self, *args, **options):
        for username, password, role in demo_logins():
            self.stdout.write(f"  {username:<8} {password:<22} {role}")
