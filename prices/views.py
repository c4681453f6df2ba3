"""Prices, catalog, balance and spend pages under /t/<team_slug>/prices/, with JSON and CSV data.

Thin views: each reads its GET filters, calls one selector of `prices.selectors` (reads) or one
service of `prices.services` / `providers.catalog` (writes), and renders. Every chart's JSON
endpoint and CSV download share the selector the page's table comes from.
"""

from __future__ import annotations

from collections.abc import Callable
from operator import itemgetter
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from accounts.models import ApiKey, KeyStatus, Membership
from accounts.permissions import get_api_key, is_granted, team_view
from activations.selectors import favourite_services
from kit.csv import Column, chosen_flavour, csv_response
from kit.jobs import job_enqueue, job_follow, job_owner
from prices import selectors as charts
from prices.forms import AlertForm, ChartPickForm, SettingsForm
from prices.models import PriceKind
from prices.selectors import ChartData
from prices.services import (
    alert_create,
    alert_delete,
    price_settings_update,
    team_price_settings,
)
from prices.tasks import snapshot_team_prices, sync_catalog
from providers.selectors import resolve

PERIODS = (1, 7, 30, 90)


def _context(membership: Membership, **extra: Any) -> dict[str, Any]:
    return {"membership": membership, "team": membership.team, **extra}


# --- filters --------------------------------------------------------------------------------


def _key(
    membership: Membership, value: str | None, *, default: bool = True, write: bool = False
) -> ApiKey | None:
    """The key named by a `key` parameter (a public id), through the access module: 404 unless the member
    sees it, 403 for a write without a grant on it. Without one, the member's first active key."""
    if value:
        return get_api_key(membership, value, write=write)
    if not default:
        return None
    keys = [k for k in charts.member_keys(membership) if not write or is_granted(membership, k)]
    active = [k for k in keys if k.status == KeyStatus.ACTIVE]
    return (active or keys or [None])[0]


def _keys(membership: Membership, values: list[str]) -> list[ApiKey]:
    chosen = [k for k in (_key(membership, v, default=False) for v in values if v) if k is not None]
    return chosen or [k for k in [_key(membership, None)] if k is not None]


def _int(value: str | None, default: int | None = None) -> int | None:
    try:
        return int(value) if value not in (None, "") else default
    except (TypeError, ValueError):
        return default


def _pick(membership: Membership, query: QueryDict, api_key: ApiKey | None) -> ChartPickForm:
    """The chart's service and country as typed or picked (by name or code) among the key's (or the
    member's) catalogue and stored prices."""
    services, countries = charts.picker_options(membership, api_key)
    given = {name: query.get(name, "") for name in ("service", "country") if query.get(name)}
    return ChartPickForm(given or None, services=services, countries=countries)


def _service(membership: Membership, pick: ChartPickForm, api_key: ApiKey | None) -> str:
    """The picked service, else the team's most used favourite, else the first service with prices."""
    service = pick.picked("service")
    if not service:
        favourites = favourite_services(membership.team)
        choices = [] if favourites else charts.service_choices(membership, api_key)
        service = favourites[0] if favourites else choices[0][0] if choices else ""
    if not pick.is_bound:
        pick.initial["service"] = service  # the field shows what the chart is drawn for
    return service


def _countries(pick: ChartPickForm, values: list[str]) -> list[int]:
    """The countries of a multiple choice, each by number or by name."""
    found = [resolve(value, pick.fields["country"].options) for value in values if value]
    return [int(option.code) for option in found if option is not None and option.code.isdigit()]


def _days(query: QueryDict) -> int:
    days = _int(query.get("days"), 7) or 7
    return days if days in PERIODS else 7


def _currency(membership: Membership, query: QueryDict) -> str:
    currencies = charts.team_currencies(membership.team)
    wanted = (query.get("currency") or "").upper()[:3]
    if wanted in currencies:
        return wanted
    return currencies[0] if currencies else "RUB"


# --- the charts, one builder per chart (pages, JSON and CSV share them) ----------------------


