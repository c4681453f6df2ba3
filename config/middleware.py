"""Response headers the whole site shares."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse


class PrivateNoStoreMiddleware:
    """`Cache-Control: private, no-store` on every response to a logged-in member: pages, partials and
    CSV exports hold team data that no shared proxy or browser cache may keep. A response that already
    says `no-store`, or that a view marked `private` on purpose (the nav badge, kept a few seconds by
    this browser only), keeps its own header."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        own = response.get("Cache-Control", "")
        if user is not None and user.is_authenticated and "no-store" not in own and "private" not in own:
            response["Cache-Control"] = "private, no-store"
        return response
