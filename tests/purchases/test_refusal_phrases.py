"""A provider's refusal is stored on the purchase as words of the one refusal table with their parameters
(`kit.phrases`), not in the language of whoever bought: the buyer reads it now in theirs, the team later in
each member's own."""

import json
from decimal import Decimal

import pytest
from django.utils import translation

from activations.models import Activation, ActivationStatus
from kit.phrases import phrase_text
from providers import errors
from purchases.services import PurchaseRefused, purchase_refused
from tests.accounts.conftest import make_key
from tests.catalogs import install_russian

LOWEST = "The price is above your maximum; the lowest price now is %(min)s."
LOST = "The provider's answer was lost (%(code)s); checking with the provider whether it went through."


@pytest.fixture
def russian(settings, tmp_path):
    install_russian(
        settings,
        tmp_path,
        {
            LOWEST: "Цена выше вашего максимума; самая низкая цена сейчас %(min)s.",
            LOST: "Ответ провайдера потерян (%(code)s); проверяем у провайдера, прошла ли покупка.",
        },
    )


def _intent(team, alice) -> Activation:
    return Activation.objects.create(
        team=team, api_key=make_key(team), member=alice, service="tg", country=0, currency="RUB",
        status=ActivationStatus.PENDING,
    )  # fmt: skip


def test_a_refusal_is_stored_untranslated_and_read_in_each_language(russian, team, alice):
    row = _intent(team, alice)
    with translation.override("ru"), pytest.raises(PurchaseRefused) as refused:  # a Russian buyer
        purchase_refused(row, errors.WrongMaxPrice(minimum=Decimal("12.5")), actor=alice)
    assert refused.value.message == "Цена выше вашего максимума; самая низкая цена сейчас 12.50."
    row.refresh_from_db()
    assert row.status == ActivationStatus.FAILED
    assert json.loads(row.error_message) == {"m": LOWEST, "p": {"min": {"$": "12.5000"}}}
    with translation.override("en"):  # an English teammate reading the history later
        assert (
            phrase_text(row.error_message)
            == "The price is above your maximum; the lowest price now is 12.50."
        )


def test_a_lost_answer_is_stored_untranslated(russian, team, alice):
    row = _intent(team, alice)
    with translation.override("en"):  # a worker
        purchase_refused(row, errors.UpstreamUnavailable(), actor=None)
    row.refresh_from_db()
    assert row.status == ActivationStatus.UNKNOWN
    with translation.override("ru"):
        assert phrase_text(row.error_message).startswith("Ответ провайдера потерян (")
