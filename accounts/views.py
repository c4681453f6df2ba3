"""Team pages: members, invites, settings, the audit log; plus team creation and invite acceptance.
The team home shows every app, so it lives in config/views.py.

Thin views: `team_view` checks access first, selectors read, services write.
"""

import logging

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.mail import send_mail
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods
from django.views.decorators.vary import vary_on_headers

from accounts import selectors, services
from accounts.export import AUDIT_COLUMNS
from accounts.filters import AuditFilters
from accounts.forms import (
    InviteForm,
    LanguageForm,
    MemberForm,
    PreferencesForm,
    SignupForm,
    TeamForm,
    TeamSettingsForm,
)
from accounts.models import Membership
from accounts.permissions import get_invite, get_team_member, team_view
from kit.boards import page_redirect
from kit.csv import chosen_flavour, csv_response
from kit.cursor import Cursor
from kit.jobs import job_get, job_owner, job_tell

logger = logging.getLogger(__name__)

AUDIT_PAGE_SIZE = 50


def _team_context(membership: Membership, **extra) -> dict:
    return {"membership": membership, "team": membership.team, **extra}


# Teams -----------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def team_create(request: HttpRequest) -> HttpResponse:
    """Create a team owned by the current user (also the "create your first team" page)."""
    form = TeamForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        team = services.team_create(user=request.user, name=form.cleaned_data["name"])
        messages.success(request, _("Team “%s” created.") % team.name)
        return page_redirect(request, reverse("accounts:team_home", args=[team.slug]))
    first = not selectors.memberships_of(request.user).exists()
    return render(request, "accounts/team_create.html", {"form": form, "first_team": first})


@team_view("can_manage_members", methods=("GET", "POST"))
def team_settings(request: HttpRequest, membership: Membership) -> HttpResponse:
    """The team's name and its auto-cancel rule (owners and admins)."""
    team = membership.team
    form = TeamSettingsForm(
        request.POST or None,
        initial={
            "name": team.name,
            "auto_cancel_minutes": team.auto_cancel_minutes,
            "time_zone": team.time_zone,
        },
    )
    if request.method == "POST" and form.is_valid():
        services.team_update_settings(membership=membership, **form.cleaned_data)
        messages.success(request, _("Team settings saved."))
        return page_redirect(request, reverse("accounts:team_settings", args=[team.slug]))
    return render(request, "accounts/team_settings.html", _team_context(membership, form=form))


# The member's own preferences (not team-scoped) ----------------------------


