from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from accounts import urls as accounts_urls
from config import views
from config.jsi18n import javascript_catalog

# The team home shows every app, so its view lives here (config may import them all); it keeps its
# place and name among the team pages: `accounts:team_home`, `/t/<team_slug>/`.
team_pages = [
    path("t/<slug:team_slug>/", views.team_home, name="team_home"),
    *accounts_urls.urlpatterns,
]

urlpatterns = [
    path("", views.home, name="home"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("healthz", views.healthz, name="healthz"),
    path("jsi18n/<str:lang>/", javascript_catalog, name="javascript-catalog"),
    path("accounts/", include("accounts.auth_urls")),
    path("", include((team_pages, accounts_urls.app_name))),
    path("", include("providers.urls")),
    path("", include("prices.urls")),
    path("", include("activations.urls")),
    path("", include("rentals.urls")),
    path("", include("gateway.urls")),
    path("admin/", admin.site.urls),
]

# Error pages keep the team's navigation (config/views.py); 500 is templates/500.html, static and safe.
handler404 = "config.views.page_not_found"
handler403 = "config.views.permission_denied"
handler500 = "config.views.server_error"

if settings.SANDBOX_ENABLED:
    urlpatterns.append(path("sandbox/", include("sandbox.urls")))
