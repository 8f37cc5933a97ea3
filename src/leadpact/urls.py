"""URL configuration."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from leadpact.api import api
from leadpact.web.views import accounts, agreements, evidence, leads, measure, scorecard

urlpatterns = [
    path("", include("leadpact.web.urls_work")),
    path("agreements/", agreements.home, name="agreements"),
    path("organizations/", accounts.organizations, name="organizations"),
    path("agreements/<int:pk>/", agreements.agreement_detail, name="agreement"),
    path("targets/", agreements.targets, name="targets"),
    path("measure/", scorecard.measure_page, name="measure"),
    path("measure/evidence/", evidence.measure_evidence_page, name="measure_evidence"),
    path("leads/<int:pk>/", leads.lead_page, name="lead"),
    path("measure/<slug:key>/", scorecard.measure_commitment, name="measure_commitment"),
    path("accountability/", measure.accountability, name="accountability"),
    path("accountability/<int:pk>/", measure.accountability_person, name="accountability_person"),
    path("", include("leadpact.web.urls_editor")),
    path("data/", include("leadpact.web.urls_data")),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("hooks/", include("leadpact.leads.hooks_urls")),
    path("reviews/", include("leadpact.reviews.urls")),
]
