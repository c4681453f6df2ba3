"""Activation pages: the buy form, the live board and its actions, presets.

Thin views: `team_view` checks access first, selectors read, services write. Object ids arrive
in POST data or the query string and are always looked up within the member's team (a foreign or
unknown id is a 404).
"""

import functools
import uuid
from typing import Any

from django.contrib import messages
from django.db import connection
from django.http import HttpRequest, HttpResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.vary import vary_on_headers

from accounts.models import ApiKey, Membership
from accounts.permissions import SpendDenied, keys_usable_by, team_view
from accounts.services import ActionRefused
from activations import calls, export, extra, presets, selectors
from activations.filters import BoardFilters, HistoryFilters, LedgerFilters
from activations.forms import (
    AdditionalServiceForm,
    BuyForm,
    CallTaskForm,
    MultiBuyForm,
    PresetForm,
)
from activations.models import Activation, ActivationStatus
from activations.selectors import BoardVersion
from activations.services import (
    ACTIONS,
    BuyRequest,
    activation_buy,
    activation_buy_routed,
    activation_resolve,
    activation_set_status,
    activations_bulk_set_status,
)
from kit import boards
from kit.csv import chosen_flavour, csv_response, stream_download
from kit.cursor import Cursor
from kit.phrases import phrase_text
from providers import selectors as catalog
from purchases.services import PurchaseRefused


def _context(membership: Membership, **extra: Any) -> dict[str, Any]:
    return {"membership": membership, "team": membership.team, **extra}


def _board_url(membership: Membership) -> str:
    return reverse("activations:board", args=[membership.team.slug])


def _parse_uuid(raw: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(raw))
    except (TypeError, ValueError):
        return None


def _outcome_message(activation: Activation) -> tuple[str, str]:
    """(level, text) telling the member what came of a purchase that did not raise."""
    if activation.status == ActivationStatus.UNKNOWN:
        return "warning", phrase_text(activation.error_message) or _(
            "The outcome is unknown; checking with the provider."
        )
    if activation.status == ActivationStatus.FAILED:
        return "error", phrase_text(activation.error_message) or _("The number was not bought.")
    named = {
        "phone": activation.phone or "…",
        "service": catalog.service_label(activation.api_key, activation.service),
    }
    if activation.route_id is not None:
        # Through a route: which of its keys sold.
        return "success", _("Bought +%(phone)s for %(service)s at “%(key)s” (route “%(route)s”).") % {
            **named,
            "key": activation.api_key.label,
            "route": activation.route.name,
        }
    return "success", _("Bought +%(phone)s for %(service)s.") % named


# --- the live board ------------------------------------------------------------------------------


def _board_filters(request: HttpRequest, membership: Membership) -> BoardFilters:
    """The board's filters and order from the query string (a poll's URL and an action's carry them)."""
    return BoardFilters(request.GET, membership=membership)


def _render_board(
    request: HttpRequest, membership: Membership, *, version: BoardVersion | None = None, partial: bool
) -> HttpResponse:
    filters = _board_filters(request, membership)
    data = selectors.board(membership, filters=filters, version=version, allow_fetch=not partial)
    template = "activations/board.html#board" if partial else "activations/board.html"
    context = _context(membership, board=data, actions=ACTIONS, filters=filters, form=filters.form)
    return render(request, template, context)


def _codes_arrived(
    membership: Membership, filters: BoardFilters, client: str, current: str
) -> list[dict[str, str]]:
    """Codes of the board received after the client's version (the `codeArrived` event), with the
    service's name for a desktop notification."""
    seen, now = BoardVersion.parse(client), BoardVersion.parse(current)
    if seen is None or now is None or now.last_sms <= seen.last_sms:
        return []
    codes = selectors.new_codes(membership, seen, filters)
    rows = {row.activation.pk: row for row in selectors.label_rows(sms.activation for sms in codes)}
    return [
        {
            "phone": sms.activation.phone,
            "code": sms.code,
            "service": rows[sms.activation.pk].service_name or sms.activation.service,
        }
        for sms in codes
    ]


