from django.apps import AppConfig


class AdapterConfig(AppConfig):
    name = "adapter"
    verbose_name = "Device commands"

    def ready(self):
        # What device commands add to the ground's registries (portal.registry).
        from adapter import events, navigation, schedules, search, tiles  # noqa: F401
