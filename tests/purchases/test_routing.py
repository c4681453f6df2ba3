"""Routes without the network: how a rule ranks the keys (price, success rate, fixed order), when a purchase
goes on to the next key, and how a service or country is coded at another provider."""

from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import ApiKey
from accounts.permissions import SpendDenied
from activations.models import Activation, ActivationStatus
from kit.phrases import phrase
from providers import errors
from providers import selectors as catalog
from providers.models import CatalogCountry, CatalogService, Provider
from purchases import routing
from purchases.models import Route, RouteKey, RouteRule
from purchases.services import PurchaseRefused
from tests.activations.conftest import register_key

# --- ranking by price ---------------------------------------------------------------------------------------


def _candidates(*labels: str) -> list[routing.Candidate]:
    return [
        routing.Candidate(api_key=ApiKey(pk=i + 1, label=label), service="tg", country=0, position=i)
        for i, label in enumerate(labels)
    ]


def _labels(ranked: list[routing.Candidate]) -> list[str]:
    return [candidate.api_key.label for candidate in ranked]


def test_the_price_rule_ranks_cheaper_first_unknown_after_priced_and_no_stock_last(monkeypatch):
    offers = {
        "a": catalog.Offer(cost=Decimal("10"), count=5, currency="RUB"),
        "b": catalog.Offer(cost=Decimal("8"), count=0, currency="RUB"),  # cheapest, but no stock
        "c": None,  # the provider lists no price for it
        "d": catalog.Offer(cost=Decimal("8"), count=3, currency="RUB"),
        "e": catalog.CatalogUnavailable("prices"),  # the provider cannot say now
        "f": catalog.Offer(cost=Decimal("10"), count=1, currency="RUB"),
        "g": catalog.Offer(cost=Decimal("7"), count=0, currency="RUB"),
    }

    def offer(api_key, *, service, country):
        assert (service, country) == ("tg", 0)
        found = offers[api_key.label]
        if isinstance(found, Exception):
            raise found
        return found

    monkeypatch.setattr(catalog, "offer", offer)
    ranked = routing.rank(Route(rule=RouteRule.PRICE), _candidates(*offers), success_rates=dict)
    # Priced with stock by price (ties by position), then unknown prices, then no stock at all.
    assert _labels(ranked) == ["d", "a", "f", "c", "e", "g", "b"]
    assert ranked[0].offer == offers["d"] and ranked[3].offer is None


def test_the_fixed_order_asks_no_price_and_keeps_the_order(monkeypatch):
    def offer(*args, **kwargs):
        raise AssertionError("the fixed order reads no prices")

    monkeypatch.setattr(catalog, "offer", offer)
    found = _candidates("c", "a", "b")
    assert _labels(routing.rank(Route(rule=RouteRule.PRIORITY), found, success_rates=dict)) == ["c", "a", "b"]


# --- when a purchase goes on --------------------------------------------------------------------------------


def _refused(error: errors.ProviderError | None) -> PurchaseRefused:
    return PurchaseRefused("refused", error=error)


class Row:
    """What a buy returns: a purchase row's state."""

    def __init__(self, status: str, error_code: str = ""):
        self.status, self.error_code = status, error_code


SOLD = Row("waiting")


@pytest.mark.parametrize(
    ("first_raises", "goes_on"),
    [
        (_refused(errors.NoNumbers()), True),
        (_refused(errors.NoBalance()), True),
        (_refused(errors.WrongMaxPrice(minimum=Decimal("12"))), True),
        (_refused(errors.ProviderError(code="BAD_SERVICE")), True),
        (_refused(errors.ProviderError(code="BANNED")), False),
        (_refused(None), False),  # our own wording, no provider refusal behind it
        (SpendDenied(phrase("max"), code="max_price"), True),
        (SpendDenied(phrase("unknown"), code="price_unknown"), True),
        (SpendDenied(phrase("member"), code="member_limit"), False),
        (SpendDenied(phrase("via"), code="via_budget"), False),
    ],
)
def test_only_a_definite_refusal_or_one_keys_own_rule_passes_the_purchase_on(first_raises, goes_on):
    asked = []

    def buy(candidate):
        asked.append(candidate.api_key.label)
        if candidate.position == 0:
            raise first_raises
        return SOLD

    route = Route(name="r", rule=RouteRule.PRIORITY)
    if goes_on:
        assert routing.buy_through(route, _candidates("first", "second"), buy) is SOLD
        assert asked == ["first", "second"]
    else:
        with pytest.raises(type(first_raises)):
            routing.buy_through(route, _candidates("first", "second"), buy)
        assert asked == ["first"]