@team_view()
@vary_on_headers("HX-Request")
def board(request: HttpRequest, membership: Membership) -> HttpResponse:
    """Live activations, recent closings and key warnings, narrowed and sorted by the query string. htmx
    polls send `?v=` with the filters; 204 when nothing changed (one aggregate query), else the board and
    `codeArrived` for new codes."""
    # Made only when the version is read afresh or the board drawn: an unchanged poll needs none.
    filters = functools.cache(lambda: _board_filters(request, membership))
    return boards.live_board(
        request,
        version=lambda: boards.cached_version(
            membership.team_id,
            f"activations:{membership.pk}:{BoardFilters.query_of(request.GET)}",
            lambda: selectors.board_version(membership, filters()).token,
        ),
        page=lambda: _render_board(request, membership, partial=False),
        partial=lambda token: _render_board(
            request, membership, version=BoardVersion.parse(token), partial=True
        ),
        arrived=lambda client, current: _codes_arrived(membership, filters(), client, current),
        event="codeArrived",
    )


def _after_board_post(request: HttpRequest, membership: Membership, level: str, message: str) -> HttpResponse:
    """htmx from the board: the fresh board and a toast; otherwise a flash message and back to the board."""
    query = _board_filters(request, membership).query
    return boards.after_action(
        request,
        target="board",
        board=lambda: _render_board(request, membership, partial=True),
        board_url=_board_url(membership) + (f"?{query}" if query else ""),
        level=level,
        message=message,
    )


@team_view("can_buy", methods=("POST",))
def activation_action(request: HttpRequest, membership: Membership) -> HttpResponse:
    """Report SMS sent, ask for another code, finish or cancel one activation (the server checks the state)."""
    action = request.POST.get("action", "")
    if action not in ACTIONS:
        return _after_board_post(request, membership, "error", _("Unknown action."))
    activation = selectors.get_activation(membership, request.POST.get("activation"), write=True)
    try:
        activation_set_status(membership=membership, activation=activation, action=action)
    except ActionRefused as exc:
        return _after_board_post(request, membership, "error", exc.message)
    done = {
        "ready": _("+%(phone)s: the provider knows the SMS was sent."),
        "another": _("+%(phone)s: waiting for another code."),
        "finish": _("+%(phone)s: finished."),
        "cancel": _("+%(phone)s: cancelled; the money comes back."),
    }[action] % {"phone": activation.phone}
    return _after_board_post(request, membership, "success", done)


@team_view("can_buy", methods=("POST",))
def activation_bulk(request: HttpRequest, membership: Membership) -> HttpResponse:
    """Finish every listed number with a code, or cancel every listed one waiting past its lock: the
    numbers the member confirmed (by id), each one checked and closed as a single action would."""
    action = request.POST.get("action", "")
    if action not in selectors.BULK_ACTIONS:
        return _after_board_post(request, membership, "error", _("Unknown action."))
    targets = selectors.bulk_targets(membership, action, request.POST.getlist("activation"))
    if not targets:
        return _after_board_post(request, membership, "info", _("No number is in a state for this any more."))
    outcome = activations_bulk_set_status(membership=membership, activations=targets, action=action)
    done = len(outcome.done)
    if action == "finish":
        text = ngettext("Finished %(count)d number", "Finished %(count)d numbers", done) % {"count": done}
    else:
        text = ngettext("Cancelled %(count)d number", "Cancelled %(count)d numbers", done) % {"count": done}
    if outcome.failed:
        failed = len(outcome.failed)
        reasons = "; ".join(f"+{row.phone}: {reason}" for row, reason in outcome.failed)
        text += ", " + ngettext("%(count)d failed: %(reasons)s", "%(count)d failed: %(reasons)s", failed) % {
            "count": failed,
            "reasons": reasons,
        }
    level = "success" if not outcome.failed else ("warning" if done else "error")
    return _after_board_post(request, membership, level, text)


@team_view("can_manage_keys", methods=("POST",))
def resolve(request: HttpRequest, membership: Membership) -> HttpResponse:
    """An admin matches a lost purchase to the provider's number it was, or records that none was sold."""
    if not request.POST.get("activation"):
        return _after_board_post(request, membership, "error", _("Choose a purchase."))
    activation = selectors.get_activation(membership, request.POST.get("activation"), write=True)
    upstream_id = request.POST.get("upstream_id", "").strip()
    try:
        activation_resolve(membership=membership, activation=activation, upstream_id=upstream_id)
    except ActionRefused as exc:
        return _after_board_post(request, membership, "error", exc.message)
    if upstream_id:
        done = _("+%(phone)s is recorded as this purchase.") % {"phone": activation.phone}
    else:
        done = _("Recorded as not bought.")
    return _after_board_post(request, membership, "success", done)


