from django.apps import AppConfig


class OutboxConfig(AppConfig):
    name = "chorus.outbox"
    label = "outbox"
    verbose_name = "Courriels envoyés"
