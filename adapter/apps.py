from django.apps import AppConfig


class AdapterConfig(AppConfig):
    name = "adapter"
    verbose_name = "Device commands"

    def ready(self):
        # What device commands add to the ground's registries (portal.registry).
        from adapter import events, navigation, schedules, search, tiles  # noqa: F401
        from adapter.mfa import may_send_critical
        from portal.mfa.policy import register_requirement

        register_requirement("may send critical commands", may_send_critical)
