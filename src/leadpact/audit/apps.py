from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "leadpact.audit"
    verbose_name = "Audit"
