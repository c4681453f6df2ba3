"""The answers of protocol.md §(c) a client must survive, fed byte for byte through a fake transport."""

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from providers import errors
from providers.results import (
    ActivationState,
    ActivationStatus,
    ActiveActivation,
    Balance,
    Country,
    HistoryEntry,
    NumberOrder,
    PriceEntry,
    RentListEntry,
    RentState,
    RentStatus,
    SetStatusResult,
)
from tests.providers.fake import FakeAdapter, make_client


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch):
    slept: list[float] = []
    monkeypatch.setattr("providers.client._sleep", slept.append)
    return slept


def answer(body, status=200, headers=None, *, dialect="classic", currency="RUB"):
    adapter = FakeAdapter().reply(body, status, headers)
    return make_client(adapter, dialect=dialect, currency=currency), adapter


# --- quirk 1: errors of JSON actions are plain text ------------------------------------------


def test_it_raises_bad_key_for_a_plain_token_to_a_json_action():
    client, _ = answer("BAD_KEY")
    with pytest.raises(errors.BadKey) as info:
        client.get_prices(service="vk", country=0)
    assert info.value.code == "BAD_KEY"
    assert info.value.definite is True


def test_it_raises_no_numbers_for_plain_text_to_get_number_v2():
    client, _ = answer("NO_NUMBERS")
    with pytest.raises(errors.NoNumbers):
        client.get_number_v2(service="tg", country=6)


def test_it_reads_wrong_max_price_token_answered_to_get_number_v2():
    client, _ = answer("WRONG_MAX_PRICE:1")
    with pytest.raises(errors.WrongMaxPrice) as info:
        client.get_number_v2(service="tg", country=6, max_price=Decimal("0.5"))
    assert info.value.minimum == Decimal("1")


# --- quirk 2: suffix tokens ------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    ["BANNED:'2024-1-5 10-00-00'", "BANNED:2024-01-05 10-00-00", "BANNED:'2024-01-05 10:00:00'"],
)
def test_it_reads_the_ban_end_with_or_without_quotes_in_moscow_time(body):
    client, _ = answer(body)
    with pytest.raises(errors.Banned) as info:
        client.get_number(service="vk", country=0)
    assert info.value.until == datetime(2024, 1, 5, 7, 0, 0, tzinfo=UTC)
    assert info.value.code == "BANNED"
    assert "2024-01-05 07:00" in info.value.message


def test_it_reads_a_bare_banned_token_without_a_date():
    client, _ = answer("BANNED")
    with pytest.raises(errors.Banned) as info:
        client.get_balance()
    assert info.value.until is None


def test_it_reads_the_minimum_price_of_wrong_max_price():
    client, _ = answer("WRONG_MAX_PRICE:0.025")
    with pytest.raises(errors.WrongMaxPrice) as info:
        client.get_number(service="vk", country=0, max_price="0.01")
    assert info.value.minimum == Decimal("0.025")
    assert info.value.definite is True


def test_it_maps_hero_unprocessable_entity_for_service_to_bad_service():
    client, _ = answer("UNPROCESSABLE_ENTITY:service:INVALID", dialect="hero")
    with pytest.raises(errors.BadService) as info:
        client.get_number(service="zz", country=0)
    assert info.value.code == "UNPROCESSABLE_ENTITY"


# --- quirk 3: whitespace ---------------------------------------------------------------------


def test_it_strips_trailing_newline_from_an_error_token():
    client, _ = answer("BAD_KEY\n")
    with pytest.raises(errors.BadKey):
        client.get_balance()


def test_it_strips_whitespace_around_a_balance():
    client, _ = answer("ACCESS_BALANCE:100.50\r\n  ")
    assert client.get_balance() == Balance(amount=Decimal("100.50"), currency="RUB")


def test_it_strips_whitespace_and_a_byte_order_mark_around_a_status():
    client, _ = answer("\ufeff STATUS_OK:1234\n".encode())
    assert client.get_status(id="1") == ActivationStatus(status=ActivationState.OK, code="1234")


# --- quirk 4: codes containing ':' -----------------------------------------------------------


def test_it_keeps_everything_after_the_first_colon_of_a_code():
    client, _ = answer("STATUS_OK:Your code: 12:34")
    assert client.get_status(id="5") == ActivationStatus(status=ActivationState.OK, code="Your code: 12:34")


