"""The team's API keys: list, add (checked upstream), settings and grants, rotation, status, balance refresh.

These pages live in `providers` because adding a key needs the protocol client, and `accounts` must
not import `providers`. The secret arrives in POST data only; it is never put in a context, a message
or a log line (`sensitive_post_parameters` also keeps it out of Django's error reports).
"""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables

from accounts import selectors
from accounts.models import KeyStatus, Membership
from accounts.permissions import get_api_key, team_view
from accounts.services import (
    ActionRefused,
    api_key_rotate_webhook,
    api_key_set_status,
    api_key_update_settings,
)
from kit.boards import page_redirect, toast
from kit.jobs import job_enqueue, job_follow, job_owner
from providers import services
from providers.forms import ApiKeyAddForm, ApiKeyRotateForm, ApiKeySettingsForm, ApiKeyStatusForm
from providers.tasks import refresh_key_balance


def _context(membership: Membership, **extra) -> dict:
    return {"membership": membership, "team": membership.team, **extra}


def _refusal(membership: Membership, exc: ActionRefused) -> str | SafeString:
    """The refusal as the form shows it; a key entered twice links to the team's copy of it."""
    if isinstance(exc, services.DuplicateKey):
        url = reverse("providers:key_detail", args=[membership.team.slug, exc.existing.public_id])
        return format_html('{} <a href="{}">{}</a>', exc.message, url, _("Open it"))
    return exc.message


@team_view()
def key_list(request: HttpRequest, membership: Membership) -> HttpResponse:
    """Members see the keys with balance and health (operators the keys granted to them); only owners and
    admins get the buttons."""
    show_archived = request.GET.get("archived") == "1"
    keys = selectors.member_keys(membership, include_archived=show_archived)
    return render(
        request, "providers/key_list.html", _context(membership, keys=keys, show_archived=show_archived)
    )


@sensitive_post_parameters("secret")
@team_view("can_manage_keys", methods=("GET", "POST"))
@sensitive_variables("form", "data")  # both hold the typed secret; an error report shows neither
def key_add(request: HttpRequest, membership: Membership) -> HttpResponse:
    """Add a key: getBalance checks the secret before anything is stored."""
    form = ApiKeyAddForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            api_key = services.api_key_create(
                membership=membership,
                label=data["label"],
                profile=data["profile"],
                base_url=data["base_url"],
                secret=data["secret"],
            )
        except ActionRefused as exc:
            form.add_error(None, _refusal(membership, exc))
        else:
            messages.success(request, _("Key “%s” added and checked.") % api_key.label)
            return page_redirect(
                request, reverse("providers:key_detail", args=[membership.team.slug, api_key.public_id])
            )
    template = "providers/key_add.html#form" if request.htmx else "providers/key_add.html"
    return render(request, template, _context(membership, form=form))


@team_view()
def key_detail(request: HttpRequest, membership: Membership, key_id) -> HttpResponse:
    api_key = get_api_key(membership, key_id)
    grants = api_key.allowed_members.select_related("user").order_by("user__username")
    job = job_follow(request, request.GET.get("job"), owner=job_owner(membership.team), kind="balance")
    context = _context(membership, key=api_key, grants=grants, job=job, job_label=_("Asking the provider…"))
    return render(request, "providers/key_detail.html", context)


@team_view("can_manage_keys", methods=("GET", "POST"))
def key_edit(request: HttpRequest, membership: Membership, key_id) -> HttpResponse:
    """Rename; daily budget; maximum price per purchase; which members may use the key."""
    api_key = get_api_key(membership, key_id, write=True)
    form = ApiKeySettingsForm(request.POST or None, api_key=api_key)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            api_key_update_settings(
                membership=membership,
                api_key=api_key,
                label=data["label"],
                daily_budget=data["daily_budget"],
                max_price=data["max_price"],
                restrict_to_members=data["restrict_to_members"],
                allowed_members=list(data["allowed_members"]),
            )
        except ActionRefused as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Saved the settings of “%s”.") % api_key.label)
            return page_redirect(
                request, reverse("providers:key_detail", args=[membership.team.slug, api_key.public_id])
            )
    template = "providers/key_edit.html#form" if request.htmx else "providers/key_edit.html"
    return render(request, template, _context(membership, key=api_key, form=form))


