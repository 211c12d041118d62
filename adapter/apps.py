from django.apps import AppConfig


class AdapterConfig(AppConfig):
    name = "adapter"
    verbose_name = "Device commands"
