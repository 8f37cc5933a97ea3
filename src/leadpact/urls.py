"""URL configuration."""

from django.contrib import admin
from django.urls import include, path

from leadpact.api import api
from leadpact.web import views, views_measure

urlpatterns = [
    path("", views.home, name="home"),
    path("agreements/<int:pk>/", views.agreement_detail, name="agreement"),
    path("targets/", views.targets, name="targets"),
    path("measure/", views_measure.measure_page, name="measure"),
    path("measure/evidence/", views_measure.measure_evidence_page, name="measure_evidence"),
    path("accountability/", views_measure.accountability, name="accountability"),
    path("accountability/<int:pk>/", views_measure.accountability_person, name="accountability_person"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("hooks/", include("leadpact.leads.hooks_urls")),
]
