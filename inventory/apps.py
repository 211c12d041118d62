from django.apps import AppConfig


class InventoryConfig(AppConfig):
    name = "inventory"
    verbose_name = "Asset register and configuration items"

    def ready(self):
        # What the asset register adds to the ground's registries (portal.registry).
        from inventory import events, navigation, search  # noqa: F401
