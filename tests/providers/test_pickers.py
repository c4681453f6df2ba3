"""The catalogue pickers: a typed name (any language, any case) or code resolves to the code; an unknown
name is a form error; a history search finds every matching code; lists show the name with the code."""

import pytest
from django import forms
from django.template import Context, Template
from django.utils import translation

from providers.models import CatalogCountry, CatalogService, Provider
from providers.pickers import CountryField, CountrySearchField, ServiceField, ServiceSearchField
from providers.selectors import Catalogue, Names, Option, matching, resolve

SERVICES = [
    Option("tg", "Telegram"),
    Option("wa", "WhatsApp"),
    Option("vk", "VKontakte", ("ВКонтакте",)),
    Option("ot", "Any other"),
]
COUNTRIES = [
    Option("0", "Russia", ("Russia", "Россия", "俄罗斯")),
    Option("1", "Ukraine", ("Ukraine", "Украина")),
    Option("187", "USA", ("USA", "США")),
]


class PickForm(forms.Form):
    service = ServiceField(label="Service")
    country = CountryField(label="Country")
    services = ServiceField(label="Services", multiple=True, required=False)

    def __init__(self, data, *, services=SERVICES, countries=COUNTRIES):
        super().__init__(data)
        self.fields["service"].options = services
        self.fields["services"].options = services
        self.fields["country"].options = countries


@pytest.mark.parametrize("typed", ["Telegram", "telegram", "TELEGRAM ", "tg", "TG", "Telegram (tg)"])
def test_it_resolves_a_service_by_name_or_code_in_any_case(typed):
    form = PickForm({"service": typed, "country": "0"})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["service"] == "tg"


@pytest.mark.parametrize("typed", ["Россия", "россия", "Russia", "russia", "0", "俄罗斯"])
def test_it_resolves_a_country_by_a_name_in_any_language_or_its_number(typed):
    form = PickForm({"service": "tg", "country": typed})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["country"] == 0


def test_an_unknown_name_is_a_clear_error_on_its_field():
    form = PickForm({"service": "Telegramm", "country": "Narnia"})
    assert not form.is_valid()
    assert "No service is called “Telegramm”" in form.errors["service"][0]
    assert "No country is called “Narnia”" in form.errors["country"][0]


def test_a_number_or_code_the_catalogue_does_not_list_is_refused_too():
    form = PickForm({"service": "zzzz", "country": "9999"})
    assert not form.is_valid()
    assert set(form.errors) == {"service", "country"}


def test_without_a_catalogue_only_codes_are_understood():
    assert PickForm({"service": "TG", "country": "0"}, services=[], countries=[]).is_valid()
    form = PickForm({"service": "Tele gram", "country": "Russia"}, services=[], countries=[])
    assert not form.is_valid() and set(form.errors) == {"service", "country"}


def test_several_services_are_read_by_name_or_code_and_unknown_ones_named():
    form = PickForm({"service": "tg", "country": "0", "services": "Telegram, wa ,ВКонтакте"})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["services"] == ["tg", "wa", "vk"]
    form = PickForm({"service": "tg", "country": "0", "services": "tg, Signall"})
    assert not form.is_valid() and "Signall" in str(form.errors["services"])


def test_the_widget_lists_codes_named_with_a_label_and_an_announced_name_slot():
    html = str(PickForm(None)["service"])
    assert 'list="id_service-options"' in html and 'data-picker="one"' in html
    assert '<option value="tg">Telegram</option>' in html
    assert 'id="id_service-name"' in html and 'aria-describedby="id_service-name"' in html
    assert "<script" not in html and "style=" not in html  # the page's CSP forbids inline code
    assert 'data-picker="multiple"' in str(PickForm(None)["services"])


def test_a_search_finds_every_code_whose_name_contains_the_text():
    assert [o.code for o in matching("tele", SERVICES)] == ["tg"]
    assert {o.code for o in matching("a", COUNTRIES)} == {"0", "1", "187"}
    assert resolve("США", COUNTRIES).code == "187"
    assert resolve("nothing", COUNTRIES) is None

    field = ServiceSearchField(required=False)
    field.options = SERVICES
    assert field.clean("Telegram") == ["tg"]
    assert field.clean("zz") == ["zz"]  # a code the catalogue no longer lists still finds its rows
    with pytest.raises(forms.ValidationError):
        field.clean("Не сервис")
    countries = CountrySearchField(required=False)
    countries.options = COUNTRIES
    assert countries.clean("россия") == [0]
    assert countries.clean("5") == [5]


@pytest.mark.django_db
def test_names_come_from_the_stored_catalogue_in_the_readers_language():
    provider = Provider.objects.create(profile="sandbox", base_url="http://x.test")
    CatalogCountry.objects.create(provider=provider, code=0, name_eng="Russia", name_rus="Россия")
    CatalogService.objects.create(provider=provider, code="tg", name_en="Telegram")
    with translation.override("ru"):
        names = Names(provider)
        assert names.country_name(0) == "Россия" and names.service_name("tg") == "Telegram"
        [country] = names.country_options()
        assert country.name == "Россия" and resolve("Russia", [country]) is country
    with translation.override("en"):
        assert Names([provider]).country_name("0") == "Russia"


def test_a_list_shows_the_name_with_the_code_muted_beside_it():
    catalogue = Catalogue(countries=COUNTRIES, services=SERVICES)
    html = Template(
        "{% load provider_tags %}{% service_named c 'tg' %}|{% country_named c 0 %}|{% service_named c 'zz' %}"
    ).render(Context({"c": catalogue}))
    named_tg, named_ru, unnamed = html.split("|")
    assert "Telegram" in named_tg and '<span class="muted mono small code-tag">tg</span>' in named_tg
    assert "Russia" in named_ru and ">0</span>" in named_ru
    assert "zz" in unnamed and "muted" not in unnamed
