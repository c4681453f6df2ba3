"""Each request speaks the reader's language and shows times in the reader's time zone.

Language: the one the member saved (`User.language`), else what Django's LocaleMiddleware read from the
browser (Accept-Language). Time zone: the member's own (`User.time_zone`), else, on a team's page, the
team's (set by `team_view` once it knows the membership, so no page pays a query for it), else UTC.
"""

import zoneinfo
from collections.abc import Callable
from datetime import tzinfo

from django.core.signals import request_finished
from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation

from accounts.models import Team


def user_zone(user, team: Team | None = None) -> tzinfo | None:
    """The zone the user chose; else the team's; None when neither says (the caller's default applies)."""
    name = getattr(user, "time_zone", "") if user is not None and user.is_authenticated else ""
    if name:
        try:
            return zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            pass
    return team.zone if team is not None else None


def activate_team_zone(request: HttpRequest, team: Team) -> None:
    """On a team's page: the member's own zone, else the team's (called by `team_view`)."""
    timezone.activate(user_zone(getattr(request, "user", None), team) or zoneinfo.ZoneInfo("UTC"))


class PreferencesMiddleware:
    """After AuthenticationMiddleware and LocaleMiddleware: the member's saved language and time zone."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.language:
            translation.activate(user.language)
            request.LANGUAGE_CODE = translation.get_language()
        timezone.activate(user_zone(user) or zoneinfo.ZoneInfo("UTC"))
        return self.get_response(request)


def _forget_reader(**kwargs) -> None:
    # Once the response is closed (a streamed CSV after its last row), the thread serves someone else:
    # nothing it does next (another request, a test) may speak this member's language or zone.
    timezone.deactivate()
    translation.deactivate()


request_finished.connect(_forget_reader, dispatch_uid="accounts.middleware.forget_reader")