def test_it_keeps_the_previous_code_of_wait_retry_with_colons():
    client, _ = answer("STATUS_WAIT_RETRY:ab:cd")
    assert client.get_status(id="5") == ActivationStatus(status=ActivationState.WAIT_RETRY, code="ab:cd")


@pytest.mark.parametrize(
    ("body", "state"),
    [
        ("STATUS_WAIT_CODE", ActivationState.WAIT_CODE),
        ("STATUS_WAIT_RESEND", ActivationState.WAIT_RESEND),
        ("STATUS_CANCEL", ActivationState.CANCEL),
    ],
)
def test_it_reads_statuses_without_a_code(body, state):
    client, _ = answer(body)
    assert client.get_status(id="5") == ActivationStatus(status=state, code=None)


# --- quirk 5: HTTP status codes with envelopes -----------------------------------------------


def test_it_reads_hero_401_envelope_as_bad_key():
    client, _ = answer('{"title":"BAD_KEY","details":"Unauthorized"}', 401, dialect="hero")
    with pytest.raises(errors.BadKey) as info:
        client.get_balance()
    assert info.value.http_status == 401
    assert info.value.details == "Unauthorized"


def test_it_reads_hero_402_envelope_as_no_balance():
    client, _ = answer('{"title":"NO_BALANCE","details":"Payment Required"}', 402, dialect="hero")
    with pytest.raises(errors.NoBalance) as info:
        client.get_number_v2(service="tg", country=6)
    assert info.value.definite is True


def test_it_reads_hero_404_no_numbers_envelope():
    client, _ = answer('{"title":"NO_NUMBERS","details":"Numbers Gone. Try Later"}', 404, dialect="hero")
    with pytest.raises(errors.NoNumbers):
        client.get_number_v2(service="tg", country=6)


def test_it_reads_hero_400_wrong_max_price_with_info_min():
    body = '{"title":"WRONG_MAX_PRICE","details":"Max price is too low","info":{"min":0.1234}}'
    client, _ = answer(body, 400, dialect="hero")
    with pytest.raises(errors.WrongMaxPrice) as info:
        client.get_number_v2(service="tg", country=6, max_price="0.1")
    assert info.value.minimum == Decimal("0.1234")


def test_it_reads_hero_409_early_cancel_with_minimum_time():
    body = (
        '{"title":"EARLY_CANCEL_DENIED","details":"Activation cannot be cancelled at this time. '
        'Minimum activation period must pass.","info":{"minActivationTime":120}}'
    )
    client, _ = answer(body, 409, dialect="hero")
    with pytest.raises(errors.EarlyCancelDenied) as info:
        client.set_status(id="3416693217", status=8)
    assert info.value.min_seconds == 120


@pytest.mark.parametrize(
    ("title", "error_class"),
    [
        ("OTP_RECEIVED", errors.OtpReceived),
        ("NEW_OTP_RECEIVED", errors.OtpReceived),
        ("ACTIVATION_NOT_ACTIVE", errors.ActivationNotActive),
        ("FREE_CANCELLATION_EXPIRED", errors.CancelWindowExpired),
    ],
)
def test_it_reads_hero_409_conflicts(title, error_class):
    client, _ = answer(json.dumps({"title": title, "details": "Conflict"}), 409, dialect="hero")
    with pytest.raises(error_class) as info:
        client.set_status(id="1", status=8)
    assert info.value.code == title


def test_it_reads_a_plain_token_sent_with_http_401():
    client, _ = answer("BAD_KEY", 401)
    with pytest.raises(errors.BadKey):
        client.get_balance()


def test_it_reads_hero_plain_no_numbers_with_200():
    client, _ = answer("NO_NUMBERS", dialect="hero")
    with pytest.raises(errors.NoNumbers):
        client.get_number_v2(service="tg", country=6)


# --- quirk 6: BAD_KEY variants ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ("NO_KEY", 200, "NO_KEY"),
        ("API_KEY_NOT_VALID", 200, "API_KEY_NOT_VALID"),
        ('{"status":0,"message":"No access","data":[]}', 401, "BAD_KEY"),
        ('{"title":"Unauthenticated.","details":""}', 401, "BAD_KEY"),
        ("", 401, "BAD_KEY"),
    ],
)
def test_it_reads_every_bad_key_variant(body, status, code):
    client, _ = answer(body, status)
    with pytest.raises(errors.BadKey) as info:
        client.get_balance()
    assert info.value.code == code