def _history_chart(membership: Membership, query: QueryDict) -> tuple[ChartData, dict[str, Any]]:
    keys = _keys(membership, query.getlist("key"))
    first = keys[0] if keys else None
    pick = _pick(membership, query, first)
    service = _service(membership, pick, first)
    kind = query.get("kind") if query.get("kind") in PriceKind.values else PriceKind.ACTIVATION
    countries = _countries(pick, query.getlist("country"))[:8]
    if not countries and first is not None and service:
        cheapest = charts.cheapest_now(team=membership.team, api_key=first, service=service, limit=3)
        countries = [row[1] for row in cheapest.rows]
    days = _days(query)
    chart = charts.price_history(
        team=membership.team,
        keys=keys,
        service=service,
        countries=countries,
        since=charts.default_since(days),
        kind=kind,
    )
    filters = {"keys": keys, "service": service, "countries": countries, "days": days, "kind": kind}
    return chart, {**filters, "pick": pick}


def _cheapest_chart(membership: Membership, query: QueryDict) -> tuple[ChartData, dict[str, Any]]:
    api_key = _key(membership, query.get("key"))
    pick = _pick(membership, query, api_key)
    service = _service(membership, pick, api_key)
    if api_key is None or not service:
        empty = ChartData(type="bar", x="category", columns=[])
        return empty, {"key": api_key, "service": service, "pick": pick}
    chart = charts.cheapest_now(team=membership.team, api_key=api_key, service=service)
    return chart, {"key": api_key, "service": service, "pick": pick}


def _compare_chart(membership: Membership, query: QueryDict) -> tuple[ChartData, dict[str, Any]]:
    pick = _pick(membership, query, None)
    service = _service(membership, pick, None)
    country = pick.picked("country")
    chart = charts.compare_keys(membership=membership, service=service, country=country)
    return chart, {"service": service, "country": country, "pick": pick}


def _balance_chart(membership: Membership, query: QueryDict) -> tuple[ChartData, dict[str, Any]]:
    currency, days = _currency(membership, query), _days(query)
    chart = charts.balance_history(team=membership.team, currency=currency, since=charts.default_since(days))
    return chart, {"currency": currency, "days": days}


def _spend_chart(membership: Membership, query: QueryDict) -> tuple[ChartData, dict[str, Any]]:
    currency, days = _currency(membership, query), _days(query)
    by = "member" if query.get("by") == "member" else "key"
    chart = charts.spend_history(
        team=membership.team, currency=currency, since=charts.default_since(days), by=by
    )
    return chart, {"currency": currency, "days": days, "by": by}


ChartBuilder = Callable[[Membership, QueryDict], tuple[ChartData, dict[str, Any]]]


def _json(builder: ChartBuilder) -> Callable[..., HttpResponse]:
    def view(request: HttpRequest, membership: Membership) -> HttpResponse:
        chart, _filters = builder(membership, request.GET)
        return JsonResponse(chart.as_json())

    view.__doc__ = f"The chart data of {builder.__name__.strip('_')} as JSON (datasets and the table)."
    view.__name__ = f"{builder.__name__.strip('_')}_json"
    return team_view()(view)


def _csv(builder: ChartBuilder, filename: str) -> Callable[..., HttpResponse]:
    def view(request: HttpRequest, membership: Membership) -> HttpResponse:
        flavour = chosen_flavour(request.GET)
        # Headers and names in the flavour's language: the reader's, or English for scripts.
        with translation.override(flavour.language):
            chart, _filters = builder(membership, request.GET)
        columns = [Column(str(header), itemgetter(index)) for index, header in enumerate(chart.columns)]
        return csv_response(f"{membership.team.slug}-{filename}.csv", columns, chart.rows, flavour=flavour)

    view.__doc__ = f"The table behind the {filename} chart as CSV."
    view.__name__ = f"{filename.replace('-', '_')}_csv"
    return team_view()(view)