def test_a_lost_answer_is_returned_not_passed_on():
    asked = []

    def buy(candidate):
        asked.append(candidate.api_key.label)
        return Row("unknown", "PROTOCOL_ERROR")

    row = routing.buy_through(Route(name="r"), _candidates("first", "second"), buy)
    assert row.status == "unknown" and asked == ["first"]


def test_a_replayed_attempt_that_was_refused_passes_the_purchase_on():
    refused_before = Row("failed", "NO_NUMBERS")
    refused_before.error_message = phrase("No numbers.").stored(300)

    def buy(candidate):
        return refused_before if candidate.position == 0 else SOLD

    assert routing.buy_through(Route(name="r"), _candidates("first", "second"), buy) is SOLD


def test_every_key_refusing_raises_the_last_refusal_and_none_selling_says_so():
    def buy(candidate):
        raise _refused(errors.NoNumbers() if candidate.position == 0 else errors.NoBalance())

    with pytest.raises(PurchaseRefused) as refused:
        routing.buy_through(Route(name="r"), _candidates("first", "second"), buy)
    assert refused.value.error.code == "NO_BALANCE"
    with pytest.raises(PurchaseRefused, match="No key of the route"):
        routing.buy_through(Route(name="r"), [], buy)


# --- ranking by the team's own success rate -----------------------------------------------------------------


def _history(api_key: ApiKey, *, codes: bool, count: int = 5, service: str = "tg") -> None:
    now = timezone.now()
    for i in range(count):
        Activation.objects.create(
            team=api_key.team,
            api_key=api_key,
            upstream_id=f"{api_key.pk}{service}{i}",
            phone=f"7900{api_key.pk}{i:04d}",
            service=service,
            country=0,
            currency="RUB",
            cost=Decimal("10"),
            status=ActivationStatus.FINISHED if codes else ActivationStatus.CANCELLED,
            sms_count=1 if codes else 0,
            last_code="1234" if codes else "",
            closed_at=now,
        )


@pytest.fixture
def two_keys(team, owner):
    silent = register_key(team, "a" * 32, label="silent")
    reliable = register_key(team, "b" * 32, label="reliable")
    route = Route.objects.create(team=team, name="by success", rule=RouteRule.SUCCESS)
    RouteKey.objects.create(route=route, api_key=silent, position=0)
    RouteKey.objects.create(route=route, api_key=reliable, position=1)
    return route, silent, reliable


def _ranked_by_success(route, owner, reference) -> list[routing.Candidate]:
    found = routing.candidates(route, owner, reference=reference, service="tg", country=0)
    return routing.rank(route, found, success_rates=routing.success_rates(Activation))


def test_the_success_rule_puts_the_key_whose_numbers_got_codes_first(two_keys, owner):
    route, silent, reliable = two_keys
    _history(silent, codes=False)
    _history(reliable, codes=True)
    # Another service's history says nothing about this one.
    _history(silent, codes=True, count=20, service="wa")
    ranked = _ranked_by_success(route, owner, silent)
    assert [c.api_key for c in ranked] == [reliable, silent]
    assert ranked[0].success == pytest.approx(6 / 7) and ranked[1].success == pytest.approx(1 / 7)


