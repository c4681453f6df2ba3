"""Answers real HeroSMS, SMSBower, Tiger and SMS-Activate servers send, byte for byte through a fake transport.

Every raw body names its public source beside it. Where a test damages a real row on purpose, the comment says
which part is the source's and which is ours.
"""

import json
import logging
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from providers import errors
from providers.results import Country, RentOrder, Rows
from tests.providers.fake import API_KEY, FakeAdapter, make_client


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch):
    monkeypatch.setattr("providers.client._sleep", lambda seconds: None)


def answer(*bodies, status=200, dialect="classic", currency="RUB"):
    adapter = FakeAdapter()
    for body in bodies:
        adapter.reply(body, status)
    return make_client(adapter, dialect=dialect, currency=currency), adapter


# --- 1. HeroSMS validation errors, JSON and text -------------------------------------------------

# 0xffz/gatewave-app crates/sms-activate/fixtures/hero_sms/getNumberV2_service___probe___country_187.txt
HERO_422_SERVICE = (
    '{"title":"UNPROCESSABLE_ENTITY","details":"Validation failed",'
    '"info":{"field":"service","code":"INVALID","message":""}}'
)
# 0xffz/gatewave-app crates/sms-activate/fixtures/hero_sms/nokey_getBalance.txt
HERO_422_NO_KEY = (
    '{"title":"UNPROCESSABLE_ENTITY","details":"Validation failed",'
    '"info":{"field":"api_key","code":"REQUIRED","message":""}}'
)
# metoakr-cyber/sms api/testdata/fixtures/herosms/openapi-reference.json,
# components.examples.unprocessableEntityExample
HERO_422_REQUIRED = (
    '{"title":"UNPROCESSABLE_ENTITY","details":"Validation failed",'
    '"info":{"field":"service","code":"REQUIRED","message":"Param \'service\' is required."}}'
)


def test_it_reads_heros_json_validation_error_for_an_unknown_service_as_bad_service():
    client, _ = answer(HERO_422_SERVICE, status=422, dialect="hero", currency="USD")
    with pytest.raises(errors.BadService) as info:
        client.get_number_v2(service="__probe__", country=187)
    assert info.value.code == "UNPROCESSABLE_ENTITY" and info.value.http_status == 422
    assert info.value.info == {"field": "service", "code": "INVALID", "message": ""}
    assert info.value.definite is True


def test_it_reads_a_missing_key_in_heros_json_form_as_a_bad_key():
    client, _ = answer(HERO_422_NO_KEY, status=422, dialect="hero", currency="USD")
    with pytest.raises(errors.BadKey) as info:
        client.get_balance()
    assert info.value.http_status == 422


def test_it_reads_a_required_service_in_heros_documented_example_as_bad_service():
    client, _ = answer(HERO_422_REQUIRED, status=422, dialect="hero", currency="USD")
    with pytest.raises(errors.BadService):
        client.get_number_v2(service="", country=6)


@pytest.mark.parametrize(
    ("field", "error"),
    [
        ("service", errors.BadService),
        ("country", errors.BadCountry),
        ("operator", errors.WrongOperator),
        ("api_key", errors.BadKey),
        ("id", errors.NoActivation),
        ("status", errors.BadStatus),
        ("maxPrice", errors.WrongMaxPrice),
        ("phoneException", errors.WrongExceptionPhone),
        ("duration", errors.InvalidTime),
    ],
)
def test_it_maps_the_refused_field_the_same_way_in_the_text_and_the_json_form(field, error):
    # Shapes: the JSON envelope of HERO_422_SERVICE and the text of 0xffz/gatewave-app
    # crates/sms-activate/fixtures/hero_sms/getNumber_service___probe___country_187.txt
    # ("UNPROCESSABLE_ENTITY:service:INVALID"), with the field varied.
    envelope = json.dumps(
        {
            "title": "UNPROCESSABLE_ENTITY",
            "details": "Validation failed",
            "info": {"field": field, "code": "INVALID", "message": ""},
        }
    )
    client, _ = answer(envelope, status=422, dialect="hero", currency="USD")
    with pytest.raises(error) as from_json:
        client.get_status(id="635468024")
    client, _ = answer(f"UNPROCESSABLE_ENTITY:{field}:INVALID", dialect="hero", currency="USD")
    with pytest.raises(error) as from_text:
        client.get_status(id="635468024")
    assert type(from_json.value) is type(from_text.value)
    assert from_json.value.code == from_text.value.code == "UNPROCESSABLE_ENTITY"


