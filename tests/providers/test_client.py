"""The client's request side: wire parameters, retries, transport failures and keeping the key secret."""

import logging
import pickle
import traceback
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import requests
from urllib3.exceptions import MaxRetryError, NewConnectionError

from providers import errors
from providers.client import ProviderClient
from providers.profiles import get_profile
from providers.results import (
    AdditionalNumber,
    ContinueRentPrice,
    CountryShare,
    ExtraActivationPrice,
    IncomingCallStatus,
    MultiServiceNumber,
    OutgoingCall,
    PriceEntry,
    RentCatalog,
    RentMessage,
    RentOffer,
    RentOrder,
    RentState,
    RentStatus,
    Service,
)
from tests.providers.fake import API_KEY, FakeAdapter, make_client


@pytest.fixture(autouse=True)
def slept(monkeypatch):
    pauses: list[float] = []
    monkeypatch.setattr("providers.client._sleep", pauses.append)
    return pauses


def read_timeout(request):
    # Real requests exceptions carry the full URL, query string and key included.
    return requests.ReadTimeout(
        f"HTTPSConnectionPool(host='provider.test', port=443): Read timed out. {request.url}"
    )


def refused(request):
    reason = NewConnectionError(None, f"Failed to establish a new connection: refused {request.url}")
    return requests.ConnectionError(MaxRetryError(None, request.url, reason=reason))


def reset(request):
    return requests.ConnectionError(f"('Connection aborted.', RemoteDisconnected()) {request.url}")


# --- wire parameters -------------------------------------------------------------------------


def test_it_sends_every_get_number_parameter_with_its_documented_name():
    adapter = FakeAdapter().reply("ACCESS_NUMBER:1:79000000000")
    client = make_client(adapter)
    client.get_number(
        service="vk",
        country=0,
        operator=["mts", "beeline"],
        forward=False,
        max_price=Decimal("15.50"),
        phone_exception=["7918", "7900111"],
        ref="simdesk",
        verification=True,
    )
    assert adapter.sent[0].method == "GET"
    assert adapter.sent[0].url.startswith("https://provider.test/stubs/handler_api.php?")
    assert adapter.query() == [
        ("api_key", API_KEY),
        ("action", "getNumber"),
        ("service", "vk"),
        ("forward", "0"),
        ("operator", "mts,beeline"),
        ("ref", "simdesk"),
        ("country", "0"),
        ("phoneException", "7918,7900111"),
        ("maxPrice", "15.50"),
        ("verification", "true"),
    ]


def test_it_leaves_out_parameters_that_are_not_given_but_keeps_country_zero():
    adapter = FakeAdapter().reply('{"activationId":1,"phoneNumber":"79000000000"}')
    make_client(adapter).get_number_v2(service="tg", country=0)
    assert adapter.query() == [
        ("api_key", API_KEY),
        ("action", "getNumberV2"),
        ("service", "tg"),
        ("country", "0"),
    ]


def test_it_sends_multi_service_and_multi_forward():
    body = '[{"phone":"79999999999","activation":2640086027,"service":"fb"},{"phone":"79999999999","activation":"2640086028","service":"ig"}]'
    adapter = FakeAdapter().reply(body)
    numbers = make_client(adapter).get_multi_service_number(
        multi_service=["fb", "ig"], multi_forward=[False, True], operator="tele2", country=0
    )
    assert adapter.query()[1:] == [
        ("action", "getMultiServiceNumber"),
        ("multiService", "fb,ig"),
        ("multiForward", "0,1"),
        ("operator", "tele2"),
        ("country", "0"),
    ]
    assert numbers == [
        MultiServiceNumber(activation_id="2640086027", phone="79999999999", service="fb"),
        MultiServiceNumber(activation_id="2640086028", phone="79999999999", service="ig"),
    ]


