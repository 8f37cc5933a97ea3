"""Routes of the agreement editor and of onboarding a new organisation (one include in leadpact.urls)."""

from __future__ import annotations

from django.urls import path

from leadpact.web.views import editor, onboarding

urlpatterns = [
    path("editor/", editor.editor_start, name="editor_start"),
    path("editor/<int:pk>/", editor.editor_version, name="editor_version"),
    path("editor/<int:pk>/check/", editor.editor_rule_check, name="editor_rule_check"),
    path("editor/<int:pk>/yaml/", editor.editor_yaml, name="editor_yaml"),
    path("editor/<int:pk>/propose/", editor.editor_propose, name="editor_propose"),
    path("editor/<int:pk>/sign/", editor.editor_sign, name="editor_sign"),
    path("editor/<int:pk>/activate/", editor.editor_activate, name="editor_activate"),
    path("editor/<int:pk>/delete/", editor.editor_delete, name="editor_delete"),
    path("editor/<int:pk>/<slug:section>/", editor.editor_section, name="editor_section"),
    path("onboarding/", onboarding.onboarding_start, name="onboarding_start"),
    path("onboarding/setup/", onboarding.onboarding_setup, name="onboarding_setup"),
    path("onboarding/teams/", onboarding.onboarding_teams, name="onboarding_teams"),
    path("onboarding/people/", onboarding.onboarding_people, name="onboarding_people"),
    path("onboarding/agreement/", onboarding.onboarding_agreement, name="onboarding_agreement"),
]
