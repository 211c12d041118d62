from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Portal: organisations, people, access"

    def ready(self):
        # The ground's own entries in its registries (portal.registry): the sidebar's sections
        # and links, the organisations search kind, and its schedules.
        from portal import navigation, schedules, search  # noqa: F401