def test_it_names_the_rent_length_rent_time_classic_and_duration_for_hero():
    body = '{"status":"success","phone":{"id":1049,"endDate":"2020-01-31T12:01:52","number":"79959707564"}}'
    adapter = FakeAdapter().reply(body)
    order = make_client(adapter).get_rent_number(
        service="vk", rent_time=4, country=0, url="https://hook.test/r"
    )
    assert adapter.query()[1:] == [
        ("action", "getRentNumber"),
        ("service", "vk"),
        ("rent_time", "4"),
        ("country", "0"),
        ("url", "https://hook.test/r"),
    ]
    assert order == RentOrder(
        rent_id="1049",
        phone="79959707564",
        end_date=datetime(2020, 1, 31, 9, 1, 52, tzinfo=UTC),
        currency="RUB",
    )

    hero_body = (
        '{"activationId":"3416693217","phoneNumber":"12025550123","activationCost":1.2,"currency":840,'
        '"activationEndTime":"2026-02-18T18:11:23+00:00"}'
    )
    adapter = FakeAdapter().reply(hero_body)
    order = make_client(adapter, dialect="hero", currency="USD").get_rent_number(
        service="tg", rent_time=24, country=187
    )
    assert ("duration", "24") in adapter.query()
    assert order == RentOrder(
        rent_id="3416693217",
        phone="12025550123",
        end_date=datetime(2026, 2, 18, 18, 11, 23, tzinfo=UTC),
        cost=Decimal("1.2"),
        currency="USD",
    )


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        (lambda c: c.get_incoming_call_status(activation_id="7"), [("activationId", "7")]),
        (lambda c: c.get_extra_activation(activation_id=7), [("activationId", "7")]),
        (lambda c: c.check_extra_activation(activation_id="7"), [("activationId", "7")]),
        (
            lambda c: c.create_task_for_call(activation_id="7", phone="78006007664"),
            [("activationId", "7"), ("phone", "78006007664")],
        ),
        (
            lambda c: c.get_outgoing_calls(activation_id="7", date="2022-07-29"),
            [("activationId", "7"), ("date", "2022-07-29")],
        ),
        (lambda c: c.get_additional_service(service="av", id="7"), [("service", "av"), ("id", "7")]),
        (
            lambda c: c.get_history(start=1, end=2, offset=0, size=100),
            [("start", "1"), ("end", "2"), ("offset", "0"), ("size", "100")],
        ),
        (
            lambda c: c.get_top_countries_by_service(service="vk", free_price=True),
            [("service", "vk"), ("freePrice", "true")],
        ),
        (lambda c: c.get_services_list(country=0, lang="en"), [("country", "0"), ("lang", "en")]),
        (lambda c: c.set_rent_status(id="1049", status=1), [("id", "1049"), ("status", "1")]),
        (lambda c: c.continue_rent_number(id="1049", rent_time=12), [("id", "1049"), ("rent_time", "12")]),
        (
            lambda c: c.get_rent_services_and_countries(rent_time=4, operator="mts", country=0),
            [("rent_time", "4"), ("operator", "mts"), ("country", "0")],
        ),
    ],
)
def test_it_sends_documented_parameter_names(call, expected):
    adapter = FakeAdapter().reply("BAD_ACTION")
    with pytest.raises(errors.BadAction):
        call(make_client(adapter))
    assert adapter.query()[2:] == expected


# --- typed answers of the remaining actions ----------------------------------------------------


def test_it_reads_the_rent_status_messages_in_order():
    body = (
        '{"status":"success","quantity":"2","values":{"0":{"phoneFrom":"79180230628","text":"5","service":"ot",'
        '"date":"2020-01-30 14:31:58"},"1":{"phoneFrom":"79180230628","text":"4: code","service":"ot",'
        '"date":"2020-01-30 14:04:16"}}}'
    )
    status = make_client(FakeAdapter().reply(body)).get_rent_status(id="1049")
    assert status == RentStatus(
        status=RentState.ACTIVE,
        quantity=2,
        messages=(
            RentMessage(
                phone_from="79180230628",
                text="5",
                service="ot",
                date=datetime(2020, 1, 30, 11, 31, 58, tzinfo=UTC),
            ),
            RentMessage(
                phone_from="79180230628",
                text="4: code",
                service="ot",
                date=datetime(2020, 1, 30, 11, 4, 16, tzinfo=UTC),
            ),
        ),
    )


