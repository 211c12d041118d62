from django.apps import AppConfig


class WorkshopsConfig(AppConfig):
    name = "workshops"
    verbose_name = "Governance registers"

    def ready(self):
        # What governance adds to the ground's registries (portal.registry).
        from workshops import events, navigation, schedules, search, tiles  # noqa: F401
