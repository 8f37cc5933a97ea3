from django.apps import AppConfig


class OrganizationConfig(AppConfig):
    name = "leadpact.organization"
    verbose_name = "Organisation"