def test_it_reads_the_rent_catalog():
    body = (
        '{"countries":{"0":0},"operators":{"0":"aiva","1":"any"},'
        '"services":{"full":{"cost":42.93,"quant":20},"vk":{"cost":21.95,"quant":"20"}}}'
    )
    catalog = make_client(FakeAdapter().reply(body)).get_rent_services_and_countries(rent_time=4)
    assert catalog == RentCatalog(
        countries=(0,),
        operators=("aiva", "any"),
        services=(RentOffer("full", Decimal("42.93"), 20), RentOffer("vk", Decimal("21.95"), 20)),
    )


def test_it_reads_the_hero_rent_catalog():
    body = '{"operators":{"1":"tmobile"},"services":{"tg":{"quantity":2,"price":1.2,"retail_price":1.5}}}'
    catalog = make_client(FakeAdapter().reply(body), dialect="hero").get_rent_services_and_countries(
        rent_time=24
    )
    assert catalog == RentCatalog(
        countries=(), operators=("tmobile",), services=(RentOffer("tg", Decimal("1.2"), 2, Decimal("1.5")),)
    )


def test_it_reads_small_json_answers():
    assert make_client(
        FakeAdapter().reply('{"status":"success","price":6.33}')
    ).get_continue_rent_price_number(id="1") == ContinueRentPrice(price=Decimal("6.33"), currency="RUB")
    assert make_client(
        FakeAdapter().reply('{"status":"success","cost":200,"service":"tw","phone":777777777,"country":14}')
    ).check_extra_activation(activation_id="1") == ExtraActivationPrice(
        cost=Decimal("200"), currency="RUB", service="tw", phone="777777777", country=14
    )
    assert make_client(FakeAdapter().reply('{"status":"2","phone":false}')).get_incoming_call_status(
        activation_id="1"
    ) == IncomingCallStatus(status="2", phone=None)
    assert (
        make_client(
            FakeAdapter().reply('{"status":"success","msg":"Call request successfully created."}')
        ).create_task_for_call(activation_id="1", phone="78006007664")
        == "Call request successfully created."
    )
    assert make_client(
        FakeAdapter().reply(
            '{"958874106":{"date":"2022-07-29 16:03:23","phoneFrom":"79912556393","status":"IN_PROCESS"}}'
        )
    ).get_outgoing_calls() == [
        OutgoingCall(
            activation_id="958874106",
            date=datetime(2022, 7, 29, 13, 3, 23, tzinfo=UTC),
            phone_from="79912556393",
            status="IN_PROCESS",
        )
    ]
    assert make_client(FakeAdapter().reply("ADDITIONAL:2640086027:79990000000")).get_additional_service(
        service="av", id="1"
    ) == AdditionalNumber(activation_id="2640086027", phone="79990000000")
    assert make_client(
        FakeAdapter().reply('[{"country":0,"share":50,"rate":49.5}]')
    ).get_list_of_top_countries_by_service(service="vk") == [
        CountryShare(country=0, share=Decimal("50"), rate=Decimal("49.5"))
    ]
    assert make_client(
        FakeAdapter().reply('{"status":"success","services":[{"code":"aoo","name":"Pegasus Airlines"}]}')
    ).get_services_list(lang="en") == [Service(code="aoo", name="Pegasus Airlines")]
    assert make_client(
        FakeAdapter().reply('{"vk":{"0":{"count":5,"price":"12.5"}}}')
    ).get_prices_verification(service="vk") == [
        PriceEntry(country=0, service="vk", cost=Decimal("12.5"), count=5)
    ]