# --- quirk 7: SQL / server errors ------------------------------------------------------------


def test_it_reads_error_sql_as_temporary_and_indefinite():
    client, adapter = answer("ERROR_SQL")
    with pytest.raises(errors.ErrorSql) as info:
        client.get_number(service="vk", country=0)
    assert info.value.temporary is True
    assert info.value.definite is False
    assert adapter.calls == 1


def test_it_reads_rent_sql_error_json():
    client, _ = answer('{"status":"error","message":"SQL_ERROR"}')
    with pytest.raises(errors.ErrorSql) as info:
        client.set_rent_status(id="1049", status=1)
    assert info.value.code == "SQL_ERROR"


def test_it_reads_hero_500_server_error_envelope():
    client, _ = answer('{"title":"SERVER_ERROR","details":"Server Gone"}', 500, dialect="hero")
    with pytest.raises(errors.ErrorSql) as info:
        client.get_number_v2(service="tg", country=6)
    assert info.value.http_status == 500


# --- quirk 8: stock and balance variants -----------------------------------------------------


@pytest.mark.parametrize(
    ("body", "error_class"),
    [
        ("NO_NUMBER", errors.NoNumbers),
        ("OUT_OF_STOCK", errors.NoNumbers),
        ("NO_MEANS", errors.NoBalance),
        ("NO_BALANCE", errors.NoBalance),
        ("NO_BALANCE_FORWARD", errors.NoBalanceForward),
        ("ACCOUNT_INACTIVE", errors.AccountInactive),
        ("WRONG_EXCEPTION_PHONE", errors.WrongExceptionPhone),
    ],
)
def test_it_reads_stock_and_balance_variants(body, error_class):
    client, _ = answer(body)
    with pytest.raises(error_class) as info:
        client.get_number(service="vk", country=0)
    assert info.value.code == body
    assert info.value.definite is True


def test_it_treats_no_balance_forward_as_a_kind_of_no_balance():
    assert issubclass(errors.NoBalanceForward, errors.NoBalance)


# --- quirk 9: unknown-service variants -------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ("BAD_SERVICE", 200),
        ("WRONG_SERVICE", 200),
        ('{"status":"false","msg":"service is incorrect"}', 200),
        ('{"error":"Bad service"}', 200),
        ('{"error":"BAD_SERVICE"}', 200),
        ('{"title":"BAD_SERVICE","details":"This service/country combination is not available"}', 200),
    ],
)
def test_it_reads_every_unknown_service_variant(body, status):
    client, _ = answer(body, status)
    with pytest.raises(errors.BadService):
        client.get_prices(service="zz")


def test_it_reads_hero_country_is_incorrect():
    client, _ = answer('{"status":"false","msg":"country is incorrect"}')
    with pytest.raises(errors.BadCountry):
        client.get_prices(country=9999)


# --- quirk 10: unknown-activation variants ---------------------------------------------------


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ("NO_ACTIVATION", 200),
        ("WRONG_ACTIVATION_ID", 200),
        ("INVALID_ACTIVATION_ID", 200),
        ('{"title":"NOT_FOUND","details":"Activation Not Found"}', 404),
    ],
)
def test_it_reads_every_unknown_activation_variant(body, status):
    client, _ = answer(body, status)
    with pytest.raises(errors.NoActivation):
        client.get_status(id="123")


# --- quirk 11: STATUS_CANCEL is a state, ACCESS_CANCEL from Tiger ----------------------------


def test_it_reads_tiger_access_cancel_to_get_status_as_cancelled():
    client, _ = answer("ACCESS_CANCEL")
    assert client.get_status(id="9") == ActivationStatus(status=ActivationState.CANCEL)


# --- quirk 12: rate limits and channels -------------------------------------------------------


def test_it_reads_hero_429_envelope_as_rate_limited():
    client, _ = answer('{"title":"RATE_LIMIT","details":""}', 429, dialect="hero")
    with pytest.raises(errors.RateLimited) as info:
        client.get_number_v2(service="tg", country=6)
    assert info.value.temporary is True
    assert info.value.http_status == 429


