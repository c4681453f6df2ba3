"""Pages of the whole house: `/`, the team home (it shows every app, see `config.home`), liveness."""

from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.vary import vary_on_headers

from accounts.models import Membership
from accounts.permissions import team_view
from accounts.selectors import first_team_of
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


def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness for scripts and load balancers: the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return HttpResponse("ok", content_type="text/plain; charset=utf-8")
