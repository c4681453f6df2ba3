"""Real providers' answer shapes, spoken by the sandbox and read by the client over real HTTP.

The shapes and their public sources are in tests/providers/test_real_answers.py; here the sandbox speaks
them: HeroSMS's validation errors and rent orders, SMSBower's top countries by slug, a damaged list row.
"""

from decimal import Decimal

import pytest
from django.core.management import call_command

from activations.models import Preset
from prices.models import LatestPrice, PriceKind
from prices.tasks import snapshot_team_prices
from providers import errors
from providers.client import ProviderClient
from providers.keys import provider_of
from providers.profiles import get_profile
from rentals.models import RentalStatus
from rentals.services import RentRequest, rental_rent
from sandbox.models import Rental as SandboxRental
from tests.activations.conftest import (  # noqa: F401 - fixtures shared with the activation tests
    _steady_sandbox,
    ledger_net,
    make_key,
    owner,
    provider_charged,
    register_key,
)
from tests.conftest import sandbox_account

PROFILE_FOR = {"classic": "sandbox", "hero": "sandbox_hero"}


def client_for(key: str, dialect: str = "classic") -> ProviderClient:
    return ProviderClient.for_profile(get_profile(PROFILE_FOR[dialect]), key)


def sandbox_set(key: str, *options: str) -> None:
    call_command("sandbox_account", "set", key, *options)


@pytest.fixture(params=["classic", "hero"])
def dialect(request) -> str:
    return request.param


# --- 1. HeroSMS validation errors ----------------------------------------------------------------


def test_heros_validation_errors_read_as_the_error_of_the_refused_field(sandbox_url):
    key = sandbox_account("--balance", "1000", "--dialect", "hero")
    client = client_for(key, "hero")

    with pytest.raises(errors.BadService) as v2:
        client.get_number_v2(service="__probe__", country=187)
    assert (v2.value.code, v2.value.http_status) == ("UNPROCESSABLE_ENTITY", 422)
    assert v2.value.info == {"field": "service", "code": "INVALID", "message": ""}
    # getNumber answers the same failure as text, HTTP 200.
    with pytest.raises(errors.BadService) as v1:
        client.get_number(service="__probe__", country=187)
    assert (v1.value.code, v1.value.http_status) == ("UNPROCESSABLE_ENTITY", 200)
    with pytest.raises(errors.BadCountry):
        client.get_number_v2(service="tg", country="six")  # type: ignore[arg-type]
    # A well-formed but unknown service keeps the documented BAD_SERVICE envelope.
    with pytest.raises(errors.BadService) as unknown:
        client.get_number_v2(service="zz", country=0)
    assert (unknown.value.code, unknown.value.http_status) == ("BAD_SERVICE", 400)
    assert client.get_balance().amount == Decimal("1000")

    with pytest.raises(errors.BadKey) as missing:
        client_for("", "hero").get_balance()
    assert missing.value.http_status == 422


# --- 2. HeroSMS rent orders ----------------------------------------------------------------------


def test_heros_rent_order_carries_the_price_the_provider_charged(sandbox_url):
    key = sandbox_account("--balance", "1000", "--dialect", "hero")
    client = client_for(key, "hero")
    before = client.get_balance().amount
    order = client.get_rent_number(service="tg", rent_time=4, country=0)
    upstream = SandboxRental.objects.get(pk=int(order.rent_id))
    assert order.phone == upstream.phone and order.currency == "USD"
    assert order.cost == upstream.cost == before - client.get_balance().amount
    assert order.end_date == upstream.ends_at.replace(microsecond=0)


def test_a_hero_rent_is_booked_at_the_answers_price_confirmed(make_key, owner):  # noqa: F811
    api_key, secret = make_key("--dialect", "hero", profile="sandbox_hero")
    rental = rental_rent(membership=owner, api_key=api_key, request=RentRequest(service="tg", country=0))
    rental.refresh_from_db()
    upstream = SandboxRental.objects.get(pk=int(rental.upstream_id))
    assert rental.status == RentalStatus.ACTIVE and rental.currency == "USD"
    assert rental.cost == upstream.cost and rental.price_confirmed
    assert ledger_net(api_key) == provider_charged(secret)


