"""Absurd provider values (huge numbers, NaN, negatives, deep nesting, odd types): the parser refuses them
as a shape error (a ProtocolError to the caller) or reads them, never anything else; a snapshot skips an
absurd offer instead of failing."""

import json
import logging
from datetime import UTC
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prices.models import LatestPrice
from prices.services import Offer, snapshot_store
from providers import parsing
from providers.errors import ProviderError
from providers.parsing import ShapeError, as_decimal, as_int, decode_answer, parse_prices, parse_time

MSK = ZoneInfo("Europe/Moscow")


def _answer(data: object) -> parsing.Answer:
    return decode_answer(json.dumps(data).encode(), 200, secret="secret", provider_tz=MSK)


@pytest.mark.parametrize(
    "value", ["1e15", "99999999999999", 10**20, "NaN", "inf", "-1e12", "1e999999999", float("nan")]
)
def test_it_refuses_a_money_amount_no_column_holds(value):
    with pytest.raises(ShapeError):
        as_decimal(value, "cost")


@pytest.mark.parametrize("value", [2**31, "2147483648", -(2**31) - 1, "1e999999999", Decimal("1e5000"), "²"])
def test_it_refuses_a_count_no_column_holds(value):
    with pytest.raises(ShapeError):
        as_int(value, "count")


@pytest.mark.parametrize("value", [99999999999999, "99999999999999", "²", "9" * 5000, Decimal("1e30")])
def test_it_refuses_a_time_out_of_the_calendar(value):
    with pytest.raises(ShapeError):
        parse_time(value, UTC)


def test_it_skips_an_absurd_price_row_and_zeroes_an_absurd_stock():
    rows = parse_prices(
        _answer(
            {
                "0": {
                    "tg": {"cost": "99999999999999", "count": 5},
                    "wa": {"cost": "10", "count": 2**40},
                    "vk": {"cost": "12", "count": 3},
                }
            }
        )
    )
    by_service = {row.service: row for row in rows}
    assert set(by_service) == {"wa", "vk"}
    assert by_service["wa"].count == 0 and by_service["vk"].count == 3


def test_a_snapshot_skips_an_absurd_offer_and_logs_it(db, caplog):
    from providers.models import Provider

    provider = Provider.objects.create(profile="custom", base_url="http://prices.example", currency="RUB")
    offers = [
        Offer(country=0, service="tg", cost=Decimal("1e12"), count=1),
        Offer(country=0, service="wa", cost=Decimal("10"), count=2**40),
        Offer(country=2**40, service="vk", cost=Decimal("10"), count=1),
        Offer(country=0, service="ok", cost=Decimal("10"), count=1),
    ]
    with caplog.at_level(logging.WARNING, logger="prices.services"):
        snapshot = snapshot_store(provider=provider, offers=offers)
    assert snapshot.entries == 1
    assert list(LatestPrice.objects.values_list("service", flat=True)) == ["ok"]
    assert "out of range" in caplog.text


ABSURD = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["NaN", "inf", "1e999999999", "-1", "99999999999999", "²", "", "0000-00-00 00:00:00"]),
    st.text(max_size=20),
)
JSON = st.recursive(
    ABSURD, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=30,
)  # fmt: skip
SHAPED = st.dictionaries(
    st.sampled_from(["0", "1", "tg", "status", "cost", "count", "price", "phone", "activationId", "rows"]),
    JSON,
    max_size=5,
)

PARSERS = [
    (name, getattr(parsing, name))
    for name in sorted(dir(parsing))
    if name.startswith("parse_") and name not in ("parse_time",)
]


def _args(parser) -> list:
    names = parser.__code__.co_varnames[1 : parser.__code__.co_argcount]
    values = {"provider_tz": MSK, "currency": "RUB", "service": "tg", "name": "x"}
    return [values[name] for name in names]


@pytest.mark.parametrize("name,parser", PARSERS, ids=[name for name, _ in PARSERS])
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.one_of(SHAPED, JSON))
def test_a_parser_reads_or_refuses_absurd_values(name, parser, data):
    try:
        body = json.dumps(data, allow_nan=True).encode()
    except (ValueError, OverflowError):
        return
    try:
        answer = decode_answer(body, 200, secret="secret", provider_tz=MSK)
        parser(answer, *_args(parser))
    except (ShapeError, ProviderError):
        pass  # the client turns a ShapeError into a ProtocolError