def test_it_reads_tiger_plain_too_many_requests_with_retry_after():
    client, _ = answer("Too Many Requests", 429, {"Retry-After": "30", "Content-Type": "text/plain"})
    with pytest.raises(errors.RateLimited) as info:
        client.get_number(service="tg", country=6)
    assert info.value.retry_after == 30.0


def test_it_reads_channels_limit_token_and_envelope():
    client, _ = answer("CHANNELS_LIMIT")
    with pytest.raises(errors.ChannelsLimit):
        client.get_number(service="vk", country=0)
    body = '{"title":"CHANNELS_LIMIT","details":"Too many","info":{"current_threads":10,"max_allowed":10}}'
    client, _ = answer(body, 403, dialect="hero")
    with pytest.raises(errors.ChannelsLimit) as info:
        client.get_number_v2(service="vk", country=0)
    assert info.value.info == {"current_threads": 10, "max_allowed": 10}


# --- quirk 13: HeroSMS ban envelope -----------------------------------------------------------


def test_it_reads_hero_ban_envelope_with_unix_end_and_scope():
    body = (
        '{"title":"BANNED","details":"Account banned","info":{"scope":"specific","banned_until":1770984000,'
        '"retry_after_seconds":3600,"readable_date":"2026-02-13T12:00:00+00:00"}}'
    )
    client, _ = answer(body, 403, dialect="hero")
    with pytest.raises(errors.Banned) as info:
        client.get_number_v2(service="tg", country=6)
    assert info.value.until == datetime(2026, 2, 13, 12, 0, tzinfo=UTC)
    assert info.value.scope == "specific"


# --- quirk 14: HTML, truncated JSON, empty bodies ----------------------------------------------

HTML_502 = """<html>
<head><title>502 Bad Gateway</title></head>
<body>
<center><h1>502 Bad Gateway</h1></center>
<hr><center>nginx/1.24.0</center>
</body>
</html>
"""


def test_it_reads_an_html_502_page_as_upstream_unavailable_with_a_short_excerpt():
    client, _ = answer(HTML_502, 502)
    with pytest.raises(errors.UpstreamUnavailable) as info:
        client.get_prices()
    assert info.value.excerpt == (
        "<html> <head><title>502 Bad Gateway</title></head> <body> <center><h1>502 Bad Gateway</h1></center> "
        "<hr><center>nginx/1…"
    )
    assert len(info.value.excerpt) == 120
    assert info.value.http_status == 502
    assert info.value.definite is False


def test_it_reads_an_html_page_with_200_as_a_protocol_error():
    client, _ = answer("<html><body><font>code</font></body></html>")
    with pytest.raises(errors.ProtocolError) as info:
        client.get_balance()
    assert info.value.excerpt == "<html><body><font>code</font></body></html>"
    assert type(info.value) is errors.ProtocolError


def test_it_reads_json_truncated_at_18323_bytes_as_a_protocol_error():
    full = (
        "{"
        + ",".join(f'"{country}":{{"tg":{{"cost":0.25,"count":{country}}}}}' for country in range(2000))
        + "}"
    )
    truncated = full.encode()[:18323]
    assert len(truncated) == 18323
    client, _ = answer(truncated)
    with pytest.raises(errors.ProtocolError) as info:
        client.get_prices()
    assert "truncated" in info.value.message
    assert info.value.excerpt.startswith('{"0":{"tg":{"cost":0.25,"count":0}}')
    assert len(info.value.excerpt) <= 120


def test_it_reads_an_empty_body_as_a_protocol_error():
    client, _ = answer("")
    with pytest.raises(errors.ProtocolError) as info:
        client.get_balance()
    assert info.value.message == "The provider sent an empty answer."


def test_it_reads_a_502_with_empty_body_as_upstream_unavailable():
    client, _ = answer("   \n", 503)
    with pytest.raises(errors.UpstreamUnavailable):
        client.get_number(service="vk", country=0)


def test_it_reads_an_unexpected_answer_as_a_protocol_error():
    client, _ = answer("ACCESS_READY")
    with pytest.raises(errors.ProtocolError) as info:
        client.get_balance()
    assert info.value.excerpt == "ACCESS_READY"