# --- quirk 24: no retry for spending and state-changing actions ---------------------------------

SPENDING_CALLS = [
    ("getNumber", lambda c: c.get_number(service="vk", country=0)),
    ("getNumberV2", lambda c: c.get_number_v2(service="vk", country=0)),
    ("getMultiServiceNumber", lambda c: c.get_multi_service_number(multi_service="fb,ig", country=0)),
    ("getRentNumber", lambda c: c.get_rent_number(service="vk", rent_time=4)),
    ("continueRentNumber", lambda c: c.continue_rent_number(id="1049", rent_time=4)),
    ("getExtraActivation", lambda c: c.get_extra_activation(activation_id="1")),
    ("getAdditionalService", lambda c: c.get_additional_service(service="av", id="1")),
    ("setStatus", lambda c: c.set_status(id="1", status=8)),
    ("setRentStatus", lambda c: c.set_rent_status(id="1", status=2)),
    ("createTaskForCall", lambda c: c.create_task_for_call(activation_id="1", phone="78006007664")),
]


@pytest.mark.parametrize(("action", "call"), SPENDING_CALLS)
def test_it_never_retries_a_spending_or_state_changing_action_after_a_timeout(action, call, slept):
    adapter = FakeAdapter().fail(read_timeout).reply("ACCESS_NUMBER:1:79000000000")
    with pytest.raises(errors.UpstreamUnavailable) as info:
        call(make_client(adapter, read_retries=3))
    assert adapter.calls == 1
    assert adapter.query()[1] == ("action", action)
    assert info.value.definite is False
    assert slept == []


@pytest.mark.parametrize(("action", "call"), SPENDING_CALLS)
def test_it_never_retries_a_spending_or_state_changing_action_after_a_502(action, call, slept):
    adapter = FakeAdapter().reply("<html>Bad Gateway</html>", 502).reply("ACCESS_NUMBER:1:79000000000")
    with pytest.raises(errors.UpstreamUnavailable):
        call(make_client(adapter, read_retries=3))
    assert adapter.calls == 1
    assert slept == []


def test_it_never_retries_a_purchase_after_error_sql_or_a_bad_json_answer():
    adapter = FakeAdapter().reply("ERROR_SQL").reply('{"activationId":1,"phoneNumber":"79000000000"}')
    with pytest.raises(errors.ErrorSql):
        make_client(adapter).get_number_v2(service="vk", country=0)
    assert adapter.calls == 1
    adapter = (
        FakeAdapter()
        .reply('{"activationId":1,"phone')
        .reply('{"activationId":1,"phoneNumber":"79000000000"}')
    )
    with pytest.raises(errors.ProtocolError):
        make_client(adapter).get_number_v2(service="vk", country=0)
    assert adapter.calls == 1


def test_it_retries_a_read_after_temporary_errors_with_backoff(slept):
    adapter = FakeAdapter().reply(b"", 502).fail(read_timeout).reply("ACCESS_BALANCE:12.5")
    balance = make_client(adapter, read_retries=2).get_balance()
    assert balance.amount == Decimal("12.5")
    assert adapter.calls == 3
    assert slept == [0.3, 1.0]


def test_it_gives_up_on_a_read_after_the_configured_retries(slept):
    adapter = FakeAdapter().reply("ERROR_SQL")
    with pytest.raises(errors.ErrorSql):
        make_client(adapter, read_retries=3).get_active_activations()
    assert adapter.calls == 4
    assert slept == [0.3, 1.0, 1.0]


def test_it_does_not_retry_a_read_after_a_definite_error(slept):
    adapter = FakeAdapter().reply("BAD_KEY").reply("ACCESS_BALANCE:1")
    with pytest.raises(errors.BadKey):
        make_client(adapter, read_retries=2).get_balance()
    assert adapter.calls == 1
    assert slept == []