# --- buying --------------------------------------------------------------------------------------


def _chosen_key(membership: Membership, data: QueryDict) -> ApiKey | None:
    """The key named in the request if the member may use it, else their first usable key."""
    keys = keys_usable_by(membership).order_by("label")
    public_id = _parse_uuid(data.get("api_key"))
    chosen = keys.filter(public_id=public_id).first() if public_id else None
    return chosen or keys.first()


def _catalog_lists(api_key: ApiKey | None) -> tuple[list[catalog.Option], list[catalog.Option], bool]:
    """(countries, services, available) of the key's provider; empty lists when it cannot be read."""
    if api_key is None:
        return [], [], False
    try:
        countries = catalog.countries(api_key)
        services = catalog.services(api_key)
    except catalog.CatalogUnavailable:
        return [], [], False
    return countries, services, True


def _buy_form(
    membership: Membership, data: QueryDict | None, api_key: ApiKey | None, **initial: Any
) -> BuyForm:
    countries, services, _available = _catalog_lists(api_key)
    return BuyForm(
        data,
        membership=membership,
        countries=countries,
        services=services,
        initial={"api_key": api_key.public_id if api_key else None, **initial},
    )


def _buy_context(
    membership: Membership, form: BuyForm, api_key: ApiKey | None, **extra: Any
) -> dict[str, Any]:
    _countries, _services, available = _catalog_lists(api_key)
    presets = selectors.usable_presets(membership)
    return _context(
        membership,
        form=form,
        api_key=api_key,
        catalog_available=available,
        presets=presets,
        # Presets of every key are named from their own providers' catalogues.
        preset_names=catalog.catalogue_for({preset.api_key for preset in presets}),
        preset_token=uuid.uuid4(),
        **extra,
    )


@team_view("can_buy", methods=("GET", "POST"))
@vary_on_headers("HX-Request")
def buy(request: HttpRequest, membership: Membership) -> HttpResponse:
    """Buy one number. Errors (ours or the provider's) re-render the form with a clear message, status 200."""
    source = request.POST if request.method == "POST" else request.GET
    api_key = _chosen_key(membership, source)
    if request.method == "POST":
        form = _buy_form(membership, request.POST, api_key)
        if form.is_valid():
            data = form.cleaned_data
            wanted = BuyRequest(
                service=data["service"],
                country=data["country"],
                operator=",".join(data["operator"]),
                max_price=data["max_price"],
                forward=data["forward"],
                verification=data["verification"],
                phone_exception=data["phone_exception"],
            )
            try:
                if data["route"] is not None:
                    activation = activation_buy_routed(
                        membership=membership,
                        route=data["route"],
                        reference=data["api_key"],
                        request=wanted,
                        request_token=data["request_token"],
                    )
                else:
                    activation = activation_buy(
                        membership=membership,
                        api_key=data["api_key"],
                        request=wanted,
                        request_token=data["request_token"],
                    )
            except (SpendDenied, PurchaseRefused) as exc:
                form.add_error(None, exc.message)
            else:
                level, text = _outcome_message(activation)
                if activation.status == ActivationStatus.FAILED:
                    form.add_error(None, text)
                else:
                    messages.add_message(request, boards.LEVELS[level], text)
                    return boards.page_redirect(request, _board_url(membership))
        # A refused purchase spent nothing: a fresh token lets the member try again with changes.
        form.data = form.data.copy()
        form.data["request_token"] = str(uuid.uuid4())
    else:
        # A change of key re-renders the form (htmx) with the other provider's lists, keeping the choice.
        keep = {name: source.get(name) for name in ("service", "country", "max_price") if source.get(name)}
        form = _buy_form(membership, None, api_key, **keep)
    context = _buy_context(membership, form, api_key)
    template = "activations/buy.html#panel" if request.htmx else "activations/buy.html"
    return render(request, template, context)