def test_it_reads_a_validation_code_in_details_when_no_field_is_named():
    # 0xffz/gatewave-app crates/sms-activate/src/providers/tiger_sms.rs (documented_envelopes_and_tokens)
    client, _ = answer('{"title":"UNPROCESSABLE_ENTITY","details":"BAD_COUNTRY"}', status=422)
    with pytest.raises(errors.BadCountry):
        client.get_number_v2(service="tg", country=187)


def test_it_keeps_an_unknown_refused_field_a_plain_provider_error():
    # HERO_422_SERVICE's shape with a field no documented error stands for.
    body = HERO_422_SERVICE.replace('"service"', '"fixedPrice"')
    client, _ = answer(body, status=422, dialect="hero", currency="USD")
    with pytest.raises(errors.ProviderError) as info:
        client.get_number_v2(service="tg", country=187, max_price="0.1")
    assert type(info.value) is errors.ProviderError
    assert info.value.info["field"] == "fixedPrice"


# --- 2. HeroSMS rent orders ----------------------------------------------------------------------

# metoakr-cyber/sms api/testdata/fixtures/herosms/openapi-reference.json,
# components.examples.successfulRentNumberExample
HERO_RENT = (
    '{"id":"635468024","phoneNumber":"79584******","cost":1.5333,"currency":840,"lockCancelTime":120,'
    '"endDate":"2022-06-01T22:00:58+03:00","operator":"mtt"}'
)


def test_it_reads_heros_rent_order_with_its_price_and_currency():
    client, adapter = answer(HERO_RENT, dialect="hero", currency="USD")
    order = client.get_rent_number(service="tg", country=6, rent_time=24)
    assert order == RentOrder(
        rent_id="635468024",
        phone="79584******",
        end_date=datetime(2022, 6, 1, 19, 0, 58, tzinfo=UTC),
        cost=Decimal("1.5333"),
        currency="USD",
    )
    assert ("duration", "24") in adapter.query()


def test_it_reads_heros_rent_order_in_the_get_number_v2_shape_too():
    # metoakr-cyber/sms openapi-reference.json successfulNumberv2Example; getRentNumber answers the V2
    # object with "subtype":2 (docs/provider-herosms.md of the same repository).
    body = (
        '{"activationId":"635468024","phoneNumber":"79584******","activationCost":12.5,"currency":840,'
        '"countryCode":6,"countryPhoneCode":62,"canGetAnotherSms":true,'
        '"activationTime":"2026-02-18T16:11:33+00:00","activationEndTime":"2026-02-18T18:11:23+00:00",'
        '"activationOperator":"any","verificationType":"sms","subtype":2,"serviceCode":"vk","status":4}'
    )
    client, _ = answer(body, dialect="hero", currency="USD")
    order = client.get_rent_number(service="vk", country=6, rent_time=2)
    assert (order.rent_id, order.cost, order.currency) == ("635468024", Decimal("12.5"), "USD")
    assert order.end_date == datetime(2026, 2, 18, 18, 11, 23, tzinfo=UTC)


# --- 3. SMSBower top countries keyed by slug -----------------------------------------------------

