"""Catalogue reads through the gateway: what a limited key sees, what an upstream failure answers, what is
cached, and a HeroSMS-dialect client library (herosms 0.1.1) reading the catalogue through the gateway."""

import json

import pytest

from activations.models import Activation
from providers.client import ProviderClient
from tests.activations.conftest import register_key, set_sandbox
from tests.gateway.harness import PATH, Pair, call, gateway_pair, make_gateway_key, run_async


def pair_for(team, owner, live_server, sandbox_url, dialect="classic", **limits) -> Pair:
    return gateway_pair(
        team, owner, live_url=live_server.url, sandbox_url=sandbox_url, dialect=dialect, **limits
    )


def as_data(reply):
    assert reply.status == 200, reply.body
    return json.loads(reply.body)


# --- what a limited key sees -------------------------------------------------------------------------


@pytest.mark.parametrize("dialect", ["classic", "hero"])
def test_it_leaves_services_and_countries_outside_the_keys_lists_out_of_every_list(
    team, owner, live_server, sandbox_url, dialect
):
    pair = pair_for(team, owner, live_server, sandbox_url, dialect, services=["tg", "wa"], countries=[0, 6])

    full = as_data(pair.sandbox("getPrices"))
    seen = as_data(pair.gateway("getPrices"))
    # What it sees is exactly the sandbox's cells for the allowed pairs, nothing more, nothing changed.
    expected = {
        country: {svc: cell for svc, cell in cells.items() if svc in {"tg", "wa"}}
        for country, cells in full.items()
        if country in {"0", "6"}
    }
    assert seen == expected
    assert set(seen) == {"0", "6"} and all(set(cells) <= {"tg", "wa"} for cells in seen.values())
    assert len(full) > 2

    assert as_data(pair.gateway("getPrices", country="1")) == {}
    assert as_data(pair.gateway("getPrices", service="vk")) == {}
    assert set(as_data(pair.gateway("getCountries"))) == {"0", "6"}
    services = as_data(pair.gateway("getServicesList"))["services"]
    assert {s["code"] for s in services} == {"tg", "wa"}
    assert as_data(pair.gateway("getServicesList", country="1"))["services"] == []

    stock = as_data(pair.gateway("getNumbersStatus", country="0"))
    assert stock and {key.rsplit("_", 1)[0] for key in stock} <= {"tg", "wa"}
    assert as_data(pair.gateway("getNumbersStatus", country="1")) == {}

    top = as_data(pair.gateway("getTopCountriesByService", service="tg"))
    assert {row["country"] for row in top.values()} <= {0, 6} and top
    assert as_data(pair.gateway("getTopCountriesByService", service="vk")) == {}
    every = as_data(pair.gateway("getTopCountriesByService"))
    assert set(every) <= {"tg", "wa"}

    verification = as_data(pair.gateway("getPricesVerification"))
    assert set(verification) <= {"tg", "wa"}
    assert all(set(cells) <= {"0", "6"} for cells in verification.values())

    operators = as_data(pair.gateway("getOperators"))["countryOperators"]
    assert set(operators) == {"0", "6"}
    refused = pair.gateway("getOperators", country="1")
    assert (refused.status, refused.body) == (200, b"OPERATORS_NOT_FOUND")

    rent = as_data(pair.gateway("getRentServicesAndCountries", country="0"))
    assert rent["countries"] == {"0": 0} and set(rent["services"]) <= {"tg", "wa"} and rent["services"]
    assert as_data(pair.gateway("getRentServicesAndCountries", country="1")) == {
        "countries": {},
        "operators": {},
        "services": {},
    }
    wrong = pair.gateway("getListOfTopCountriesByService", service="vk")
    assert wrong.body == (
        b"WRONG_SERVICE" if dialect == "classic" else b'{"title":"WRONG_SERVICE","details":"Wrong service"}'
    )


def test_it_shows_a_limited_key_only_the_history_rows_simdesk_places_in_its_lists(
    team, owner, live_server, sandbox_url
):
    pair = pair_for(team, owner, live_server, sandbox_url, services=["tg"], countries=[0])
    ids = {}
    for service in ("tg", "wa", "vk"):
        bought = pair.sandbox("getNumber", service=service, country="0").body.decode()
        assert bought.startswith("ACCESS_NUMBER:"), bought
        ids[service] = bought.split(":")[1]
    assert {str(row["id"]) for row in as_data(pair.sandbox("getHistory"))} == set(ids.values())
    # simdesk knows the tg and wa numbers (as if bought in the browser); vk was bought behind its back.
    for service in ("tg", "wa"):
        Activation.objects.create(
            team=team,
            api_key=pair.api_key,
            member=owner.user,
            upstream_id=ids[service],
            service=service,
            country=0,
            currency="RUB",
        )
    assert [str(row["id"]) for row in as_data(pair.gateway("getHistory"))] == [ids["tg"]]

    # A key without limits sees the provider's whole history, byte for byte.
    pair.gateway_key = make_gateway_key(pair.api_key, owner, label="all")
    pair.compare("getHistory")


def test_it_lets_a_read_only_key_read_the_catalogue(team, owner, live_server, sandbox_url):
    pair = pair_for(team, owner, live_server, sandbox_url, read_only=True)
    pair.compare("getPrices", service="tg")
    pair.compare("getCountries")


# --- an upstream that cannot answer ---------------------------------------------------------------------


def bad_upstream_key(team, owner, live_server, sandbox_url, dialect):
    """A gateway key whose team key the sandbox does not know (BAD_KEY upstream)."""
    sandbox_url  # the live server must be up
    secret = "0123456789abcdef0123456789abcdef"
    api_key = register_key(team, secret, profile="sandbox_hero" if dialect == "hero" else "sandbox")
    return make_gateway_key(api_key, owner), secret


