from django.apps import AppConfig


class ServicedeskConfig(AppConfig):
    name = "servicedesk"
    verbose_name = "Service desk: incidents, service status, alerts and maintenance"

    def ready(self):
        # What the service desk adds to the ground's registries (portal.registry).
        from servicedesk import events, navigation, schedules, search, tiles  # noqa: F401
