from django.apps import AppConfig


class SlasConfig(AppConfig):
    name = "slas"
    verbose_name = "Service measures and credits"

    def ready(self):
        # What the service levels add to the ground's registries (portal.registry).
        from slas import events, navigation, reports, schedules, tiles  # noqa: F401
