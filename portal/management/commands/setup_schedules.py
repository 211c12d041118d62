"""Create or update every django-q2 schedule the apps registered (portal.registry.SCHEDULES), by name."""
from django.core.management.base import BaseCommand
from django.db import transaction
from django_q.models import Schedule

from portal.registry import SCHEDULES


class Command(BaseCommand):
    help = "Create every registered schedule (<app>/schedules.py); running it twice changes nothing."

    @transaction.atomic
    def handle(self, *args, **options):
        created = updated = 0
        for entry in SCHEDULES:
            defaults = {**entry.fields(), "repeats": -1}
            _, was_created = Schedule.objects.update_or_create(name=entry.name, defaults=defaults)
            created += was_created
            updated += not was_created
        self.stdout.write(f"schedules: {created} created, {updated} updated, {len(SCHEDULES)} declared")
