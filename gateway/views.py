"""The team's gateway keys, under /t/<team_slug>/gateway/: list, issue (the key shown once), revoke; and its
routes across keys, under /t/<team_slug>/gateway/routes/."""

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables

from accounts.models import Membership
from accounts.permissions import team_view
from accounts.services import ActionRefused
from gateway import selectors, services
from gateway.forms import GatewayKeyForm, RouteForm


def _context(membership: Membership, **extra) -> dict:
    return {"membership": membership, "team": membership.team, **extra}


def gateway_url() -> str:
    """Where a script sends its requests: the site's own `/stubs/handler_api.php`."""
    return settings.SITE_URL.rstrip("/") + reverse("gateway_handler_api")


@team_view()
def key_list(request: HttpRequest, membership: Membership) -> HttpResponse:
    """Members see the gateway keys of the upstream keys they see; only owners and admins get the buttons."""
    keys = selectors.gateway_keys_for(membership)
    return render(
        request, "gateway/key_list.html", _context(membership, keys=keys, gateway_url=gateway_url())
    )


@team_view("can_manage_keys", methods=("GET", "POST"))
@sensitive_variables("plain")  # the new key: an error report never shows it
def key_create(request: HttpRequest, membership: Membership) -> HttpResponse:
    """Issue a gateway key; the page after a successful POST is the only place the key is ever shown."""
    form = GatewayKeyForm(request.POST or None, membership=membership)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            gateway_key, plain = services.gateway_key_create(
                membership=membership,
                label=data["label"],
                api_key=data["api_key"],
                route=data["route"],
                member=data["member"],
                daily_budget=data["daily_budget"],
                max_price=data["max_price"],
                services=data["services"],
                countries=data["countries"],
                read_only=data["read_only"],
            )
        except ActionRefused as exc:
            form.add_error(None, exc.message)
        else:
            context = _context(membership, key=gateway_key, plain=plain, gateway_url=gateway_url())
            response = render(request, "gateway/key_created.html", context)
            # Never kept by a browser or a proxy: going back or reloading cannot show the key again.
            response["Cache-Control"] = "private, no-store"
            return response
    return render(request, "gateway/key_create.html", _context(membership, form=form))


@team_view("can_manage_keys", methods=("POST",))
def key_revoke(request: HttpRequest, membership: Membership, gateway_key_id) -> HttpResponse:
    gateway_key = selectors.get_gateway_key(membership, gateway_key_id, write=True)
    try:
        services.gateway_key_revoke(membership=membership, gateway_key=gateway_key)
    except ActionRefused as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, _("The gateway key “%s” is revoked: scripts using it get BAD_KEY.") % gateway_key.label
        )
    return redirect("gateway:key_list", membership.team.slug)


@team_view()
def route_list(request: HttpRequest, membership: Membership) -> HttpResponse:
    return render(
        request, "gateway/route_list.html", _context(membership, routes=selectors.routes_for(membership))
    )


@team_view("can_manage_keys", methods=("GET", "POST"))
def route_edit(request: HttpRequest, membership: Membership, route_id=None) -> HttpResponse:
    """Make a route, or change one (`route_id`)."""
    route = selectors.get_route(membership, route_id, write=True) if route_id is not None else None
    initial = RouteForm.initial_for(route) if route is not None else None
    form = RouteForm(request.POST or None, membership=membership, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.route_save(
                membership=membership,
                name=form.cleaned_data["name"],
                rule=form.cleaned_data["rule"],
                api_keys=form.ordered_keys(),
                route=route,
            )
        except ActionRefused as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("The route “%s” is saved.") % saved.name)
            return redirect("gateway:route_list", membership.team.slug)
    return render(request, "gateway/route_edit.html", _context(membership, form=form, route=route))


@team_view("can_manage_keys", methods=("POST",))
def route_delete(request: HttpRequest, membership: Membership, route_id) -> HttpResponse:
    route = selectors.get_route(membership, route_id, write=True)
    try:
        services.route_delete(membership=membership, route=route)
    except ActionRefused as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The route “%s” is deleted.") % route.name)
    return redirect("gateway:route_list", membership.team.slug)
