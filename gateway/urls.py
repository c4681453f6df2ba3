from django.urls import include, path

from gateway import protocol, views

# The team's pages about its gateway keys (`gateway:key_list`...), under the team like every team page;
# the protocol's URL keeps its plain name (`gateway_handler_api`).
team_patterns = [
    path("t/<slug:team_slug>/gateway/", views.key_list, name="key_list"),
    path("t/<slug:team_slug>/gateway/new/", views.key_create, name="key_create"),
    path("t/<slug:team_slug>/gateway/<uuid:gateway_key_id>/revoke/", views.key_revoke, name="key_revoke"),
    path("t/<slug:team_slug>/gateway/routes/", views.route_list, name="route_list"),
    path("t/<slug:team_slug>/gateway/routes/new/", views.route_edit, name="route_create"),
    path("t/<slug:team_slug>/gateway/routes/<uuid:route_id>/", views.route_edit, name="route_edit"),
    path(
        "t/<slug:team_slug>/gateway/routes/<uuid:route_id>/delete/", views.route_delete, name="route_delete"
    ),
]

urlpatterns = [
    # Where every client library looks for the protocol: only the host changes for a script.
    path("stubs/handler_api.php", protocol.handler_api, name="gateway_handler_api"),
    path("", include((team_patterns, "gateway"))),
]
