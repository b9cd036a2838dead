from django.apps import AppConfig


class SupportConfig(AppConfig):
    name = "support"
    verbose_name = "Assistance"

    def ready(self):
        from support import checks  # noqa: F401 — registers the assistant tree check
