from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "leadpact.web"
    verbose_name = "leadpact"
