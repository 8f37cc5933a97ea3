"""URL configuration."""

from django.contrib import admin
from django.urls import include, path

from leadpact.api import api
from leadpact.web import views

urlpatterns = [
    path("", views.home, name="home"),
    path("agreements/<int:pk>/", views.agreement_detail, name="agreement"),
    path("targets/", views.targets, name="targets"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("hooks/", include("leadpact.leads.hooks_urls")),
]