def test_it_reads_an_unknown_error_token_as_a_generic_provider_error():
    client, _ = answer("SERVICE_UNAVAILABLE_REGION")
    with pytest.raises(errors.ProviderError) as info:
        client.get_number(service="vk", country=0)
    assert type(info.value) is errors.ProviderError
    assert info.value.code == "SERVICE_UNAVAILABLE_REGION"
    assert info.value.message == "The provider answered SERVICE_UNAVAILABLE_REGION."


# --- quirk 15: type drift ---------------------------------------------------------------------


def test_it_reads_the_classic_get_number_v2_shape():
    body = (
        '{"activationId":635468024,"phoneNumber":"79584000000","activationCost":"12.50","countryCode":"0",'
        '"canGetAnotherSms":"1","activationTime":"2022-06-01 17:30:57","activationOperator":"mtt"}'
    )
    client, _ = answer(body)
    assert client.get_number_v2(service="vk", country=0) == NumberOrder(
        activation_id="635468024",
        phone="79584000000",
        cost=Decimal("12.50"),
        currency="RUB",
        country=0,
        operator="mtt",
        activation_time=datetime(2022, 6, 1, 14, 30, 57, tzinfo=UTC),
        activation_end_time=None,
        can_get_another_sms=True,
    )


def test_it_reads_the_hero_get_number_v2_shape():
    body = (
        '{"activationId":"635468024","phoneNumber":"6281234567890","activationCost":12.5,"currency":840,'
        '"countryCode":6,"countryPhoneCode":62,"canGetAnotherSms":true,"activationTime":"2026-02-18T16:11:33+00:00",'
        '"activationEndTime":"2026-02-18T18:11:23+00:00","activationOperator":"any","verificationType":"sms",'
        '"subtype":1,"serviceCode":"vk","status":4}'
    )
    client, _ = answer(body, dialect="hero", currency="USD")
    assert client.get_number_v2(service="vk", country=6) == NumberOrder(
        activation_id="635468024",
        phone="6281234567890",
        cost=Decimal("12.5"),
        currency="USD",
        country=6,
        operator="any",
        activation_time=datetime(2026, 2, 18, 16, 11, 33, tzinfo=UTC),
        activation_end_time=datetime(2026, 2, 18, 18, 11, 23, tzinfo=UTC),
        can_get_another_sms=True,
        service="vk",
    )


def test_it_reads_classic_active_activations_with_sms_code_list():
    body = (
        '{"status":"success","activeActivations":[{"activationId":"635468021","serviceCode":"vk",'
        '"phoneNumber":"79000000001","activationCost":"12.50","activationStatus":"4","smsCode":["CODE"],'
        '"smsText":"[Your CODE registration code]","activationTime":"2022-06-01 16:59:16","discount":"0.00",'
        '"repeated":"0","countryCode":"0","countryName":"Russia","canGetAnotherSms":"1"}]}'
    )
    client, _ = answer(body)
    assert client.get_active_activations() == [
        ActiveActivation(
            activation_id="635468021",
            service="vk",
            phone="79000000001",
            cost=Decimal("12.50"),
            status="4",
            sms_codes=("CODE",),
            sms_text="[Your CODE registration code]",
            activation_time=datetime(2022, 6, 1, 13, 59, 16, tzinfo=UTC),
            country=0,
            can_get_another_sms=True,
            currency="RUB",
        )
    ]


def test_it_reads_hero_active_activations_from_data_with_sms_code_string():
    body = (
        '{"status":"success","data":[{"activationId":3416693217,"serviceCode":"tg","phoneNumber":"6281200000000",'
        '"activationCost":0.18,"currency":840,"activationStatus":"2","smsCode":"123456","smsText":"Telegram code 123456",'
        '"activationTime":"2026-02-16T12:30:00+03:00","countryCode":6,"canGetAnotherSms":true,'
        '"verificationType":0,"subtype":1}],'
        '"activeActivations":{"affected_rows":1,"num_rows":1,"row":{},"rows":[]}}'
    )
    client, _ = answer(body, dialect="hero", currency="USD")
    [row] = client.get_active_activations()
    assert row.activation_id == "3416693217"
    assert row.sms_codes == ("123456",)
    assert row.cost == Decimal("0.18")
    assert row.currency == "USD"
    assert row.activation_time == datetime(2026, 2, 16, 9, 30, tzinfo=UTC)
    assert row.country == 6