@sensitive_post_parameters("secret")
@team_view("can_manage_keys", methods=("GET", "POST"))
@sensitive_variables("form")  # it holds the typed secret; an error report never shows it
def key_rotate(request: HttpRequest, membership: Membership, key_id) -> HttpResponse:
    """Re-enter the secret (the provider issued a new one); checked upstream before it replaces the old one."""
    api_key = get_api_key(membership, key_id, write=True)
    form = ApiKeyRotateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if api_key.status == KeyStatus.ARCHIVED:
            form.add_error(None, _("An archived key cannot be used again; add it anew."))
        else:
            try:
                services.api_key_rotate_secret(
                    membership=membership, api_key=api_key, secret=form.cleaned_data["secret"]
                )
            except ActionRefused as exc:
                form.add_error(None, _refusal(membership, exc))
            else:
                messages.success(request, _("The new secret of “%s” works and is saved.") % api_key.label)
                return page_redirect(
                    request, reverse("providers:key_detail", args=[membership.team.slug, api_key.public_id])
                )
    template = "providers/key_rotate.html#form" if request.htmx else "providers/key_rotate.html"
    return render(request, template, _context(membership, key=api_key, form=form))


@team_view("can_manage_keys", methods=("POST",))
def key_webhook_rotate(request: HttpRequest, membership: Membership, key_id) -> HttpResponse:
    """Give the key a new webhook URL, shown on the key's page; the old URL stops working at once."""
    api_key = get_api_key(membership, key_id, write=True)
    try:
        api_key_rotate_webhook(membership=membership, api_key=api_key)
    except ActionRefused as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _(
                "“%s” has a new webhook URL and the old one no longer works. Paste the new one into your "
                "account's settings at the provider."
            )
            % api_key.label,
        )
    url = reverse("providers:key_detail", args=[membership.team.slug, api_key.public_id])
    return redirect(f"{url}#webhook")


@team_view("can_manage_keys", methods=("POST",))
def key_status(request: HttpRequest, membership: Membership, key_id) -> HttpResponse:
    """Disable, enable or archive."""
    api_key = get_api_key(membership, key_id, write=True)
    form = ApiKeyStatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose what to do with the key."))
    else:
        try:
            api_key_set_status(membership=membership, api_key=api_key, status=form.cleaned_data["status"])
        except ActionRefused as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request,
                _("“%(label)s” is now %(status)s.")
                % {"label": api_key.label, "status": api_key.get_status_display().lower()},
            )
    return redirect("providers:key_detail", membership.team.slug, api_key.public_id)


@team_view("can_buy", methods=("POST",))
def key_refresh(request: HttpRequest, membership: Membership, key_id) -> HttpResponse:
    """Ask the provider for the balance, in the worker: htmx swaps the balance cell for one that follows
    the job (poll-and-204), a plain POST goes back to the key, which shows the job. Only members who may
    act with the key ask upstream with it (viewers get 403, operators need a grant)."""
    api_key = get_api_key(membership, key_id, write=True)
    if api_key.status == KeyStatus.ARCHIVED:
        message = _("An archived key is not checked any more.")
        if request.htmx:
            response = render(request, "providers/key_list.html#balance", _context(membership, key=api_key))
            return toast(response, message)
        messages.info(request, message)
        return redirect("providers:key_detail", membership.team.slug, api_key.public_id)
    job = job_enqueue(refresh_key_balance, api_key.pk, kind="balance", owner=job_owner(membership.team))
    if request.htmx:
        context = _context(membership, key=api_key, job=job, job_label=_("Asking the provider…"))
        return render(request, "providers/key_list.html#balance", context)
    url = reverse("providers:key_detail", args=[membership.team.slug, api_key.public_id])
    return redirect(url + "?" + urlencode({"job": job.id}))
