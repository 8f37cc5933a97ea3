"""Webhook URLs: ``/hooks/<kind>/<slug>/`` (hubspot, mautic, pipedrive, generic)."""

from django.urls import path

from leadpact.leads import hooks

app_name = "hooks"
urlpatterns = [
    path("<str:kind>/<slug:slug>/", hooks.receive, name="receive"),
]