@pytest.mark.parametrize(
    "action", ["getPrices", "getCountries", "getServicesList", "getOperators", "getHistory"]
)
def test_it_answers_the_dialects_server_error_when_the_upstream_key_is_refused(
    team, owner, live_server, sandbox_url, action, caplog
):
    key, secret = bad_upstream_key(team, owner, live_server, sandbox_url, "classic")
    reply = call(live_server.url + PATH, key, action)
    assert (reply.status, reply.content_type, reply.body) == (200, "text/plain; charset=utf-8", b"ERROR_SQL")

    key, secret = bad_upstream_key(team, owner, live_server, sandbox_url, "hero")
    reply = call(live_server.url + PATH, key, action)
    assert reply.status == 500
    assert reply.content_type == "text/html; charset=utf-8"
    assert reply.body == b'{"title":"SERVER_ERROR","details":"Server Gone"}'
    # Not BAD_KEY: the script's own key is good, and nothing of the upstream's answer or key leaks.
    assert secret.encode() not in reply.body
    assert secret not in caplog.text and key not in caplog.text
    assert "BAD_KEY" in caplog.text  # the log says why, for the admin


@pytest.mark.parametrize("fault", ["html=1", "http5xx=1", "truncated_json=1", "error_sql=1"])
@pytest.mark.parametrize("dialect", ["classic", "hero"])
def test_it_answers_the_dialects_server_error_when_the_upstream_sends_no_answer(
    team, owner, live_server, sandbox_url, fault, dialect
):
    pair = pair_for(team, owner, live_server, sandbox_url, dialect)
    set_sandbox(pair.secret, "--fault", fault)
    reply = pair.gateway("getPrices", service="tg")
    if dialect == "classic":
        assert (reply.status, reply.body) == (200, b"ERROR_SQL")
    else:
        assert (reply.status, reply.body) == (500, b'{"title":"SERVER_ERROR","details":"Server Gone"}')
    assert b"<html" not in reply.body and pair.secret.encode() not in reply.body


def test_it_answers_the_server_error_when_the_upstream_times_out(
    team, owner, live_server, sandbox_url, settings
):
    settings.SANDBOX_FAULT_TIMEOUT_SECONDS = 1.5
    settings.PROVIDER_READ_TIMEOUT = 0.5
    settings.PROVIDER_READ_RETRIES = 0
    pair = pair_for(team, owner, live_server, sandbox_url)
    set_sandbox(pair.secret, "--fault", "timeout=1")
    reply = pair.gateway("getNumbersStatus", country="0")
    assert (reply.status, reply.body) == (200, b"ERROR_SQL")


# --- the name lists are shared and cached ------------------------------------------------------------------


def test_it_reads_the_name_lists_once_per_provider_and_never_remembers_a_failure(
    team, owner, live_server, sandbox_url, monkeypatch
):
    asked: list[str] = []
    original = ProviderClient._send

    def counting(self, action, params):
        asked.append(action)
        return original(self, action, params)

    monkeypatch.setattr(ProviderClient, "_send", counting)

    # A refused key first: its failure must not stand in for the provider's good keys.
    bad, _secret = bad_upstream_key(team, owner, live_server, sandbox_url, "classic")
    assert call(live_server.url + PATH, bad, "getCountries").body == b"ERROR_SQL"

    one = pair_for(team, owner, live_server, sandbox_url)
    other = pair_for(team, owner, live_server, sandbox_url)
    asked.clear()
    first = one.compare("getCountries")
    assert other.compare("getCountries").body == first.body
    one.compare("getOperators", country="0")
    other.compare("getOperators", country="0")
    assert asked == ["getCountries", "getOperators"]

    # Prices move: read every time.
    one.compare("getPrices", service="tg", country="0")
    other.compare("getPrices", service="tg", country="0")
    assert asked.count("getPrices") == 2


# --- a HeroSMS-dialect client library ---------------------------------------------------------------------


def test_the_herosms_client_reads_the_catalogue_through_the_gateway(team, owner, live_server, sandbox_url):
    import herosms

    pair = pair_for(team, owner, live_server, sandbox_url, "hero", countries=[0, 6])

    async def story() -> None:
        async with (
            herosms.HeroSMSClient(
                api_key=pair.secret, base_url=sandbox_url + "/hero" + PATH, retry_attempts=1
            ) as direct,
            herosms.HeroSMSClient(
                api_key=pair.gateway_key, base_url=live_server.url + PATH, retry_attempts=1
            ) as through,
        ):
            countries = await through.get_countries()
            assert sorted(c.id for c in countries) == [0, 6]
            named = {c.id: c.eng for c in await direct.get_countries() if c.id in (0, 6)}
            assert {c.id: c.eng for c in countries} == named

            # herosms 0.1.1 reads a service list's model from the object's values, which fails on the
            # documented {"status","services"} shape (the sandbox's own answer too): read it as JSON.
            services = await through.get_services(country=0, response_format="json")
            assert services["services"] and services == await direct.get_services(
                country=0, response_format="json"
            )

            prices = await through.get_prices(service="tg", country=0)
            assert prices == await direct.get_prices(service="tg", country=0)
            assert prices["0"]["tg"].cost > 0 and prices["0"]["tg"].count > 0
            # A country outside the key's list: nothing to see, not an error.
            assert await through.get_prices(service="tg", country=1) == {}
            assert await through.get_operators(country=0) == await direct.get_operators(country=0)

    run_async(story())
