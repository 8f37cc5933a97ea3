from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "leadpact.audit"
    verbose_name = _("Audit")

    def ready(self) -> None:
        from leadpact.audit._guard import sqlite_functions_register
        from leadpact.datadir import sqlite_files_protect

        connection_created.connect(sqlite_functions_register, dispatch_uid="leadpact.audit.sqlite_functions")
        # The data folder's files are not the audit log's, but they guard the same secrets (the audit key
        # sits beside the database): every new SQLite connection makes its files the owner's alone.
        connection_created.connect(sqlite_files_protect, dispatch_uid="leadpact.datadir.sqlite_files")