def test_it_waits_for_a_short_retry_after_and_gives_up_on_a_long_one(slept):
    adapter = (
        FakeAdapter()
        .reply("Too Many Requests", 429, {"Retry-After": "2"})
        .reply('{"0":{"tg":{"cost":1,"count":2}}}')
    )
    assert len(make_client(adapter).get_prices()) == 1
    assert slept == [2.0]
    adapter = FakeAdapter().reply(
        '{"title":"RATE_LIMIT","details":"","info":{"retry_after_seconds":3600}}', 429
    )
    with pytest.raises(errors.RateLimited) as info:
        make_client(adapter).get_prices()
    assert info.value.retry_after == 3600.0
    assert adapter.calls == 1


def test_it_retries_truncated_json_on_reads(slept):
    adapter = FakeAdapter().reply('{"0":{"tg":{"cost":1,"cou').reply('{"0":{"tg":{"cost":1,"count":2}}}')
    assert make_client(adapter).get_prices() == [
        PriceEntry(country=0, service="tg", cost=Decimal("1"), count=2)
    ]
    assert adapter.calls == 2


# --- transport failures ----------------------------------------------------------------------------


def test_it_reports_a_refused_connection_as_unreachable_and_definite():
    adapter = FakeAdapter().fail(refused)
    with pytest.raises(errors.UpstreamUnreachable) as info:
        make_client(adapter).get_number(service="vk", country=0)
    assert info.value.definite is True
    assert isinstance(info.value, errors.UpstreamUnavailable)


def test_it_reports_a_connection_lost_after_sending_as_indefinite():
    adapter = FakeAdapter().fail(reset)
    with pytest.raises(errors.UpstreamUnavailable) as info:
        make_client(adapter).get_number(service="vk", country=0)
    assert type(info.value) is errors.UpstreamUnavailable
    assert info.value.definite is False


def test_it_reports_a_connect_timeout_as_unreachable():
    adapter = FakeAdapter().fail(lambda request: requests.ConnectTimeout(f"connect timed out {request.url}"))
    with pytest.raises(errors.UpstreamUnreachable):
        make_client(adapter).get_number(service="vk", country=0)


# --- the key stays secret ----------------------------------------------------------------------------

LEAKY_FAILURES = [
    lambda adapter: adapter.fail(read_timeout),
    lambda adapter: adapter.fail(refused),
    lambda adapter: adapter.fail(reset),
    lambda adapter: adapter.reply(
        f"<html><body>404 /stubs/handler_api.php?api_key={API_KEY}&amp;action=x</body></html>", 404
    ),
    lambda adapter: adapter.reply(f"<html>Error for key {API_KEY}</html>", 502),
    lambda adapter: adapter.reply(f"<pre>api_key={API_KEY}</pre>"),
    lambda adapter: adapter.reply(f'{{"title":"BAD_KEY","details":"Key {API_KEY} is not valid"}}', 401),
    lambda adapter: adapter.reply(f'{{"broken": "{API_KEY}'),
    lambda adapter: adapter.reply(f"ACCESS_BALANCE:{API_KEY}"),
]


@pytest.mark.parametrize("arrange", LEAKY_FAILURES)
def test_it_keeps_the_key_out_of_errors_tracebacks_and_logs(arrange, caplog):
    caplog.set_level(logging.DEBUG)
    adapter = FakeAdapter()
    arrange(adapter)
    client = make_client(adapter, read_retries=1)
    with pytest.raises(errors.ProviderError) as info:
        client.get_balance()
    error = info.value
    rendered = "".join(traceback.format_exception(error))
    assert API_KEY not in str(error)
    assert API_KEY not in repr(error)
    assert API_KEY not in rendered
    assert API_KEY not in repr(error.args)
    assert API_KEY not in repr(vars(error))
    assert error.__cause__ is None
    assert error.__context__ is None
    assert API_KEY not in caplog.text
    assert all(API_KEY not in record.getMessage() for record in caplog.records)
    assert API_KEY not in repr(client)
    assert API_KEY[-4:] == "8842"


