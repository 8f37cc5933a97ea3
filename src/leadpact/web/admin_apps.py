"""Django's admin app, with leadpact's sealed site (:mod:`leadpact.web.admin_site`) as its default site.

Kept apart from the site so that the settings can name it before the models are loaded.
"""

from django.contrib.admin.apps import AdminConfig

__all__ = ["LeadpactAdminConfig"]


class LeadpactAdminConfig(AdminConfig):
    default_site = "leadpact.web.admin_site.LeadpactAdminSite"
