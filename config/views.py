"""Pages of the whole house: `/`, the team home (it shows every app, see `config.home`), liveness, the
favicon and the 404 and 403 pages (the 500 page is the static `500.html`, rendered by Django's own handler)."""

import re

from django.core.exceptions import DisallowedHost
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponsePermanentRedirect,
    HttpResponseServerError,
    JsonResponse,
)
from django.shortcuts import redirect, render
from django.template import loader
from django.templatetags.static import static
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.vary import vary_on_headers

from accounts.models import Membership
from accounts.permissions import team_view
from accounts.selectors import first_team_of
from config import liveness
from config.home import TeamHome, home_for
from kit import boards


def home(request: HttpRequest) -> HttpResponse:
    """`/`: the first team's home for a member, team creation for a user without a team, else login."""
    if not request.user.is_authenticated:
        return redirect("login")
    team = first_team_of(request.user)
    if team is None:
        return redirect("accounts:team_create")
    return redirect("accounts:team_home", team.slug)


@team_view()
@vary_on_headers("HX-Request")
def team_home(request: HttpRequest, membership: Membership) -> HttpResponse:
    """Balances, today's spend, key warnings, price alerts and rentals at risk. The summary partial polls
    itself with its version token (`?v=`): 204 while nothing it shows changed."""
    home = home_for(membership)

    def show(template: str) -> HttpResponse:
        return render(request, template, _home_context(membership, home))

    return boards.live_board(
        request,
        version=lambda: home.version,
        page=lambda: show("accounts/team_home.html"),
        partial=lambda _token: show("accounts/team_home.html#summary"),
    )


def _home_context(membership: Membership, home: TeamHome) -> dict:
    return {"membership": membership, "team": membership.team, "home": home, "summary": home.summary}


@never_cache
def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness for monitors and load balancers, public like most: the database (and its latency), the broker,
    beat's last tick and the oldest poll lag of the keys due, as JSON; 503 only when the database is down
    (`config.liveness.health`). Counts and ages only: no team, key or address."""
    status, body = liveness.health()
    return JsonResponse(body, status=status)


def favicon(request: HttpRequest) -> HttpResponse:
    """`/favicon.ico`, which browsers ask for whatever the page links: the SVG icon in static/."""
    return HttpResponsePermanentRedirect(static("img/favicon.svg"))


TEAM_PATH = re.compile(r"^/t/(?P<slug>[-\w]+)/")


def _back_url(request: HttpRequest) -> str:
    """The page the reader came from, when it is on this site; else ""."""
    referer = request.META.get("HTTP_REFERER", "")
    try:
        host = request.get_host()
    except DisallowedHost:  # a Host header that is not ours: no way back but home
        return ""
    if referer and url_has_allowed_host_and_scheme(
        referer, allowed_hosts={host}, require_https=request.is_secure()
    ):
        return referer
    return ""


def _error_context(request: HttpRequest) -> dict:
    """What an error page needs to keep the reader oriented: the team of the URL with its navigation when the
    reader is its member (an outsider learns nothing about the team), and where "back" leads."""
    context: dict = {"back_url": _back_url(request)}
    match = TEAM_PATH.match(request.path_info)
    user = getattr(request, "user", None)
    if match and user is not None and user.is_authenticated:
        membership = (
            Membership.objects.select_related("team", "user")
            .filter(team__slug=match["slug"], user=user)
            .first()
        )
        if membership is not None:
            context.update(team=membership.team, membership=membership)
    return context


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """404 inside the site's frame: the team navigation stays for a member, with a way back."""
    return render(request, "404.html", _error_context(request), status=404)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    """403 inside the site's frame: the team navigation stays, with a way back."""
    return render(request, "403.html", _error_context(request), status=403)


def server_error(request: HttpRequest) -> HttpResponse:
    """500: the static `500.html` with a way back, rendered without the request's context processors, so
    nothing here touches the database or the session that may be what failed."""
    try:
        return HttpResponseServerError(
            loader.get_template("500.html").render({"back_url": _back_url(request)})
        )
    except Exception:  # the page itself must not fail
        return HttpResponseServerError("<h1>Server Error (500)</h1>")
