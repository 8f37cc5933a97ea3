from django.apps import AppConfig


class AgreementsConfig(AppConfig):
    name = "leadpact.agreements"
    verbose_name = "Agreements"