def test_it_logs_each_call_with_action_status_and_time_only(caplog):
    caplog.set_level(logging.DEBUG, logger="providers.client")
    make_client(FakeAdapter().reply("ACCESS_BALANCE:1")).get_balance()
    [record] = [record for record in caplog.records if record.name == "providers.client"]
    assert record.levelno == logging.DEBUG
    assert record.getMessage().startswith("provider action=getBalance status=200 elapsed_ms=")
    assert "provider.test" not in record.getMessage()


def test_it_shows_only_the_base_url_and_the_last_four_characters_in_its_repr():
    client = make_client(FakeAdapter())
    assert repr(client) == "ProviderClient(base_url='https://provider.test', api_key='••••8842')"
    assert (
        repr(ProviderClient("https://x.test/", "short"))
        == "ProviderClient(base_url='https://x.test', api_key='••••')"
    )


def test_it_survives_pickling_of_errors_with_their_attributes():
    error = errors.Banned(
        until=datetime(2024, 1, 5, 7, tzinfo=UTC), scope="global", code="BANNED", http_status=403
    )
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is errors.Banned
    assert (copy.until, copy.scope, copy.code, copy.http_status) == (error.until, "global", "BANNED", 403)
    assert str(copy) == str(error)


def test_it_marks_which_errors_are_temporary_and_which_definite():
    temporary = {errors.ErrorSql, errors.RateLimited, errors.UpstreamUnavailable, errors.ProtocolError}
    for name in errors.__all__:
        cls = getattr(errors, name)
        if isinstance(cls, type) and issubclass(cls, errors.ProviderError):
            assert cls.temporary is any(issubclass(cls, base) for base in temporary), name
    indefinite = [errors.ErrorSql, errors.UpstreamUnavailable, errors.ProtocolError]
    assert [cls.definite for cls in indefinite] == [False, False, False]
    definite = [
        errors.NoBalance,
        errors.NoNumbers,
        errors.WrongMaxPrice,
        errors.BadKey,
        errors.Banned,
        errors.BadService,
    ]
    assert all(cls.definite for cls in definite)


# --- construction ------------------------------------------------------------------------------------


def test_it_takes_timeouts_and_retries_from_settings(settings):
    settings.PROVIDER_CONNECT_TIMEOUT = 1.5
    settings.PROVIDER_READ_TIMEOUT = 7.0
    settings.PROVIDER_READ_RETRIES = 4
    client = ProviderClient("https://x.test", "key")
    assert client.timeout == (1.5, 7.0)
    assert client.read_retries == 4


def test_it_passes_the_timeout_to_requests():
    captured = {}

    class Recording(FakeAdapter):
        def send(self, request, **kwargs):
            captured.update(kwargs)
            return super().send(request, **kwargs)

    make_client(Recording().reply("ACCESS_BALANCE:1")).get_balance()
    assert captured["timeout"] == (1.0, 2.0)


def test_it_builds_the_endpoint_from_a_profile():
    client = ProviderClient.for_profile(get_profile("herosms"), "key-123456789012")
    assert client.endpoint == "https://hero-sms.com/stubs/handler_api.php"
    assert (client.dialect, client.currency) == ("hero", "USD")
    custom = ProviderClient.for_profile(get_profile("custom"), "k", base_url="https://cheap.test/")
    assert custom.endpoint == "https://cheap.test/stubs/handler_api.php"
    with pytest.raises(ValueError, match="needs a base URL"):
        ProviderClient.for_profile(get_profile("custom"), "k")


def test_it_rejects_a_base_url_without_scheme():
    with pytest.raises(ValueError, match="http"):
        ProviderClient("provider.test", "key")