@team_view("can_buy")
def buy_offer(request: HttpRequest, membership: Membership) -> HttpResponse:
    """The price and stock of the chosen service and country, and the country's operators (htmx partial)."""
    api_key = _chosen_key(membership, request.GET)
    form = _buy_form(membership, request.GET, api_key)
    form.is_valid()
    data = form.cleaned_data
    offer = operators = None
    error = ""
    service, country = data.get("service"), data.get("country")
    if api_key is not None and service and country is not None:
        try:
            offer = catalog.offer(api_key, service=service, country=country)
        except catalog.CatalogUnavailable:
            error = _("The provider did not tell the price; you can still buy.")
        try:
            operators = catalog.operators(api_key, country)
        except catalog.CatalogUnavailable:
            operators = []
    names = {
        "service_name": next((o.name for o in form.services if o.code == service), ""),
        "country_name": next((o.name for o in form.countries if o.code == str(country)), ""),
    }
    context = _context(
        membership,
        form=form,
        api_key=api_key,
        offer=offer,
        operators=operators,
        chosen_operators=request.GET.getlist("operator"),
        offer_error=error,
        service=service,
        country=country,
        **names,
    )
    return render(request, "activations/buy.html#offer", context)


# --- presets -------------------------------------------------------------------------------------


@team_view("can_buy", methods=("POST",))
def preset_save(request: HttpRequest, membership: Membership) -> HttpResponse:
    """Save the buy form's current choice as a named preset."""
    api_key = _chosen_key(membership, request.POST)
    countries, services, _available = _catalog_lists(api_key)
    form = PresetForm(request.POST, membership=membership, countries=countries, services=services)
    if form.is_valid():
        data = form.cleaned_data
        try:
            preset = presets.preset_save(
                membership=membership,
                api_key=data["api_key"],
                name=data["name"],
                service=data["service"],
                country=data["country"],
                operator=",".join(data["operator"]),
                max_price=data["max_price"],
            )
        except ActionRefused as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Saved the preset “%s”.") % preset.name)
            return boards.page_redirect(request, reverse("activations:buy", args=[membership.team.slug]))
    # Re-render the buy form with the preset's errors on it.
    buy_form = _buy_form(membership, request.POST, api_key)
    buy_form.is_valid()
    for error in form.non_field_errors():
        buy_form.add_error(None, error)
    context = _buy_context(membership, buy_form, api_key, preset_form=form)
    template = "activations/buy.html#panel" if request.htmx else "activations/buy.html"
    return render(request, template, context)


@team_view("can_buy", methods=("POST",))
def preset_buy(request: HttpRequest, membership: Membership) -> HttpResponse:
    """One-click "buy again" with a preset of the team (from the board or the buy page)."""
    if not request.POST.get("preset"):
        return _after_board_post(request, membership, "error", _("Choose a preset."))
    preset = selectors.get_preset(membership, request.POST.get("preset"), write=True)
    try:
        activation = presets.preset_buy(
            membership=membership, preset=preset, request_token=_parse_uuid(request.POST.get("request_token"))
        )
    except (SpendDenied, PurchaseRefused) as exc:
        return _after_board_post(request, membership, "error", f"{preset.name}: {exc.message}")
    level, text = _outcome_message(activation)
    return _after_board_post(request, membership, level, text)


@team_view("can_buy")
def preset_check(request: HttpRequest, membership: Membership) -> HttpResponse:
    """The price a preset buys at now (the catalogue's offer), with the one button that buys it: a
    one-click repeat buy shows what it will spend and asks once. Reading it spends nothing."""
    if not request.GET.get("preset"):
        return render(request, "activations/preset_confirm.html", _context(membership, preset=None))
    preset = selectors.get_preset(membership, request.GET.get("preset"), write=True)
    offer = None
    error = ""
    try:
        offer = catalog.offer(preset.api_key, service=preset.service, country=preset.country)
    except catalog.CatalogUnavailable:
        error = _("The provider did not tell the price; you can still buy.")
    query = _board_filters(request, membership).query
    countries, services = catalog.names(preset.api_key)
    context = _context(
        membership,
        preset=preset,
        service_name=services.get(preset.service, ""),
        country_name=countries.get(str(preset.country), ""),
        offer=offer,
        offer_error=error,
        over_max=offer is not None and preset.max_price is not None and offer.cost > preset.max_price,
        on_board=request.GET.get("target") == "board",
        post_suffix=f"?{query}" if query else "",
        token=uuid.uuid4(),
    )
    template = (
        "activations/preset_confirm.html#confirm" if request.htmx else "activations/preset_confirm.html"
    )
    return render(request, template, context)


