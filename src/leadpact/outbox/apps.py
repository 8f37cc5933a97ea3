from django.apps import AppConfig


class OutboxConfig(AppConfig):
    name = "leadpact.outbox"
    label = "outbox"
    verbose_name = "Outbox"
