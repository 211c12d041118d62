"""Load the demo data of every app, in dependency order. Idempotent: run it as often as you like."""
from importlib import import_module, util

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.test.utils import override_settings

from portal import demo


class Command(BaseCommand):
    help = ("Load demo data (organisations and people first, then each app's own). Idempotent. "
            "Runs only with DEBUG on: the demo people have a published password.")

    def add_arguments(self, parser):
        parser.add_argument("--only", nargs="*", help="only these apps, e.g. --only portal inventory")
        parser.add_argument("--admin-password", default=None,
                            help="the demo superuser's password (default: DEMO_ADMIN_PASSWORD, else the one an "
                                 "earlier run chose, else random); `manage.py demo_logins` prints it")

    def handle(self, *args, only=None, admin_password=None, **options):
        # The demo people log in with the password printed in the README: on a production
        # deployment (DEBUG off) that would be a door anyone can open, so the command refuses.
        if not settings.DEBUG:
            raise CommandError("load_demo refuses to run with DEBUG off: demo people share a published password. "
                               "Load demo data only on a developer machine (DEBUG=1, as `make run` does).")
        password = demo.admin_password(admin_password)
        # Demo history (reopened actions, RAID closures, statements) raises the same events as real
        # work; its e-mails go to memory so that `make run` prints the URL, not a pile of messages.
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
            for app in settings.PORTAL_APPS:
                if only and app not in only:
                    continue
                if app == "portal":
                    demo.load(stdout=self.stdout, admin_password=password)
                    continue
                if util.find_spec(f"{app}.demo") is None:
                    continue
                import_module(f"{app}.demo").load(stdout=self.stdout)
        self.stdout.write(self.style.SUCCESS("demo data loaded"))
