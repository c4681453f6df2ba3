"""Rental pages: the live board and its actions, renting, extending, auto-renew, history and CSV exports.

Thin views: `team_view` checks access first, `selectors.get_rental` looks every rental up
within the member's team (a foreign or unknown id is a 404), selectors read, services write.
"""

import uuid
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.views.decorators.vary import vary_on_headers

from accounts.models import Membership
from accounts.permissions import SpendDenied, team_view
from accounts.services import ActionRefused
from kit import boards
from kit.csv import chosen_flavour, csv_response
from kit.formats import money_text
from kit.phrases import phrase_text
from providers.selectors import service_label
from purchases.services import PurchaseRefused
from rentals import export, selectors
from rentals.filters import HistoryFilters
from rentals.forms import HOUR_CHOICES, AutoRenewForm, ExtendForm, RentChoiceForm, RentForm
from rentals.models import RentalStatus
from rentals.services import (
    ACTIONS,
    RentRequest,
    auto_renew_configure,
    rental_extend,
    rental_rent,
    rental_resolve,
    rental_set_status,
)

# How long a browser keeps the navigation's at-risk badge before asking again.
RISK_BADGE_MAX_AGE = 30


def _context(membership: Membership, **extra: Any) -> dict[str, Any]:
    return {"membership": membership, "team": membership.team, "hour_choices": HOUR_CHOICES, **extra}


def _board_url(membership: Membership) -> str:
    return reverse("rentals:board", args=[membership.team.slug])


# --- the live board ------------------------------------------------------------------------------


def _render_board(
    request: HttpRequest, membership: Membership, *, version: str | None, partial: bool
) -> HttpResponse:
    data = selectors.board(membership, version=version)
    template = "rentals/board.html#board" if partial else "rentals/board.html"
    return render(request, template, _context(membership, board=data))


def _messages_arrived(membership: Membership, client: str, current: str) -> list[dict[str, str]]:
    """SMS of the board received after the client's version (the `rentSmsArrived` event)."""
    seen = selectors.sms_id_of(client)
    if seen is None or selectors.sms_id_of(current) == seen:
        return []
    return [
        {"phone": sms.rental.phone, "code": sms.code, "text": sms.text[:120], "from": sms.phone_from}
        for sms in selectors.new_messages(membership, seen)
    ]


def _risk_badge(request: HttpRequest, membership: Membership) -> HttpResponse:
    """The number of rentals at risk, for the navigation of every team page (loaded by htmx after the
    page, so a page that is not about rentals reads no rental); kept by the browser for a little while."""
    response = render(request, "rentals/includes/risk_badge.html", {"at_risk": selectors.at_risk(membership)})
    patch_cache_control(response, private=True, max_age=RISK_BADGE_MAX_AGE)
    return response


@team_view()
@vary_on_headers("HX-Request")
def board(request: HttpRequest, membership: Membership) -> HttpResponse:
    """Live rentals with their inbox. htmx polls send `?v=`; 204 when nothing changed (one aggregate query),
    else the board and `rentSmsArrived` for new SMS. `?part=risk` is the navigation's at-risk badge."""
    if request.GET.get("part") == "risk":
        return _risk_badge(request, membership)
    return boards.live_board(
        request,
        version=lambda: boards.cached_version(
            membership.team_id, f"rentals:{membership.pk}", lambda: selectors.board_version(membership)
        ),
        page=lambda: _render_board(request, membership, version=None, partial=False),
        partial=lambda token: _render_board(request, membership, version=token, partial=True),
        arrived=lambda client, current: _messages_arrived(membership, client, current),
        event="rentSmsArrived",
    )


def _after_board_post(request: HttpRequest, membership: Membership, level: str, message: str) -> HttpResponse:
    """htmx from the board: the fresh board and a toast; otherwise a flash message and back to the board."""
    return boards.after_action(
        request,
        target="rental-board",
        board=lambda: _render_board(request, membership, version=None, partial=True),
        board_url=_board_url(membership),
        level=level,
        message=message,
    )


@team_view("can_buy", methods=("POST",))
def rental_action(request: HttpRequest, membership: Membership) -> HttpResponse:
    """Finish or cancel one rental (the server checks the state and the 20-minute cancel window)."""
    action = request.POST.get("action", "")
    if action not in ACTIONS:
        return _after_board_post(request, membership, "error", _("Unknown action."))
    rental = selectors.get_rental(membership, request.POST.get("rental"), write=True)
    try:
        rental = rental_set_status(membership=membership, rental=rental, action=action)
    except ActionRefused as exc:
        return _after_board_post(request, membership, "error", exc.message)
    if action == "finish":
        done = _("%(phone)s: finished.") % {"phone": f"+{rental.phone}"}
    else:
        done = _("%(phone)s: cancelled; %(amount)s %(currency)s comes back.") % {
            "phone": f"+{rental.phone}",
            "amount": money_text(rental.cost),
            "currency": rental.currency,
        }
    return _after_board_post(request, membership, "success", done)