history_json = _json(_history_chart)
history_csv = _csv(_history_chart, "price-history")
cheapest_json = _json(_cheapest_chart)
cheapest_csv = _csv(_cheapest_chart, "cheapest")
compare_json = _json(_compare_chart)
compare_csv = _csv(_compare_chart, "compare")
balance_json = _json(_balance_chart)
balance_csv = _csv(_balance_chart, "balance")
spend_json = _json(_spend_chart)
spend_csv = _csv(_spend_chart, "spend")


# --- pages ----------------------------------------------------------------------------------


def _alert_keys(membership: Membership) -> list[ApiKey]:
    """Keys an alert may watch: active ones the member may act with."""
    return [
        k
        for k in charts.member_keys(membership)
        if k.status == KeyStatus.ACTIVE and is_granted(membership, k)
    ]


def _alert_form(membership: Membership, data: QueryDict | None = None) -> AlertForm:
    """The alert form, its service and country searchable in the catalogues of the member's providers."""
    services, countries = charts.picker_options(membership)
    return AlertForm(data, keys=_alert_keys(membership), services=services, countries=countries)


@team_view()
def overview(request: HttpRequest, membership: Membership) -> HttpResponse:
    """The cheapest countries for a service now (chart and table), snapshot status, alerts."""
    chart, filters = _cheapest_chart(membership, request.GET)
    team = membership.team
    keys = charts.member_keys(membership)
    settings_row = team_price_settings(team) if membership.can_manage_keys else None
    context = _context(
        membership,
        chart=chart,
        filters=filters,
        keys=keys,
        status=charts.snapshot_status(membership),
        alerts=charts.member_alerts(membership),
        alert_form=_alert_form(membership),
        job=job_follow(request, request.GET.get("job"), owner=job_owner(team), kind="snapshot"),
        job_label=_("Taking a snapshot of the prices…"),
        settings_form=SettingsForm(
            initial={"enabled": settings_row.enabled, "interval_minutes": settings_row.interval_minutes}
        )
        if settings_row
        else None,
        query=request.GET.urlencode(),
    )
    return render(request, "prices/overview.html", context)


@team_view()
def history(request: HttpRequest, membership: Membership) -> HttpResponse:
    """Price and stock of a service over time: several countries and several keys on one chart."""
    chart, filters = _history_chart(membership, request.GET)
    first = filters["keys"][0] if filters["keys"] else None
    context = _context(
        membership,
        chart=chart,
        filters=filters,
        keys=charts.member_keys(membership),
        countries=charts.country_choices(membership, first),
        periods=PERIODS,
        kinds=PriceKind.choices,
        query=request.GET.urlencode(),
    )
    return render(request, "prices/history.html", context)


@team_view()
def compare(request: HttpRequest, membership: Membership) -> HttpResponse:
    """One table of price and stock per (key, country) for a service, best first, with buy links."""
    chart, filters = _compare_chart(membership, request.GET)
    context = _context(
        membership,
        chart=chart,
        filters=filters,
        query=request.GET.urlencode(),
    )
    return render(request, "prices/compare.html", context)


@team_view()
def money(request: HttpRequest, membership: Membership) -> HttpResponse:
    """Balance per key and spend per key or member over time, one currency at a time."""
    balance, filters = _balance_chart(membership, request.GET)
    spend, spend_filters = _spend_chart(membership, request.GET)
    context = _context(
        membership,
        balance=balance,
        spend=spend,
        filters={**filters, **spend_filters},
        currencies=charts.team_currencies(membership.team),
        periods=PERIODS,
        query=request.GET.urlencode(),
    )
    return render(request, "prices/money.html", context)


