"""Routes of the work pages: My page, acting on leads, disputes, restatements, closing a period, the team."""

from __future__ import annotations

from django.urls import path

from leadpact.web.views import home, leads, team, work

urlpatterns = [
    path("", home.my_page, name="home"),
    path("leads/<int:pk>/act/<slug:action>/", leads.lead_act, name="lead_act"),
    path("disputes/", work.disputes, name="disputes"),
    path("disputes/<int:pk>/decide/", work.dispute_decide_view, name="dispute_decide"),
    path("restatements/", work.restatements, name="restatements"),
    path("restatements/<int:pk>/decide/", work.restatement_decide, name="restatement_decide"),
    path("close/", work.period_close_view, name="period_close"),
    path("team/", team.team_page, name="team"),
    path("team/invite/", team.team_invite, name="team_invite"),
]