def test_it_reads_empty_sms_code_values_as_no_codes():
    body = (
        '{"status":"success","activeActivations":[{"activationId":"1","serviceCode":"vk","phoneNumber":"79000000001",'
        '"activationCost":"1","activationStatus":"4","smsCode":null,"smsText":null,"activationTime":"2022-06-01 16:59:16",'
        '"countryCode":"0","canGetAnotherSms":"0"}]}'
    )
    client, _ = answer(body)
    [row] = client.get_active_activations()
    assert row.sms_codes == ()
    assert row.sms_text is None
    assert row.can_get_another_sms is False


def test_it_reads_get_countries_as_an_object_keyed_by_id():
    body = (
        '{"0":{"id":0,"rus":"Россия","eng":"Russia","chn":"俄罗斯","visible":1,"retry":1,"rent":1,"multiService":1},'
        '"6":{"id":6,"rus":"Индонезия","eng":"Indonesia","chn":"印度尼西亚","visible":1,"retry":0,"rent":0,"multiService":0}}'
    )
    client, _ = answer(body.encode("utf-8"), headers={"Content-Type": "text/html"})
    assert client.get_countries() == [
        Country(
            id=0,
            rus="Россия",
            eng="Russia",
            chn="俄罗斯",
            visible=True,
            retry=True,
            rent=True,
            multi_service=True,
        ),
        Country(
            id=6,
            rus="Индонезия",
            eng="Indonesia",
            chn="印度尼西亚",
            visible=True,
            retry=False,
            rent=False,
            multi_service=False,
        ),
    ]


def test_it_reads_get_countries_as_a_tiger_array_without_rent():
    body = '[{"id":16,"rus":"Англия","eng":"United Kingdom","chn":"英国","visible":1,"retry":1,"multiService":1}]'
    client, _ = answer(body)
    assert client.get_countries() == [
        Country(
            id=16,
            rus="Англия",
            eng="United Kingdom",
            chn="英国",
            visible=True,
            retry=True,
            rent=None,
            multi_service=True,
        )
    ]


def test_it_reads_smsbower_string_country_ids_and_skips_the_empty_key():
    body = (
        '{"1":{"id":"1","rus":"Украина","eng":"Ukraine","chn":"乌克兰","visible":"1","retry":"1","rent":"0",'
        '"multiService":"0"},"":{"id":null,"rus":"Фарерские острова","eng":"Faroe Islands","chn":"","visible":0}}'
    )
    client, _ = answer(body)
    countries = client.get_countries()
    assert [country.id for country in countries] == [1]
    assert countries[0].visible is True


def test_it_reads_php_empty_array_as_an_empty_operator_map():
    client, _ = answer('{"status":"success","countryOperators":[]}')
    assert client.get_operators(country=999) == {}


def test_it_returns_no_operators_for_operators_not_found():
    client, _ = answer("OPERATORS_NOT_FOUND")
    assert client.get_operators(country=999) == {}


def test_it_reads_operators_per_country():
    client, _ = answer(
        '{"status":"success","countryOperators":{"0":["beeline","megafon","mts"],"1":["life"]}}'
    )
    assert client.get_operators() == {0: ("beeline", "megafon", "mts"), 1: ("life",)}


def test_it_reads_tiger_string_costs_and_hero_physical_counts():
    body = (
        '{"0":{"tg":{"cost":"0.2500","count":"12"}},"6":{"tg":{"cost":0.18,"count":25370,"physicalCount":0}}}'
    )
    client, _ = answer(body)
    assert client.get_prices(service="tg") == [
        PriceEntry(country=0, service="tg", cost=Decimal("0.2500"), count=12, physical_count=None),
        PriceEntry(country=6, service="tg", cost=Decimal("0.18"), count=25370, physical_count=0),
    ]


def test_it_reads_an_empty_price_list():
    for body in ("{}", "[]"):
        client, _ = answer(body)
        assert client.get_prices(service="tg", country=0) == []


def test_it_reads_numbers_status_with_int_and_string_counts():
    client, _ = answer('{"vk_0":76,"av_1":"211","telegram_0":5}')
    stock = {(item.service, item.forward): item.count for item in client.get_numbers_status(country=0)}
    assert stock == {("vk", False): 76, ("av", True): 211, ("telegram", False): 5}