@team_view("can_manage_keys", methods=("POST",))
def resolve(request: HttpRequest, membership: Membership) -> HttpResponse:
    """An admin matches a lost rent to the provider's number it was, or records that none was rented."""
    if not request.POST.get("rental"):
        return _after_board_post(request, membership, "error", _("Choose a rental."))
    rental = selectors.get_rental(membership, request.POST.get("rental"), write=True)
    upstream_id = request.POST.get("upstream_id", "").strip()
    try:
        rental = rental_resolve(membership=membership, rental=rental, upstream_id=upstream_id)
    except ActionRefused as exc:
        return _after_board_post(request, membership, "error", exc.message)
    if upstream_id:
        done = _("%(phone)s is recorded as this rent.") % {"phone": f"+{rental.phone}"}
    else:
        done = _("Recorded as not rented.")
    return _after_board_post(request, membership, "success", done)


# --- renting -------------------------------------------------------------------------------------


def _choice(membership: Membership, data: Any) -> RentChoiceForm:
    form = RentChoiceForm(data, membership=membership)
    if not data or not form.is_bound:
        form = RentChoiceForm(
            {
                "api_key": form.fields["api_key"].choices[0][0] if form.fields["api_key"].choices else "",
                "country": 0,
                "operator": "",
                "hours": 4,
            },
            membership=membership,
        )
    return form


def _catalog_for(form: RentChoiceForm) -> selectors.CatalogResult | None:
    if not form.is_valid():
        return None
    data = form.cleaned_data
    return selectors.rent_catalog(
        data["api_key"], country=data["country"], operator=data["operator"], hours=data["hours"]
    )


@team_view("can_buy", methods=("GET", "POST"))
@vary_on_headers("HX-Request")
def rent(request: HttpRequest, membership: Membership) -> HttpResponse:
    """Choose key, country, operator and length; see the services with price and stock; rent one."""
    error = ""
    if request.method == "POST":
        form = RentForm(request.POST, membership=membership)
        if form.is_valid():
            data = form.cleaned_data
            try:
                rental = rental_rent(
                    membership=membership,
                    api_key=data["api_key"],
                    request=RentRequest(
                        service=data["service"],
                        country=data["country"],
                        hours=data["hours"],
                        operator=data["operator"],
                    ),
                    request_token=data["request_token"],
                )
            except (SpendDenied, PurchaseRefused, ActionRefused) as exc:
                error = exc.message
            else:
                if rental.status == RentalStatus.UNKNOWN:
                    messages.warning(request, phrase_text(rental.error_message))
                elif rental.status == RentalStatus.FAILED:
                    messages.error(
                        request, phrase_text(rental.error_message) or _("The number was not rented.")
                    )
                else:
                    messages.success(
                        request,
                        _("Rented %(phone)s for %(service)s until %(end)s.")
                        % {
                            "phone": f"+{rental.phone}",
                            "service": service_label(rental.api_key, rental.service),
                            "end": timezone.localtime(rental.ends_at).strftime("%Y-%m-%d %H:%M"),
                        },
                    )
                return boards.page_redirect(request, _board_url(membership))
        else:
            error = " ".join(form.errors.get("service", []))
        choice = RentChoiceForm(request.POST, membership=membership)
    else:
        choice = _choice(membership, request.GET if "api_key" in request.GET else None)
    catalog = _catalog_for(choice)
    names = selectors.key_catalogue(choice.key)
    context = _context(
        membership,
        form=choice,
        catalog=catalog,
        names=names,
        offers=selectors.offers_by_name(catalog, names),
        error=error,
        request_token=uuid.uuid4(),
    )
    template = "rentals/rent.html#offers" if request.htmx and request.method == "GET" else "rentals/rent.html"
    return render(request, template, context)


# --- one rental: extend and auto-renew --------------------------------------------------------------


