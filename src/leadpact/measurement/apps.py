from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MeasurementConfig(AppConfig):
    name = "leadpact.measurement"
    verbose_name = _("Targets and measurement")
