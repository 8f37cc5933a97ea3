"""The demo app: the invented organisation, its history, and ``leadpact demo``."""

from __future__ import annotations

from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "leadpact.demo"
    label = "demo"
    verbose_name = "Demo"