@team_view("can_buy", methods=("GET", "POST"))
@vary_on_headers("HX-Request")
def extend(request: HttpRequest, membership: Membership, rental_id: uuid.UUID) -> HttpResponse:
    """Extend by a chosen number of hours (4..1344), price shown first; a finished rental is re-ordered."""
    rental = selectors.get_rental(membership, rental_id, write=True)
    error = ""
    if request.method == "POST":
        form = ExtendForm(request.POST)
        if form.is_valid():
            hours = form.cleaned_data["hours"]
            try:
                renewal = rental_extend(membership=membership, rental=rental, hours=hours)
            except (ActionRefused, SpendDenied) as exc:
                error = exc.message
            else:
                if renewal.status == "unknown":
                    messages.warning(
                        request, _("The provider's answer was lost; checking whether it was extended.")
                    )
                elif renewal.new_rental_id:
                    messages.success(
                        request,
                        _("%(phone)s re-ordered for %(hours)s h under a new id.")
                        % {"phone": f"+{rental.phone}", "hours": hours},
                    )
                else:
                    messages.success(
                        request,
                        _("%(phone)s extended by %(hours)s h, until %(end)s.")
                        % {
                            "phone": f"+{rental.phone}",
                            "hours": hours,
                            "end": timezone.localtime(renewal.new_ends_at).strftime("%Y-%m-%d %H:%M"),
                        },
                    )
                return boards.page_redirect(request, _board_url(membership))
    else:
        form = ExtendForm(request.GET if "hours" in request.GET else None)
    hours = form.cleaned_data["hours"] if form.is_bound and form.is_valid() else 24
    quote = selectors.extend_quote(rental, hours)
    context = _context(membership, rental=rental, form=form, quote=quote, hours=hours, error=error)
    template = (
        "rentals/extend.html#quote" if request.htmx and request.method == "GET" else "rentals/extend.html"
    )
    return render(request, template, context)


@team_view("can_buy", methods=("GET", "POST"))
def auto_renew(request: HttpRequest, membership: Membership, rental_id: uuid.UUID) -> HttpResponse:
    """Set a rental's auto-renew policy: how long before the end, by how much, budget and end date."""
    rental = selectors.get_rental(membership, rental_id, write=True)
    if request.method == "POST":
        form = AutoRenewForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                auto_renew_configure(
                    membership=membership,
                    rental=rental,
                    enabled=data["enabled"],
                    before_hours=data["before_hours"],
                    hours=data["hours"],
                    budget=data["budget"],
                    until=data["until"],
                )
            except ActionRefused as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(
                    request,
                    (
                        _("Auto-renew is on for %(phone)s.")
                        if data["enabled"]
                        else _("Auto-renew is off for %(phone)s.")
                    )
                    % {"phone": f"+{rental.phone}"},
                )
                return boards.page_redirect(request, _board_url(membership))
    else:
        form = AutoRenewForm(
            initial={
                "enabled": rental.auto_renew or not rental.renew_by_id,
                "before_hours": rental.renew_before_hours,
                "hours": rental.renew_hours,
                "budget": rental.renew_budget,
                "until": timezone.localtime(rental.renew_until) if rental.renew_until else None,
            }
        )
    return render(request, "rentals/auto_renew.html", _context(membership, rental=rental, form=form))


# --- history and exports -------------------------------------------------------------------------


@team_view()
def history(request: HttpRequest, membership: Membership) -> HttpResponse:
    """Every rental of the team the member may see, filtered, newest first, keyset-paginated."""
    filters = HistoryFilters(request.GET, membership=membership)
    page = selectors.history(membership, filters, after=request.GET.get("after"))
    context = _context(
        membership,
        form=filters.form,
        filters=filters,
        page=page,
        names=selectors.rows_catalogue(page.rows),
        query_string=filters.query,
    )
    return render(request, "rentals/history.html", context)


@team_view()
def export_rentals(request: HttpRequest, membership: Membership) -> StreamingHttpResponse:
    """The filtered rentals as CSV (Excel or plain, `kit.csv`), streamed, never a secret."""
    filters = HistoryFilters(request.GET, membership=membership)
    flavour = chosen_flavour(request.GET)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return csv_response(
        f"rentals-{membership.team.slug}-{stamp}.csv",
        export.RENTAL_COLUMNS,
        selectors.rentals_for_export(membership, filters, language=flavour.language),
        flavour=flavour,
    )


@team_view()
def export_messages(request: HttpRequest, membership: Membership) -> StreamingHttpResponse:
    """Every SMS of the filtered rentals as CSV, streamed."""
    filters = HistoryFilters(request.GET, membership=membership)
    flavour = chosen_flavour(request.GET)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return csv_response(
        f"rental-messages-{membership.team.slug}-{stamp}.csv",
        export.MESSAGE_COLUMNS,
        selectors.messages_for_export(membership, filters, language=flavour.language),
        flavour=flavour,
    )