def test_without_history_every_key_counts_as_even_and_the_fixed_order_holds(two_keys, owner):
    route, silent, reliable = two_keys
    # Open numbers and refused purchases are no history yet.
    Activation.objects.create(
        team=silent.team, api_key=reliable, service="tg", country=0, currency="RUB", status="failed",
        error_code="NO_NUMBERS", closed_at=timezone.now(),
    )  # fmt: skip
    ranked = _ranked_by_success(route, owner, silent)
    assert [c.api_key for c in ranked] == [silent, reliable]
    assert [c.success for c in ranked] == [0.5, 0.5]


# --- codes at another provider ------------------------------------------------------------------------------


def _provider(base_url: str, countries: dict[int, tuple[str, str]], services: dict[str, str]) -> Provider:
    provider = Provider.objects.create(profile="sandbox", base_url=base_url, catalog_synced_at=timezone.now())
    for code, (eng, rus) in countries.items():
        CatalogCountry.objects.create(provider=provider, code=code, name_eng=eng, name_rus=rus)
    for code, name in services.items():
        CatalogService.objects.create(provider=provider, code=code, name_en=name)
    return provider


@pytest.fixture
def two_providers(team):
    _provider(
        "https://one.example",
        {0: ("Russia", "Россия"), 1: ("Ukraine", "Украина"), 6: ("Indonesia", "Индонезия")},
        {"tg": "Telegram", "wa": "WhatsApp", "vk": "VKontakte"},
    )
    _provider(
        "https://two.example",
        # The same countries numbered otherwise; one named only in Russian; one not sold at all.
        {7: ("Russia", "Россия"), 0: ("Ukraine", "Украина"), 1: ("", "Индонезия")},
        {"tgm": "Telegram", "tg": "Tango", "wa": "WhatsApp"},
    )
    one = register_key(team, "c" * 32, label="one")
    two = register_key(team, "d" * 32, label="two")
    ApiKey.objects.filter(pk=one.pk).update(base_url="https://one.example")
    ApiKey.objects.filter(pk=two.pk).update(base_url="https://two.example")
    one.refresh_from_db()
    two.refresh_from_db()
    return one, two


def test_codes_are_mapped_by_the_names_each_provider_gives(two_providers):
    one, two = two_providers
    assert catalog.equivalent_codes(one, two, service="tg", country=0) == ("tgm", 7)
    assert catalog.equivalent_codes(one, two, service="wa", country=1) == ("wa", 0)
    assert catalog.equivalent_codes(one, two, service="wa", country=6) == ("wa", 1)
    assert catalog.equivalent_codes(two, one, service="tgm", country=7) == ("tg", 0)


def test_what_the_other_provider_does_not_list_is_none(two_providers):
    one, two = two_providers
    assert catalog.equivalent_codes(one, two, service="vk", country=0) is None  # no such service there
    assert catalog.equivalent_codes(two, one, service="tg", country=0) is None  # nobody sells Tango at one


def test_keys_of_one_provider_keep_their_codes(two_providers, team):
    one, _two = two_providers
    also_one = register_key(team, "e" * 32, label="one too")
    ApiKey.objects.filter(pk=also_one.pk).update(base_url="https://one.example/")
    also_one.refresh_from_db()
    # Unchanged without a look at the lists, even for codes neither list knows.
    assert catalog.equivalent_codes(one, also_one, service="zz", country=999) == ("zz", 999)


def test_a_route_skips_a_key_whose_provider_does_not_sell_it(two_providers, team, owner):
    one, two = two_providers
    route = Route.objects.create(team=team, name="two providers", rule=RouteRule.PRIORITY)
    RouteKey.objects.create(route=route, api_key=one, position=0)
    RouteKey.objects.create(route=route, api_key=two, position=1)
    found = routing.candidates(route, owner, reference=one, service="tg", country=0)
    assert [(c.api_key, c.service, c.country, c.position) for c in found] == [
        (one, "tg", 0, 0),
        (two, "tgm", 7, 1),
    ]
    assert [c.api_key for c in routing.candidates(route, owner, reference=one, service="vk", country=0)] == [
        one
    ]
