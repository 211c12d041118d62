"""Load the demo data of every app, in dependency order. Idempotent: run it as often as you like."""
from importlib import import_module, util

from django.conf import settings
from django.core.management.base import BaseCommand
from django.test.utils import override_settings


class Command(BaseCommand):
    help = "Load demo data (organisations and people first, then each app's own). Idempotent."

    def add_arguments(self, parser):
        parser.add_argument("--only", nargs="*", help="only these apps, e.g. --only portal inventory")

    def handle(self, *args, only=None, **options):
        # Demo history (reopened actions, RAID closures, statements) raises the same events as real
        # work; its e-mails go to memory so that `make run` prints the URL, not a pile of messages.
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
            for app in settings.PORTAL_APPS:
                if only and app not in only:
                    continue
                if util.find_spec(f"{app}.demo") is None:
                    continue
                import_module(f"{app}.demo").load(stdout=self.stdout)
        self.stdout.write(self.style.SUCCESS("demo data loaded"))