@team_view("can_buy")
def key_balance(request: HttpRequest, membership: Membership) -> HttpResponse:
    """The chosen key's balance, as shown under a key choice (htmx partial of the buy forms)."""
    return render(request, "includes/key_balance.html", {"key": _chosen_key(membership, request.GET)})


@team_view("can_buy", methods=("POST",))
def preset_delete(request: HttpRequest, membership: Membership) -> HttpResponse:
    if not request.POST.get("preset"):
        messages.error(request, _("Choose a preset."))
        return redirect("activations:buy", membership.team.slug)
    preset = selectors.get_preset(membership, request.POST.get("preset"), write=True)
    presets.preset_delete(membership=membership, preset=preset)
    messages.success(request, _("Deleted the preset “%s”.") % preset.name)
    return boards.page_redirect(request, reverse("activations:buy", args=[membership.team.slug]))


# --- several services on one number --------------------------------------------------------------


@team_view("can_buy", methods=("GET", "POST"))
def buy_multi(request: HttpRequest, membership: Membership) -> HttpResponse:
    """One number for several services (getMultiServiceNumber); errors re-render the form with status 200."""
    api_key = _chosen_key(membership, request.POST if request.method == "POST" else request.GET)
    countries, services, available = _catalog_lists(api_key)
    form = MultiBuyForm(
        request.POST or None,
        membership=membership,
        countries=countries,
        services=services,
        initial={"api_key": api_key.public_id if api_key else None},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            rows = extra.multi_buy(
                membership=membership,
                api_key=data["api_key"],
                services=data["services"],
                country=data["country"],
                operator=data["operator"],
                forward_service=data["forward_service"],
                request_token=data["request_token"],
            )
        except (SpendDenied, PurchaseRefused) as exc:
            form.add_error(None, exc.message)
        else:
            level, text = _outcome_message(rows[0])
            if level == "success":
                text = _("Bought +%(phone)s for %(services)s.") % {
                    "phone": rows[0].phone,
                    "services": ", ".join(row.service for row in rows),
                }
            messages.add_message(request, boards.LEVELS[level], text)
            return boards.page_redirect(request, _board_url(membership))
        form.data = form.data.copy()
        form.data["request_token"] = str(uuid.uuid4())
    context = _context(membership, form=form, api_key=api_key, catalog_available=available)
    template = "activations/buy_multi.html#panel" if request.htmx else "activations/buy_multi.html"
    return render(request, template, context)


# --- calls, additional services, re-activation ---------------------------------------------------


def _render_calls(
    request: HttpRequest, membership: Membership, activation: Activation | None
) -> HttpResponse:
    panel = calls.calls_panel(activation=activation) if activation is not None else None
    return render(
        request,
        "activations/calls.html",
        _context(membership, activation=activation, panel=panel, form=CallTaskForm()),
    )


@team_view()
def call_panel(request: HttpRequest, membership: Membership) -> HttpResponse:
    """The incoming call status and outgoing calls of one activation (htmx partial; any member may look)."""
    if not request.GET.get("activation"):
        return _render_calls(request, membership, None)
    return _render_calls(
        request, membership, selectors.get_activation(membership, request.GET.get("activation"))
    )


@team_view("can_buy", methods=("POST",))
def call_create(request: HttpRequest, membership: Membership) -> HttpResponse:
    """Order an outgoing call from the activation's number (createTaskForCall)."""
    if not request.POST.get("activation"):
        return _after_board_post(request, membership, "error", _("Choose an activation."))
    activation = selectors.get_activation(membership, request.POST.get("activation"), write=True)
    form = CallTaskForm(request.POST)
    if not form.is_valid():
        level, message = "error", " ".join(form.errors.get("phone", [])) or _("Give a phone number.")
    else:
        try:
            answer = calls.outgoing_call_create(
                membership=membership, activation=activation, phone=form.cleaned_data["phone"]
            )
        except ActionRefused as exc:
            level, message = "error", exc.message
        else:
            level, message = "success", answer or _("The call is ordered.")
    if request.htmx:
        response = _render_calls(request, membership, activation)
        return boards.toast(response, message, level)
    messages.add_message(request, boards.LEVELS[level], message)
    return redirect(_board_url(membership))


@team_view("can_buy")
def extra_check(request: HttpRequest, membership: Membership) -> HttpResponse:
    """The price of activating a used number again (checkExtraActivation), with the button to buy it."""
    activation = price = None
    error = ""
    if request.GET.get("activation"):
        activation = selectors.get_activation(membership, request.GET.get("activation"))
        try:
            price = extra.extra_price(activation=activation)
        except ActionRefused as exc:
            error = exc.message
    context = _context(membership, activation=activation, price=price, error=error, token=uuid.uuid4())
    return render(request, "activations/extra.html", context)


@team_view("can_buy", methods=("POST",))
def extra_buy(request: HttpRequest, membership: Membership) -> HttpResponse:
    """Activate a used number again (getExtraActivation); the money rules of buying apply."""
    if not request.POST.get("activation"):
        return _after_board_post(request, membership, "error", _("Choose an activation."))
    parent = selectors.get_activation(membership, request.POST.get("activation"), write=True)
    try:
        activation = extra.extra_buy(
            membership=membership, parent=parent, request_token=_parse_uuid(request.POST.get("request_token"))
        )
    except (SpendDenied, PurchaseRefused) as exc:
        return _after_board_post(request, membership, "error", exc.message)
    return _after_board_post(request, membership, *_outcome_message(activation))


@team_view("can_buy", methods=("POST",))
def additional_buy(request: HttpRequest, membership: Membership) -> HttpResponse:
    """Add another service to a forwarded number (getAdditionalService)."""
    if not request.POST.get("activation"):
        return _after_board_post(request, membership, "error", _("Choose an activation."))
    parent = selectors.get_activation(membership, request.POST.get("activation"), write=True)
    _countries, services, _available = _catalog_lists(parent.api_key)
    form = AdditionalServiceForm(request.POST, services=services)
    if not form.is_valid():
        problem = " ".join(form.errors.get("service", [])) or _("Give a service name or code, e.g. WhatsApp.")
        return _after_board_post(request, membership, "error", problem)
    try:
        activation = extra.additional_buy(
            membership=membership,
            parent=parent,
            service=form.cleaned_data["service"],
            request_token=form.cleaned_data["request_token"],
        )
    except (SpendDenied, PurchaseRefused) as exc:
        return _after_board_post(request, membership, "error", exc.message)
    return _after_board_post(request, membership, *_outcome_message(activation))


# --- history and exports -------------------------------------------------------------------------


@team_view()
@vary_on_headers("HX-Request")
def history(request: HttpRequest, membership: Membership) -> HttpResponse:
    """Every activation the member may see, filtered, keyset-paginated (`?after=<created_at>,<id>`)."""
    filters = HistoryFilters(request.GET, membership=membership)
    page = selectors.history_page(membership, filters, after=Cursor.parse(request.GET.get("after")))
    rows = selectors.label_rows(page.rows)
    context = _context(
        membership,
        form=filters.form,
        filters=filters,
        page=page,
        rows=rows,
        query=filters.query,
        is_first_page=not request.GET.get("after"),
    )
    template = "activations/history.html#results" if request.htmx else "activations/history.html"
    return render(request, template, context)


CSV_CHUNK = 2000


@team_view()
def history_csv(request: HttpRequest, membership: Membership) -> StreamingHttpResponse:
    """Exactly the rows the history filters show, streamed (constant memory); the key's label, never its secret."""
    filters = HistoryFilters(request.GET, membership=membership)
    flavour = chosen_flavour(request.GET)
    filename = f"activations-{membership.team.slug}-{timezone.localtime():%Y%m%d-%H%M%S}.csv"
    if connection.vendor == "postgresql" and export.copy_zone(flavour) is not None:
        # The database formats and streams the rows itself: close to the speed of a plain COPY.
        return stream_download(filename, export.copy_history_csv(membership, filters, flavour))
    rows = selectors.history_for_export(membership, filters, language=flavour.language)
    return csv_response(filename, export.HISTORY_COLUMNS, rows, flavour=flavour)


@team_view()
def ledger_csv(request: HttpRequest, membership: Membership) -> StreamingHttpResponse:
    """The team's money movements (purchases positive, refunds negative), filtered by date, key and member."""
    filters = LedgerFilters(request.GET, membership=membership)
    entries = selectors.ledger_for_export(membership, filters).iterator(chunk_size=CSV_CHUNK)
    filename = f"ledger-{membership.team.slug}-{timezone.localtime():%Y%m%d-%H%M%S}.csv"
    return csv_response(filename, export.LEDGER_COLUMNS, entries, flavour=chosen_flavour(request.GET))