# --- 3. SMSBower top countries by slug -----------------------------------------------------------


def test_top_countries_by_slug_are_mapped_through_the_providers_countries(sandbox_url):
    key = sandbox_account("--balance", "100")
    client = client_for(key)
    classic = client.get_top_countries_by_service(service="tg")
    sandbox_set(key, "--top-countries-by-slug")

    rows = client_for(key).get_top_countries_by_service(service="tg")
    assert rows.damaged == 0 and all(row.country is not None for row in rows)
    assert all(row.country_slug and row.provider_id and row.provider_id.isdigit() for row in rows)
    assert {row.country for row in rows} == {row.country for row in classic}
    assert rows[0].country == classic[0].country  # the best-stocked country first, as ranked classically
    by_slug = {row.country_slug: row.country for row in rows}
    assert by_slug["usa"] == 187 and by_slug["usa-virtual"] == 12 and by_slug["united-kingdom"] == 16
    # Each country's partners add up to its stock; the main partner sells at the classic price.
    for top in classic:
        partners = [row for row in rows if row.country == top.country]
        assert sum(row.count for row in partners) == top.count
        assert partners[0].price == top.price


@pytest.mark.django_db(transaction=True)
def test_a_price_snapshot_folds_smsbowers_partners_into_one_offer_per_country(team, sandbox_url):
    secret = sandbox_account("--balance", "100")
    sandbox_set(secret, "--top-countries-by-slug")
    api_key = register_key(team, secret)
    Preset.objects.create(team=team, api_key=api_key, name="TG US", service="tg", country=187)

    snapshot_team_prices(team.pk)

    rows = client_for(secret).get_top_countries_by_service(service="tg")
    usa = [row for row in rows if row.country == 187]
    stored = LatestPrice.objects.get(
        provider=provider_of(api_key), kind=PriceKind.TOP, service="tg", country=187
    )
    assert stored.count == sum(row.count for row in usa)
    assert stored.cost == min(row.price for row in usa)
    assert stored.detail == {f"{row.price:.4f}": row.count for row in usa}


# --- 4. one damaged row in a list ----------------------------------------------------------------


def test_a_damaged_row_keeps_its_code_and_the_other_rows_come_whole(sandbox_url, dialect):
    key = sandbox_account("--balance", "1000", "--dialect", dialect, "--sms-delay", "0", "--cancel-lock", "0")
    sandbox_set(key, "--no-code-share", "0")
    client = client_for(key, dialect)
    bought = [client.get_number_v2(service=service, country=0) for service in ("tg", "wa", "vk")]
    codes = {order.activation_id: client.get_status(id=order.activation_id).code for order in bought}
    assert all(codes.values())
    sandbox_set(key, "--fault", "damaged_row=1", "--fault-actions", "getActiveActivations,getHistory")

    rows = client.get_all_active_activations()
    assert sorted(row.activation_id for row in rows) == sorted(codes)
    assert (rows.damaged, rows.skipped) == (1, 0)
    (bad,) = [row for row in rows if row.damaged]
    assert bad.sms_codes[-1] == codes[bad.activation_id]
    assert bad.activation_time is None and bad.phone == ""
    for row in rows:
        if not row.damaged:
            assert (
                row.activation_time is not None
                and row.phone
                and row.sms_codes[-1] == codes[row.activation_id]
            )

    history = client.get_history(size=10)
    assert {entry.activation_id for entry in history} == set(codes)
    assert history.damaged == 1 and [entry.sms for entry in history if entry.damaged][0]


def test_a_damaged_rent_list_row_is_kept(sandbox_url):
    key = sandbox_account("--balance", "1000")
    client = client_for(key)
    first = client.get_rent_number(service="tg", rent_time=4, country=0)
    second = client.get_rent_number(service="wa", rent_time=4, country=0)
    sandbox_set(key, "--fault", "damaged_row=1", "--fault-actions", "getRentList")

    rows = client.get_rent_list()
    assert {row.rent_id for row in rows} == {first.rent_id, second.rent_id}
    assert rows.damaged == 1 and [row.phone for row in rows if row.damaged] == [""]