# 0xffz/gatewave-app crates/sms-activate/fixtures/smsbower/getTopCountriesByService_service_tg.txt
BOWER_TOP = (
    '{"united-states":{"3170":{"price":0.765,"count":1000},"3449":{"price":0.697,"count":159},'
    '"2266":{"price":1.059,"count":1}},"united-states-virtual":{"2262":{"price":0.11,"count":96636}},'
    '"colombia":{"3243":{"price":0.119,"count":16}},"armenia":{"3178":{"price":0.541,"count":5000}},'
    '"united-kingdom":{"3368":{"price":0.485,"count":9384},"3309":{"price":0.578,"count":1100},'
    '"2442":{"price":0.816,"count":416}},"canada":{"3160":{"price":0.132,"count":41994}},'
    '"brazil":{"3439":{"price":0.369,"count":39}},"romania":{"2291":{"price":0.668,"count":1}},'
    '"turkey":{"2920":{"price":3,"count":189},"2260":{"price":3,"count":178},"3042":{"price":3,"count":157}},'
    '"france":{"3403":{"price":1.446,"count":54},"3389":{"price":1.088,"count":3}}}'
)
# An excerpt of 0xffz/gatewave-app crates/sms-activate/fixtures/smsbower/getCountries.txt (ids are
# strings there; the "" row is the Faroe Islands without an id). Romania is left out on purpose.
BOWER_COUNTRIES = (
    '{"187":{"id":"187","rus":"США","eng":"United States","chn":"美国"},'
    '"12":{"id":"12","rus":"США (вирт)","eng":"United States (virtual)","chn":"美国（虚拟）"},'
    '"33":{"id":"33","rus":"Колумбия","eng":"Colombia","chn":"哥伦比亚"},'
    '"148":{"id":"148","rus":"Армения","eng":"Armenia","chn":"亚美尼亚"},'
    '"16":{"id":"16","rus":"Англия","eng":"United Kingdom","chn":"英国"},'
    '"36":{"id":"36","rus":"Канада","eng":"Canada","chn":"加拿大"},'
    '"73":{"id":"73","rus":"Бразилия","eng":"Brazil","chn":"巴西"},'
    '"62":{"id":"62","rus":"Турция","eng":"Turkey","chn":"土耳其"},'
    '"78":{"id":"78","rus":"Франция","eng":"France","chn":"法国"},'
    '"":{"id":null,"rus":"Фарерские острова","eng":"Faroe Islands","chn":"法罗群岛"}}'
)


def test_it_maps_smsbowers_country_slugs_through_its_own_country_list():
    client, adapter = answer(BOWER_TOP, BOWER_COUNTRIES, currency="USD")
    rows = client.get_top_countries_by_service(service="tg")
    assert [q for q in adapter.query(1) if q[0] == "action"] == [("action", "getCountries")]
    assert len(rows) == 17 and rows.damaged == 0
    first = rows[0]
    assert (first.country, first.country_slug, first.provider_id) == (187, "united-states", "3170")
    assert (first.price, first.count, first.service, first.rank) == (Decimal("0.765"), 1000, "tg", 0)
    # The provider's order is kept: countries by its priority, partners by sales within one.
    assert [row.provider_id for row in rows[:4]] == ["3170", "3449", "2266", "2262"]
    assert [row.rank for row in rows] == list(range(17))
    by_slug = {row.country_slug: row.country for row in rows}
    assert by_slug["united-states-virtual"] == 12 and by_slug["united-kingdom"] == 16
    assert by_slug["armenia"] == 148 and by_slug["turkey"] == 62
    # A slug the country list does not name stays visible, without an id.
    (romania,) = [row for row in rows if row.country_slug == "romania"]
    assert romania.country is None and romania.provider_id == "2291" and romania.price == Decimal("0.668")


def test_it_reads_the_country_list_once_per_client():
    client, adapter = answer(BOWER_TOP, BOWER_COUNTRIES, BOWER_TOP, currency="USD")
    client.get_top_countries_by_service(service="tg")
    client.get_top_countries_by_service(service="tg")
    assert adapter.calls == 3


def test_it_keeps_slug_rows_when_the_country_list_cannot_be_read():
    client, _ = answer(BOWER_TOP, "<html><body>502 Bad Gateway</body></html>", currency="USD")
    client.read_retries = 0
    rows = client.get_top_countries_by_service(service="tg")
    assert len(rows) == 17 and all(row.country is None and row.country_slug for row in rows)


def test_it_still_reads_classic_top_countries_without_asking_for_countries():
    # protocol.md (a.1) getTopCountriesByService, the seed's shape as valid JSON.
    body = '{"0":{"country":2,"count":43575,"price":15.00,"retail_price":30.00}}'
    client, adapter = answer(body)
    (row,) = client.get_top_countries_by_service(service="vk")
    assert (row.country, row.country_slug, row.provider_id) == (2, None, None)
    assert adapter.calls == 1


