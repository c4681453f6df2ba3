"""The product's URLs plus one bench-only route: a bare view answering 204, the board's yardstick."""

from django.http import HttpRequest, HttpResponse
from django.urls import include, path


def bare_204(request: HttpRequest) -> HttpResponse:
    """Nothing but an empty 204, through the same middleware as every page."""
    return HttpResponse(status=204)


urlpatterns = [
    path("bench/bare-204", bare_204, name="bench-bare-204"),
    path("", include("config.urls")),
]

handler404 = "config.views.page_not_found"
handler403 = "config.views.permission_denied"
handler500 = "config.views.server_error"
