"""Team pages live under /t/<team_slug>/; invites and team creation are not team-scoped.

The team home (`accounts:team_home`, `/t/<team_slug>/`) shows every app, so config/urls.py adds it to
this namespace with its view from config/views.py."""

from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("teams/new/", views.team_create, name="team_create"),
    path("me/preferences/", views.preferences, name="preferences"),
    path("me/language/", views.set_language, name="set_language"),
    path("invite/<str:token>/", views.invite_accept, name="invite_accept"),
    path("invite/<str:token>/signup/", views.invite_signup, name="invite_signup"),
    path("t/<slug:team_slug>/members/", views.member_list, name="member_list"),
    path("t/<slug:team_slug>/members/invite/", views.invite_create, name="invite_create"),
    path("t/<slug:team_slug>/members/<uuid:member_id>/", views.member_edit, name="member_edit"),
    path("t/<slug:team_slug>/members/<uuid:member_id>/remove/", views.member_remove, name="member_remove"),
    path("t/<slug:team_slug>/invites/<uuid:invite_id>/revoke/", views.invite_revoke, name="invite_revoke"),
    path("t/<slug:team_slug>/leave/", views.team_leave, name="team_leave"),
    path("t/<slug:team_slug>/settings/", views.team_settings, name="team_settings"),
    path("t/<slug:team_slug>/audit/", views.audit_log, name="audit_log"),
    path("t/<slug:team_slug>/audit.csv", views.audit_csv, name="audit_csv"),
    path("t/<slug:team_slug>/jobs/<str:job_id>/", views.job_status, name="job"),
]