def test_a_classic_top_row_without_its_country_costs_only_itself():
    # protocol.md (a.1) getTopCountriesByService rows; the second row (ours) lost its "country".
    body = (
        '{"0":{"country":2,"count":43575,"price":15.00,"retail_price":30.00},'
        '"1":{"count":100,"price":18.00,"retail_price":30.00},'
        '"2":{"country":0,"count":50,"price":20.00,"retail_price":30.00}}'
    )
    client, _ = answer(body)
    rows = client.get_top_countries_by_service(service="vk")
    assert [(row.rank, row.country) for row in rows] == [(0, 2), (2, 0)]
    assert (rows.damaged, rows.skipped) == (1, 1)


# --- 4. one bad row never discards a list --------------------------------------------------------

# The rows: shared/seed/sms-activate-api.txt getActiveActivations (made valid JSON). The damage is ours:
# the second row's time is PHP's mangled zero date and its phoneNumber is gone.
SEED_ACTIVE = {
    "activationId": "635468021",
    "serviceCode": "vk",
    "phoneNumber": "79********1",
    "activationCost": "12.50",
    "activationStatus": "4",
    "smsCode": ["CODE"],
    "smsText": "[Your CODE registration code]",
    "activationTime": "2022-06-01 16:59:16",
    "discount": "0.00",
    "repeated": "0",
    "countryCode": "0",
    "countryName": "Russia",
    "canGetAnotherSms": "1",
}


def _active_body(*rows):
    return json.dumps({"status": "success", "activeActivations": list(rows)})


def test_it_keeps_the_good_rows_and_the_code_of_a_damaged_one():
    damaged = {**SEED_ACTIVE, "activationId": "635468022", "smsCode": ["54321"]}
    damaged["activationTime"] = "-0001-11-30 00:00:00"
    del damaged["phoneNumber"]
    client, _ = answer(_active_body(SEED_ACTIVE, damaged))
    rows = client.get_active_activations()
    assert isinstance(rows, Rows) and (rows.damaged, rows.skipped) == (1, 0)
    good, bad = rows
    assert good.activation_time == datetime(2022, 6, 1, 13, 59, 16, tzinfo=UTC) and not good.damaged
    assert bad.activation_id == "635468022" and bad.sms_codes == ("54321",) and bad.damaged
    assert bad.activation_time is None and bad.phone == ""
    assert bad.cost == Decimal("12.50") and bad.service == "vk" and bad.country == 0
    assert "time is not a date" in rows.problems and "phone is missing" in rows.problems


def test_it_skips_a_row_without_an_id_and_counts_it():
    anonymous = {key: value for key, value in SEED_ACTIVE.items() if key != "activationId"}
    client, _ = answer(_active_body(anonymous, SEED_ACTIVE, "not a row"))
    rows = client.get_active_activations()
    assert [row.activation_id for row in rows] == ["635468021"]
    assert (rows.damaged, rows.skipped) == (2, 2)


def test_it_reads_heros_list_row_by_row_too():
    # metoakr-cyber/sms openapi-reference.json components.examples.activationsSuccessfulExample; the
    # second row (ours) lost its canGetAnotherSms to a word no flag parser knows.
    row = {
        "activationId": "635468021",
        "serviceCode": "vk",
        "phoneNumber": "79********1",
        "activationCost": 12.5,
        "activationStatus": "4",
        "smsCode": "12345",
        "smsText": "Your code is 12345",
        "activationTime": "2022-06-01 16:59:16",
        "countryCode": "2",
        "countryName": "Kazakhstan",
        "canGetAnotherSms": "1",
        "currency": 840,
        "verificationType": "sms",
        "subtype": 1,
    }
    bad = {**row, "activationId": "635468099", "canGetAnotherSms": "maybe"}
    client, _ = answer(json.dumps({"status": "success", "data": [row, bad]}), dialect="hero", currency="USD")
    rows = client.get_active_activations()
    assert [r.sms_codes for r in rows] == [("12345",), ("12345",)]
    assert rows[1].can_get_another_sms is None and rows.damaged == 1


def test_an_answer_whose_rows_are_all_unreadable_is_still_a_protocol_error():
    client, _ = answer('{"status":"success","activeActivations":["x","y"]}')
    with pytest.raises(errors.ProtocolError):
        client.get_active_activations()


