from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Portal: organisations, people, access"

    def ready(self):
        # The ground's own entries in its registries (portal.registry): the sidebar's sections
        # and links, the organisations search kind, and its schedules.
        from django.contrib.auth.signals import user_logged_in, user_login_failed

        from portal import navigation, receivers, schedules, search  # noqa: F401

        # Every sign-in and failed sign-in is kept (portal.models.SignIn) for the person and DCC.
        user_logged_in.connect(receivers.signed_in, dispatch_uid="portal.signed_in")
        user_login_failed.connect(receivers.sign_in_failed, dispatch_uid="portal.sign_in_failed")
