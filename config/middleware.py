"""Response headers the whole site shares."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse


class PrivateNoStoreMiddleware:
    """`Cache-Control: private, no-store` on every response to a logged-in member: pages, partials and
    CSV exports hold team data that no shared proxy or browser cache may keep. A response that already
    says `no-store` keeps its own header (it is as strict or stricter)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and "no-store" not in response.get("Cache-Control", ""):
            response["Cache-Control"] = "private, no-store"
        return response
