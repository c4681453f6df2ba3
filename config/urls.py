from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from config import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/", include("accounts.auth_urls")),
    path("", include("accounts.urls")),
    path("", include("providers.urls")),
    path("", include("prices.urls")),
    path("", include("activations.urls")),
    path("", include("rentals.urls")),
    path("admin/", admin.site.urls),
]

if settings.SANDBOX_ENABLED:
    urlpatterns.append(path("sandbox/", include("sandbox.urls")))
