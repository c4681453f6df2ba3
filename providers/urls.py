"""Key management pages, under /t/<team_slug>/keys/."""

from django.urls import path

from providers import views

app_name = "providers"

urlpatterns = [
    path("t/<slug:team_slug>/keys/", views.key_list, name="key_list"),
    path("t/<slug:team_slug>/keys/new/", views.key_add, name="key_add"),
    path("t/<slug:team_slug>/keys/<uuid:key_id>/", views.key_detail, name="key_detail"),
    path("t/<slug:team_slug>/keys/<uuid:key_id>/edit/", views.key_edit, name="key_edit"),
    path("t/<slug:team_slug>/keys/<uuid:key_id>/rotate/", views.key_rotate, name="key_rotate"),
    path("t/<slug:team_slug>/keys/<uuid:key_id>/status/", views.key_status, name="key_status"),
    path("t/<slug:team_slug>/keys/<uuid:key_id>/refresh/", views.key_refresh, name="key_refresh"),
    path(
        "t/<slug:team_slug>/keys/<uuid:key_id>/webhook/rotate/",
        views.key_webhook_rotate,
        name="key_webhook_rotate",
    ),
]