def test_it_reads_history_with_zero_dates_and_string_sms():
    body = (
        '[{"id":635468024,"date":"2022-11-12 15:58:39","phone":"79918529716","sms":["code"],"cost":100,"status":"4"},'
        '{"id":"2640086027","date":"0000-00-00 00:00:00","phone":79918529717,"sms":"7788","cost":"0","status":"8",'
        '"currency":840}]'
    )
    client, _ = answer(body)
    assert client.get_history(start=1668000000, end=1668300000) == [
        HistoryEntry(
            activation_id="635468024",
            date=datetime(2022, 11, 12, 12, 58, 39, tzinfo=UTC),
            phone="79918529716",
            sms=("code",),
            cost=Decimal("100"),
            status="4",
            currency="RUB",
        ),
        HistoryEntry(
            activation_id="2640086027",
            date=None,
            phone="79918529717",
            sms=("7788",),
            cost=Decimal("0"),
            status="8",
            currency="USD",
        ),
    ]


def test_it_reads_top_countries_with_free_price_map():
    body = (
        '{"0":{"country":0,"count":43575,"price":15.00,"retail_price":30.00,'
        '"freePriceMap":{"15.00":43242,"18.00":333}},"1":{"country":6,"count":10,"price":"9.5","retail_price":"19",'
        '"freePriceMap":[]}}'
    )
    client, _ = answer(body)
    first, second = client.get_top_countries_by_service(service="vk", free_price=True)
    assert (first.service, first.rank, first.country, first.count) == ("vk", 0, 0, 43575)
    assert first.price == Decimal("15.00")
    assert first.free_price_map == {Decimal("15.00"): 43242, Decimal("18.00"): 333}
    assert (second.country, second.price, second.free_price_map) == (6, Decimal("9.5"), {})


def test_it_reads_top_countries_for_all_services():
    body = '{"vk":{"0":{"country":0,"count":5,"price":1,"retail_price":2}},"tg":{"0":{"country":6,"count":7,"price":3}}}'
    client, _ = answer(body)
    rows = client.get_top_countries_by_service()
    assert [(row.service, row.country, row.count) for row in rows] == [("vk", 0, 5), ("tg", 6, 7)]


# --- quirk 17: large ids ------------------------------------------------------------------------


def test_it_keeps_ids_above_two_to_the_31_as_strings():
    client, _ = answer("ACCESS_NUMBER:2640086027:60164432151")
    assert client.get_number(service="vk", country=0) == NumberOrder(
        activation_id="2640086027", phone="60164432151", currency="RUB"
    )


def test_it_keeps_sixteen_digit_ids():
    client, _ = answer("ACCESS_NUMBER:8601705018416664:33774545375")
    order = client.get_number(service="tg", country=187)
    assert order.activation_id == "8601705018416664"
    assert order.phone == "33774545375"


def test_it_keeps_sixteen_digit_json_integer_ids_exact():
    client, _ = answer('{"activationId":8601705018416664,"phoneNumber":33774545375,"activationCost":0.5}')
    order = client.get_number_v2(service="tg", country=187)
    assert order.activation_id == "8601705018416664"
    assert order.phone == "33774545375"


# --- quirk 18: empty lists are errors on SMS-Activate ----------------------------------------


def test_it_returns_an_empty_list_for_no_activations():
    client, _ = answer("NO_ACTIVATIONS")
    assert client.get_active_activations() == []


def test_it_returns_an_empty_list_for_hero_empty_data():
    client, _ = answer('{"status":"success","data":[]}', dialect="hero")
    assert client.get_active_activations() == []


def test_it_returns_an_empty_list_for_rent_list_no_numbers():
    client, _ = answer('{"status":"error","message":"NO_NUMBERS"}')
    assert client.get_rent_list() == []


def test_it_reads_the_rent_list():
    client, _ = answer(
        '{"status":"success","values":{"0":{"id":"123456","phone":"79181234567"},"1":{"id":123457,"phone":"79181234568"}}}'
    )
    assert client.get_rent_list() == [
        RentListEntry(rent_id="123456", phone="79181234567"),
        RentListEntry(rent_id="123457", phone="79181234568"),
    ]