def test_it_logs_a_damaged_answer_once_without_the_key(caplog):
    damaged = {**SEED_ACTIVE, "activationTime": "-0001-11-30 00:00:00"}
    client, _ = answer(_active_body(SEED_ACTIVE, damaged, damaged))
    with caplog.at_level(logging.WARNING, logger="providers.client"):
        rows = client.get_active_activations()
    assert rows.damaged == 2
    records = [r for r in caplog.records if "damaged_rows" in r.getMessage()]
    assert len(records) == 1
    assert "damaged_rows=2" in records[0].getMessage() and "getActiveActivations" in records[0].getMessage()
    assert API_KEY not in caplog.text


def test_the_walk_over_pages_adds_up_the_damaged_rows():
    # HeroSMS pages getActiveActivations by start/limit; rows as in test_it_reads_heros_list_row_by_row_too.
    def page(start, size, damaged_at):
        rows = []
        for index in range(start, start + size):
            row = {**SEED_ACTIVE, "activationId": str(1000 + index)}
            if index == damaged_at:
                row["activationTime"] = "-0001-11-30 00:00:00"
            rows.append(row)
        return json.dumps({"status": "success", "data": rows})

    client, adapter = answer(page(0, 2, 1), page(2, 1, 2), dialect="hero", currency="USD")
    rows = client.get_all_active_activations(page_size=2)
    assert [row.activation_id for row in rows] == ["1000", "1001", "1002"]
    assert rows.damaged == 2 and adapter.calls == 2


def test_a_history_row_with_a_broken_date_keeps_its_code_and_price():
    # metoakr-cyber/sms openapi-reference.json components.examples.successfulActivationsHistoryExample,
    # and a second row of ours whose date is mangled.
    body = (
        '[{"id":"635468024","date":"0000-00-00 00:00:00","phone":"7*********0","sms":"Your code is ****",'
        '"cost":0,"status":"4","currency":840},'
        '{"id":"635468025","date":"-0001-11-30 00:00:00","phone":"7*********1","sms":"1234",'
        '"cost":0.25,"status":"6","currency":840}]'
    )
    client, _ = answer(body, dialect="hero", currency="USD")
    first, second = rows = client.get_history()
    assert first.date is None and not first.damaged  # the zero date is "no date", not damage
    assert second.date is None and second.damaged and second.sms == ("1234",)
    assert second.cost == Decimal("0.25") and rows.damaged == 1


def test_a_rent_list_row_without_its_phone_is_kept():
    # shared/seed/sms-activate-api.txt getRentList; the second row's phone is removed (ours).
    body = '{"status":"success","values":{"0":{"id":"123456","phone":"79181234567"},"1":{"id":"123457"}}}'
    client, _ = answer(body)
    rows = client.get_rent_list()
    assert [(row.rent_id, row.phone, row.damaged) for row in rows] == [
        ("123456", "79181234567", False),
        ("123457", "", True),
    ]
    assert rows.damaged == 1


def test_empty_lists_carry_a_zero_count():
    client, _ = answer("NO_ACTIVATIONS", "NO_NUMBERS")
    assert client.get_active_activations().damaged == 0
    assert client.get_rent_list().damaged == 0


def test_a_price_map_keeps_every_good_cell_and_leaves_the_countryless_one_out():
    # An excerpt of 0xffz/gatewave-app crates/sms-activate/fixtures/smsbower/getPrices_service_tg.txt with
    # its "" country (the Faroe Islands, no id), and one cell of ours whose cost is not a number.
    body = (
        '{"31":{"tg":{"cost":0.239,"count":113099}},"22":{"tg":{"cost":1.51,"count":105127}},'
        '"":{"tg":{"cost":0.306,"count":1052}},"187":{"tg":{"cost":2.592,"count":213697}},'
        '"12":{"tg":{"cost":"n/a","count":363936}}}'
    )
    client, _ = answer(body, currency="USD")
    rows = client.get_prices(service="tg")
    assert [(row.country, row.cost) for row in rows] == [
        (31, Decimal("0.239")),
        (22, Decimal("1.51")),
        (187, Decimal("2.592")),
    ]
    assert (rows.damaged, rows.skipped) == (1, 1)


def test_country_slugs_come_from_the_english_name():
    from providers.parsing import country_slug, country_slug_ids

    assert country_slug("United States (virtual)") == "united-states-virtual"
    assert country_slug("Côte d'Ivoire") == "cote-d-ivoire"
    ids = country_slug_ids([Country(187, "США", "United States", "", None, None, None, None)])
    assert ids["united-states"] == 187
