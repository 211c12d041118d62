from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Portal: organisations, people, access"

    def ready(self):
        # The ground's own entries in its registries (portal.registry): the sidebar's sections
        # and links, and the organisations search kind.
        from portal import navigation, search  # noqa: F401
