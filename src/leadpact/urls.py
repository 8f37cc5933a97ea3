"""URL configuration."""

from django.contrib import admin
from django.urls import include, path

from leadpact.web import views

urlpatterns = [
    path("", views.home, name="home"),
    path("targets/", views.targets, name="targets"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]
