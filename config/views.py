from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from accounts.selectors import first_team_of


def home(request: HttpRequest) -> HttpResponse:
    """`/`: the first team's home for a member, team creation for a user without a team, else login."""
    if not request.user.is_authenticated:
        return redirect("login")
    team = first_team_of(request.user)
    if team is None:
        return redirect("accounts:team_create")
    return redirect("accounts:team_home", team.slug)


def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness for scripts and load balancers: the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return HttpResponse("ok", content_type="text/plain; charset=utf-8")