@pytest.mark.parametrize(
    ("body", "state"),
    [
        ('{"status":"error","message":"STATUS_WAIT_CODE"}', RentState.WAIT_CODE),
        ('{"status":"error","message":"STATUS_FINISH"}', RentState.FINISH),
        ('{"status":"error","message":"STATUS_CANCEL"}', RentState.CANCEL),
        ('{"status":"success","values":{}}', RentState.WAIT_CODE),
    ],
)
def test_it_reads_rent_states_without_messages(body, state):
    client, _ = answer(body)
    assert client.get_rent_status(id="1049") == RentStatus(status=state)


def test_it_reads_rent_errors_from_the_rent_api():
    client, _ = answer('{"status":"error","message":"INVALID_PHONE"}')
    with pytest.raises(errors.InvalidPhone):
        client.get_rent_status(id="1049")
    client, _ = answer('{"status":"error","error":"NO_ID_RENT"}')
    with pytest.raises(errors.NoIdRent):
        client.get_rent_status(id="")


def test_it_reads_max_hours_exceed_with_its_maximum():
    client, _ = answer('{"status":"error","message":"MAX_HOURS_EXCEED","info":{"max":1344}}')
    with pytest.raises(errors.MaxHoursExceed) as info:
        client.continue_rent_number(id="1049", rent_time=2000)
    assert info.value.maximum == 1344
    assert "1344" in info.value.message


@pytest.mark.parametrize(
    ("message", "error_class"),
    [
        ("INCORECT_STATUS", errors.IncorrectStatus),
        ("CANT_CANCEL", errors.CantCancel),
        ("ALREADY_FINISH", errors.AlreadyFinish),
        ("ALREADY_CANCEL", errors.AlreadyCancel),
        ("INVALID_TIME", errors.InvalidTime),
        ("RENT_DIE", errors.RentDie),
        ("SERVER_ERROR", errors.ErrorSql),
    ],
)
def test_it_reads_every_rent_error(message, error_class):
    client, _ = answer(json.dumps({"status": "error", "message": message}))
    with pytest.raises(error_class):
        client.set_rent_status(id="1049", status=2)


# --- quirk 22: cancel code -----------------------------------------------------------------------


def test_it_sends_status_8_and_reads_access_cancel():
    client, adapter = answer("ACCESS_CANCEL")
    assert client.set_status(id="2640086027", status=8) is SetStatusResult.CANCEL
    assert adapter.query() == [
        ("api_key", adapter.query()[0][1]),
        ("action", "setStatus"),
        ("id", "2640086027"),
        ("status", "8"),
    ]


@pytest.mark.parametrize(
    ("body", "result"),
    [
        ("ACCESS_READY", SetStatusResult.READY),
        ("ACCESS_RETRY_GET", SetStatusResult.RETRY_GET),
        ("ACCESS_ACTIVATION", SetStatusResult.ACTIVATION),
    ],
)
def test_it_reads_every_set_status_answer(body, result):
    client, _ = answer(body)
    assert client.set_status(id="1", status=6) is result


def test_it_reads_bad_status_and_early_cancel_tokens():
    client, _ = answer("BAD_STATUS")
    with pytest.raises(errors.BadStatus):
        client.set_status(id="1", status=1)
    client, _ = answer("EARLY_CANCEL_DENIED")
    with pytest.raises(errors.EarlyCancelDenied) as info:
        client.set_status(id="1", status=8)
    assert info.value.min_seconds is None


# --- quirk 25: unsupported actions ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "status"),
    [("BAD_ACTION", 200), ('{"title":"BAD_ACTION","details":"Method Not Found"}', 404)],
)
def test_it_reads_unsupported_actions_as_bad_action(body, status):
    client, _ = answer(body, status)
    with pytest.raises(errors.BadAction):
        client.get_numbers_status(country=0)


# --- quirk 27: balance without decimals --------------------------------------------------------


def test_it_reads_a_balance_without_decimals():
    client, _ = answer("ACCESS_BALANCE:540")
    assert client.get_balance().amount == Decimal("540")


def test_it_reads_a_balance_as_a_bare_number_or_json():
    client, _ = answer("12.5085")
    assert client.get_balance() == Balance(Decimal("12.5085"), "RUB")
    client, _ = answer('{"balance":"4.6820","currency":840}')
    assert client.get_balance() == Balance(Decimal("4.6820"), "USD")
