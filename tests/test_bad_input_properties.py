"""Arbitrary text in every field of every form, and arbitrary webhook bodies: never a 500, and an input a
form refuses writes nothing."""

import uuid
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.crypto import encrypt_secret
from accounts.models import ApiKey, AuditEntry, Invite, KeyHealth, LedgerEntry, Membership, Team
from activations.models import Activation, Preset
from prices.models import PriceAlert
from rentals.models import Rental, RentalStatus

# Text a browser can send (no lone surrogates), now and then a value at the edge of a column.
TEXT = st.one_of(
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=40),
    st.sampled_from(
        ["²", "٣", "99999999999", str(2**64), "-1", "1e999", "NaN", "9999-12-31", "", " ", "\x00"]
    ),
)
PROPERTY = settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))

WATCHED = [Activation, Rental, ApiKey, Membership, Invite, PriceAlert, Preset, LedgerEntry, AuditEntry, Team]


def _state() -> tuple:
    """Every row count, and the rows a settings form may change."""
    return (
        tuple(model.objects.count() for model in WATCHED),
        tuple(Team.objects.values_list("name", "auto_cancel_minutes")),
        tuple(Membership.objects.values_list("role", "daily_spend_limit").order_by("pk")),
        tuple(ApiKey.objects.values_list("label", "daily_budget", "max_price", "restrict_to_members")),
        tuple(Rental.objects.values_list("hours", "auto_renew")),
    )


@pytest.fixture
def cast(team, alice, bob) -> dict:
    secret = "secret-1234"
    key = ApiKey.objects.create(
        team=team, label="Key", profile="sandbox", secret_encrypted=encrypt_secret(secret),
        secret_last4=secret[-4:], currency="RUB", health=KeyHealth.OK,
    )  # fmt: skip
    rental = Rental.objects.create(
        team=team, api_key=key, upstream_id="1", phone="79000000002", service="tg", country=0,
        cost=Decimal("1"), total_cost=Decimal("1"), currency="RUB", status=RentalStatus.ACTIVE,
    )  # fmt: skip
    client = Client()
    client.force_login(alice)
    return {
        "client": client,
        "key": key,
        "rental": rental,
        "bob": Membership.objects.get(team=team, user=bob),
    }


# (url name, its arguments from the cast, the fields filled with arbitrary text)
FORMS = [
    ("activations:buy", lambda c: [], ["api_key", "service", "country", "operator", "max_price", "phone_exception"]),
    ("activations:buy_multi", lambda c: [], ["api_key", "services", "country", "operator", "forward_service"]),
    ("rentals:rent", lambda c: [], ["api_key", "country", "operator", "hours", "service"]),
    ("rentals:extend", lambda c: [c["rental"].public_id], ["hours"]),
    ("rentals:auto_renew", lambda c: [c["rental"].public_id], ["enabled", "before_hours", "hours", "budget", "until"]),
    ("providers:key_add", lambda c: [], ["label", "profile", "base_url", "secret"]),
    ("providers:key_edit", lambda c: [c["key"].public_id], ["label", "daily_budget", "max_price", "allowed_members"]),
    ("accounts:member_edit", lambda c: [c["bob"].public_id], ["role", "daily_spend_limit"]),
    ("accounts:invite_create", lambda c: [], ["role", "email"]),
    ("accounts:team_settings", lambda c: [], ["name", "auto_cancel_minutes"]),
    ("prices:alert_add", lambda c: [], ["key", "service", "country", "price_below", "stock_above"]),
]  # fmt: skip


@pytest.mark.parametrize("name,args,fields", FORMS, ids=[name for name, _, _ in FORMS])
@PROPERTY
@given(data=st.data())
def test_no_form_answers_arbitrary_text_with_a_500_or_a_write(cast, team, name, args, fields, data):
    values = {field: data.draw(TEXT, label=field) for field in fields}
    values["request_token"] = str(uuid.uuid4())
    before = _state()
    response = cast["client"].post(reverse(name, args=[team.slug, *args(cast)]), values)
    assert response.status_code < 500
    form = (response.context or {}).get("form") if response.status_code == 200 else None
    if form is not None and form.errors:
        assert _state() == before


@pytest.mark.parametrize("name,args,fields", FORMS, ids=[name for name, _, _ in FORMS])
@pytest.mark.parametrize("value", ["²", "99999999999", str(2**64), "-" + str(2**64), "\x00", "1e999"])
def test_no_form_answers_an_edge_value_with_a_500(cast, team, name, args, fields, value):
    values = dict.fromkeys(fields, value) | {"request_token": str(uuid.uuid4())}
    before = _state()
    response = cast["client"].post(reverse(name, args=[team.slug, *args(cast)]), values)
    assert response.status_code < 500
    assert _state()[0] == before[0]


BODIES = st.one_of(
    st.binary(max_size=200),
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
        max_leaves=20,
    ).map(lambda value: __import__("json").dumps(value).encode()),
    st.fixed_dictionaries(
        {"activationId": st.just("1"), "rentId": st.just("1")},
        optional={"code": TEXT, "text": TEXT, "receivedAt": TEXT, "date": TEXT, "phoneFrom": TEXT},
    ).map(lambda value: __import__("json").dumps(value).encode()),
)


@pytest.mark.parametrize("hook", ["activations:webhook", "rentals:webhook"])
@PROPERTY
@given(body=BODIES)
def test_no_webhook_body_gives_a_500(cast, hook, body):
    response = Client().post(
        reverse(hook, args=[cast["key"].webhook_token]), body, content_type="application/json"
    )
    assert response.status_code in (200, 400)


@pytest.mark.parametrize("field", ["country", "stock_above"])
def test_an_alert_refuses_a_number_beyond_its_column(cast, field):
    from prices.forms import AlertForm

    values = {"key": str(cast["key"].public_id), "service": "tg", "country": "0", "price_below": "1"}
    form = AlertForm(values | {field: str(2**31)}, keys=[cast["key"]])
    assert not form.is_valid() and field in form.errors
