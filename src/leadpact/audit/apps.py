from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "leadpact.audit"
    verbose_name = _("Audit")

    def ready(self) -> None:
        from leadpact.audit._guard import sqlite_functions_register

        connection_created.connect(sqlite_functions_register, dispatch_uid="leadpact.audit.sqlite_functions")
