"""Data pages: imports, integrations (API tokens, webhook receivers), alerts and the outbox."""

from django.urls import path

from leadpact.web.views import alerts, data, integrations, outbox

urlpatterns = [
    path("", data.data_home, name="data"),
    path("upload/<str:token>/", data.import_map, name="data_map"),
    path("imports/<int:pk>/", data.import_job, name="data_import"),
    path("imports/<int:pk>/progress/", data.import_progress, name="data_import_progress"),
    path("imports/<int:pk>/problems.csv", data.import_problems, name="data_import_problems"),
    path("integrations/", integrations.integrations, name="data_integrations"),
    path("integrations/tokens/<int:pk>/revoke/", integrations.token_revoke, name="data_token_revoke"),
    path("integrations/webhooks/<int:pk>/", integrations.webhook_detail, name="data_webhook"),
    path("integrations/webhooks/<int:pk>/test/", integrations.webhook_test, name="data_webhook_test"),
    path("alerts/", alerts.alerts, name="data_alerts"),
    path("alerts/webhooks/<int:pk>/delete/", alerts.alert_webhook_remove, name="data_alert_webhook_delete"),
    path("alerts/test/", alerts.alerts_test, name="data_alerts_test"),
    path("outbox/", outbox.outbox, name="data_outbox"),
    path("outbox/<int:pk>/", outbox.outbox_message, name="data_outbox_message"),
    path("outbox/<int:pk>/html/", outbox.outbox_html, name="data_outbox_html"),
    path(
        "outbox/<int:pk>/attachments/<int:attachment>/",
        outbox.outbox_attachment,
        name="data_outbox_attachment",
    ),
]