@team_view()
def catalog(request: HttpRequest, membership: Membership) -> HttpResponse:
    """Countries (names in the user's language, operators) and services of a key's provider."""
    api_key = _key(membership, request.GET.get("key"))
    view = charts.catalog_for(api_key) if api_key else None
    search = (request.GET.get("q") or "").strip().lower()
    if view and search:
        view.countries = [
            c for c in view.countries if search in c["name"].lower() or search == str(c["code"])
        ]
        view.services = [
            s for s in view.services if search in s["name"].lower() or search in s["code"].lower()
        ]
    context = _context(
        membership,
        key=api_key,
        keys=charts.member_keys(membership),
        catalog=view,
        search=search,
        can_refresh=api_key is not None and is_granted(membership, api_key),
        job=job_follow(request, request.GET.get("job"), owner=job_owner(membership.team), kind="catalog"),
        job_label=_("Reading the catalogue from the provider…"),
    )
    return render(request, "prices/catalog.html", context)


@team_view("can_buy", methods=("POST",))
def catalog_refresh(request: HttpRequest, membership: Membership) -> HttpResponse:
    """Sync the catalog of the chosen key's provider (getCountries, getServicesList, getOperators) in the
    worker; the page follows the job."""
    api_key = _key(membership, request.POST.get("key"), write=True)
    if api_key is None:
        messages.error(request, _("Add an API key first."))
        return redirect("prices:catalog", membership.team.slug)
    job = job_enqueue(sync_catalog, api_key.pk, kind="catalog", owner=job_owner(membership.team))
    query = urlencode({"key": str(api_key.public_id), "job": job.id})
    return redirect(reverse("prices:catalog", args=[membership.team.slug]) + "?" + query)


@team_view("can_manage_keys", methods=("POST",))
def snapshot_now(request: HttpRequest, membership: Membership) -> HttpResponse:
    """Take a price snapshot of the team's providers in the worker and evaluate the alerts; the page
    follows the job."""
    team = membership.team
    job = job_enqueue(snapshot_team_prices, team.pk, kind="snapshot", owner=job_owner(team))
    return redirect(reverse("prices:overview", args=[team.slug]) + "?" + urlencode({"job": job.id}))


@team_view("can_manage_keys", methods=("POST",))
def settings_update(request: HttpRequest, membership: Membership) -> HttpResponse:
    """Turn snapshots on or off and set their interval."""
    form = SettingsForm(request.POST)
    if form.is_valid():
        price_settings_update(
            team=membership.team,
            enabled=form.cleaned_data["enabled"],
            interval_minutes=form.cleaned_data["interval_minutes"],
            actor=request.user,
        )
        messages.success(request, _("Snapshot settings saved."))
    else:
        messages.error(request, _("Snapshot settings not saved: give an interval of at least 5 minutes."))
    return redirect("prices:overview", membership.team.slug)


@team_view("can_buy", methods=("POST",))
def alert_add(request: HttpRequest, membership: Membership) -> HttpResponse:
    """Add a price/stock alert; an invalid form says why and changes nothing."""
    form = _alert_form(membership, request.POST)
    if form.is_valid():
        data = form.cleaned_data
        api_key = _key(membership, data["key"], write=True)
        assert api_key is not None
        alert = alert_create(
            team=membership.team,
            actor=request.user,
            api_key=api_key,
            service=data["service"],
            country=data["country"],
            price_below=data["price_below"],
            stock_above=data["stock_above"],
        )
        if alert.firing:
            messages.info(request, _("Alert added; its condition already holds."))
        else:
            messages.success(request, _("Alert added."))
    else:
        problems = "; ".join(str(e) for errors_ in form.errors.values() for e in errors_)
        messages.error(request, _("Alert not added: %(problems)s") % {"problems": problems})
    return redirect("prices:overview", membership.team.slug)


@team_view("can_buy", methods=("POST",))
def alert_remove(request: HttpRequest, membership: Membership) -> HttpResponse:
    """Remove one of the team's alerts (its public id in the form; a foreign one is a 404)."""
    value = request.POST.get("alert") or ""
    if not value:
        messages.error(request, _("No alert chosen."))
        return redirect("prices:overview", membership.team.slug)
    alert = charts.get_alert(membership, value, write=True)
    alert_delete(team=membership.team, actor=request.user, alert=alert)
    messages.success(request, _("Alert removed."))
    return redirect("prices:overview", membership.team.slug)