@login_required
@require_http_methods(["GET", "POST"])
def preferences(request: HttpRequest) -> HttpResponse:
    """The member's language and time zone, for every page and every team."""
    user = request.user
    team_zones = sorted({m.team.time_zone for m in selectors.memberships_of(user).select_related("team")})
    form = PreferencesForm(
        request.POST or None,
        team_zones=team_zones,
        initial={"language": user.language, "time_zone": user.time_zone},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.user_set_preferences(user=user, **form.cleaned_data)
        except services.ActionRefused as exc:
            form.add_error(None, exc.message)
        else:
            # This answer already speaks the chosen language (or the browser's again).
            translation.activate(user.language or translation.get_language_from_request(request))
            messages.success(request, _("Preferences saved."))
            return redirect("accounts:preferences")
    return render(request, "accounts/preferences.html", {"form": form})


@login_required
@require_http_methods(["POST"])
def set_language(request: HttpRequest) -> HttpResponse:
    """The user menu's language switcher: save the language on the user, then back to the page it was
    chosen on (only a page of this site)."""
    form = LanguageForm(request.POST)
    target = request.POST.get("next") or ""
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("home")
    if form.is_valid():
        services.user_set_preferences(user=request.user, language=form.cleaned_data["language"])
    return redirect(target)


# Members and invites ---------------------------------------------------------


@team_view()
def member_list(request: HttpRequest, membership: Membership) -> HttpResponse:
    """Everyone sees who is in the team; owners and admins also see invites and the actions."""
    team = membership.team
    context = _team_context(
        membership,
        members=selectors.team_members(team),
        invites=selectors.pending_invites(team) if membership.can_manage_members else [],
    )
    return render(request, "accounts/members.html", context)


def _mail_invite(request: HttpRequest, *, email: str, team_name: str, link: str) -> None:
    # In the language of the person invited when they already have an account that chose one.
    with translation.override(selectors.language_of_email(email) or translation.get_language()):
        subject = _("You are invited to %s on simdesk") % team_name
        body = _(
            "%(user)s invites you to the team “%(team)s” on simdesk.\n\nOpen this link to join (it works once):\n%(link)s\n"
        ) % {
            "user": request.user.get_username(),
            "team": team_name,
            "link": link,
        }
    try:
        send_mail(subject, body, None, [email])
    except OSError:
        # The link is on screen anyway; a broken mail server must not lose the invite.
        logger.warning("could not mail an invite for team %s", team_name)
        messages.warning(request, _("The invite mail could not be sent; copy the link instead."))


@team_view("can_manage_members", methods=("GET", "POST"))
def invite_create(request: HttpRequest, membership: Membership) -> HttpResponse:
    """Make a single-use invite link, show it once to copy, and mail it when an email is given."""
    form = InviteForm(request.POST or None, membership=membership)
    link = None
    if request.method == "POST" and form.is_valid():
        try:
            invite, token = services.invite_create(
                membership=membership, role=form.cleaned_data["role"], email=form.cleaned_data["email"]
            )
        except services.ActionRefused as exc:
            form.add_error(None, exc.message)
        else:
            link = request.build_absolute_uri(reverse("accounts:invite_accept", args=[token]))
            if invite.email:
                _mail_invite(request, email=invite.email, team_name=membership.team.name, link=link)
            form = InviteForm(membership=membership)
    context = _team_context(membership, form=form, link=link)
    template = "accounts/invite_create.html#panel" if request.htmx else "accounts/invite_create.html"
    return render(request, template, context)


@team_view("can_manage_members", methods=("POST",))
def invite_revoke(request: HttpRequest, membership: Membership, invite_id) -> HttpResponse:
    invite = get_invite(membership, invite_id)
    try:
        services.invite_revoke(membership=membership, invite=invite)
    except services.ActionRefused as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The invite link no longer works."))
    return redirect("accounts:member_list", membership.team.slug)


@team_view("can_manage_members", methods=("GET", "POST"))
def member_edit(request: HttpRequest, membership: Membership, member_id) -> HttpResponse:
    """Set a member's role and daily spend limit."""
    target = get_team_member(membership, member_id)
    form = MemberForm(request.POST or None, membership=membership, target=target)
    if request.method == "POST" and form.is_valid():
        try:
            services.member_update(
                membership=membership,
                target=target,
                role=form.cleaned_data["role"],
                daily_spend_limit=form.cleaned_data["daily_spend_limit"],
            )
        except services.ActionRefused as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Saved %s.") % target.user.username)
            return page_redirect(request, reverse("accounts:member_list", args=[membership.team.slug]))
    context = _team_context(membership, form=form, target=target)
    template = "accounts/member_edit.html#form" if request.htmx else "accounts/member_edit.html"
    return render(request, template, context)


@team_view("can_manage_members", methods=("POST",))
def member_remove(request: HttpRequest, membership: Membership, member_id) -> HttpResponse:
    target = get_team_member(membership, member_id)
    if target.pk == membership.pk:
        messages.error(request, _("Use “Leave team” to leave."))
        return redirect("accounts:member_list", membership.team.slug)
    try:
        services.member_remove(membership=membership, target=target)
    except services.ActionRefused as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Removed %s from the team.") % target.user.username)
    return redirect("accounts:member_list", membership.team.slug)


@team_view(methods=("POST",))
def team_leave(request: HttpRequest, membership: Membership) -> HttpResponse:
    try:
        services.member_remove(membership=membership, target=membership)
    except services.ActionRefused as exc:
        messages.error(request, exc.message)
        return redirect("accounts:member_list", membership.team.slug)
    messages.success(request, _("You left %s.") % membership.team.name)
    return redirect("home")


# Invite acceptance (not team-scoped: the holder is not a member yet) ---------


@require_http_methods(["GET", "POST"])
def invite_accept(request: HttpRequest, token: str) -> HttpResponse:
    """Show whom the invite is from; a logged-in user joins with one POST, others log in or sign up first."""
    invite = services.invite_lookup(token=token)
    if invite is None or not invite.is_usable:
        return render(request, "accounts/invite_invalid.html", status=404)
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect(f"{reverse('login')}?next={request.path}")
        try:
            joined = services.invite_accept(token=token, user=request.user)
        except services.ActionRefused as exc:
            messages.error(request, exc.message)
            return redirect("home")
        messages.success(request, _("Welcome to %s.") % joined.team.name)
        return redirect("accounts:team_home", joined.team.slug)
    already = (
        request.user.is_authenticated
        and selectors.memberships_of(request.user).filter(team=invite.team).exists()
    )
    return render(
        request, "accounts/invite_accept.html", {"invite": invite, "token": token, "already": already}
    )


@sensitive_post_parameters("password1", "password2")
@require_http_methods(["GET", "POST"])
def invite_signup(request: HttpRequest, token: str) -> HttpResponse:
    """Sign up through a valid invite, then join its team. Sign-up exists only behind an invite."""
    invite = services.invite_lookup(token=token)
    if invite is None or not invite.is_usable:
        return render(request, "accounts/invite_invalid.html", status=404)
    if request.user.is_authenticated:
        return redirect("accounts:invite_accept", token)
    form = SignupForm(request.POST or None, initial={"email": invite.email})
    if request.method == "POST" and form.is_valid():
        user = services.user_signup(
            username=form.cleaned_data["username"],
            email=form.cleaned_data["email"],
            password=form.cleaned_data["password1"],
        )
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        try:
            joined = services.invite_accept(token=token, user=user)
        except services.ActionRefused as exc:
            messages.error(request, exc.message)
            return redirect("home")
        messages.success(request, _("Welcome to %s.") % joined.team.name)
        return redirect("accounts:team_home", joined.team.slug)
    return render(request, "accounts/signup.html", {"form": form, "invite": invite, "token": token})


# Audit log -------------------------------------------------------------------


@team_view("can_view_audit")
@vary_on_headers("HX-Request")
def audit_log(request: HttpRequest, membership: Membership) -> HttpResponse:
    """Every change and money move of the team, filtered, keyset-paginated (`?after=<created_at>,<id>`)."""
    filters = AuditFilters(request.GET, membership=membership)
    page = selectors.audit_page(
        membership.team, filters, after=Cursor.parse(request.GET.get("after")), size=AUDIT_PAGE_SIZE
    )
    context = _team_context(
        membership,
        form=filters.form,
        filters=filters,
        page=page,
        query=filters.query,
        is_first_page=not request.GET.get("after"),
    )
    template = "accounts/audit.html#results" if request.htmx else "accounts/audit.html"
    return render(request, template, context)


@team_view("can_view_audit")
def audit_csv(request: HttpRequest, membership: Membership) -> StreamingHttpResponse:
    """Exactly the entries the audit log's filters show, streamed; a key by its label, never its secret."""
    filters = AuditFilters(request.GET, membership=membership)
    filename = f"audit-{membership.team.slug}-{timezone.localtime():%Y%m%d-%H%M%S}.csv"
    entries = selectors.audit_for_export(membership.team, filters)
    return csv_response(filename, AUDIT_COLUMNS, entries, flavour=chosen_flavour(request.GET))


@team_view()
def job_status(request: HttpRequest, membership: Membership, job_id: str) -> HttpResponse:
    """Poll-and-204 for work the member started (a snapshot, a catalogue or balance refresh): 204 while it
    runs; once it ended, the page reloads with the fresh data and the outcome as a flash message."""
    job = job_get(job_id, owner=job_owner(membership.team))
    if job is None:
        raise Http404
    if not job.finished:
        return HttpResponse(status=204)
    if request.htmx:
        job_tell(request, job)  # shown by the reloaded page
        response = HttpResponse()
        response["HX-Refresh"] = "true"
        return response
    return render(request, "includes/job.html", _team_context(membership, job=job))
