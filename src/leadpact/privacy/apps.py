from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "leadpact.privacy"
    verbose_name = "Privacy"
