"""Each member's language and time zone: the Preferences page, the user menu's language switcher, the
browser's language as the default, and mails in the recipient's language."""

import re

import pytest
from django.core import mail
from django.test import Client

from accounts.models import Membership, User
from tests.accounts.conftest import client_for
from tests.catalogs import install_russian

pytestmark = pytest.mark.django_db


@pytest.fixture
def russian(tmp_path, settings):
    install_russian(settings, tmp_path)


def _lang(response) -> str:
    return re.search(r'<html lang="([^"]+)"', response.content.decode()).group(1)


def test_the_user_menu_links_preferences_and_switches_between_english_and_russian(team, alice):
    page = client_for(alice).get("/t/acme/").content.decode()
    menu = page[page.index("usermenu") :]
    assert 'href="/me/preferences/"' in menu
    assert 'action="/me/language/"' in menu
    assert 'name="language" value="en"' in menu and ">English<" in menu
    assert 'name="language" value="ru"' in menu and ">Русский<" in menu
    assert 'name="next" value="/t/acme/"' in menu


def test_the_switcher_saves_on_the_user_and_the_next_page_speaks_it(team, alice, russian):
    client = client_for(alice)
    response = client.post("/me/language/", {"language": "ru", "next": "/t/acme/members/"})
    assert response.status_code == 302 and response["Location"] == "/t/acme/members/"
    alice.refresh_from_db()
    assert alice.language == "ru"
    page = client.get("/t/acme/members/")
    assert _lang(page) == "ru" and page["Content-Language"] == "ru"
    assert "Участники" in page.content.decode()
    # Saved on the user, not in this browser: another browser of hers speaks it too.
    assert _lang(client_for(alice).get("/t/acme/")) == "ru"
    client.post("/me/language/", {"language": "en", "next": "/t/acme/members/"})
    assert "Участники" not in client.get("/t/acme/members/").content.decode()


@pytest.mark.parametrize(
    "target",
    ["https://evil.example/", "//evil.example/x", "javascript:alert(1)", "", "http://testserver@evil/"],
)
def test_the_switcher_only_goes_back_to_this_site(team, alice, target):
    response = client_for(alice).post("/me/language/", {"language": "ru", "next": target})
    assert response.status_code == 302 and response["Location"] == "/"


def test_the_switcher_refuses_an_unknown_language_and_needs_csrf_and_a_login(team, alice):
    client_for(alice).post("/me/language/", {"language": "xx", "next": "/"})
    alice.refresh_from_db()
    assert alice.language == ""
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(alice)
    assert strict.post("/me/language/", {"language": "ru"}).status_code == 403
    assert client_for(alice).get("/me/language/").status_code == 405
    anonymous = Client().post("/me/language/", {"language": "ru"})
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")
    alice.refresh_from_db()
    assert alice.language == ""


def test_without_a_saved_language_the_browser_decides(team, alice):
    client = client_for(alice)
    assert _lang(client.get("/t/acme/", HTTP_ACCEPT_LANGUAGE="ru-RU,ru;q=0.9")) == "ru"
    assert _lang(client.get("/t/acme/", HTTP_ACCEPT_LANGUAGE="en-US")) == "en"
    alice.language = "en"
    alice.save()
    assert _lang(client.get("/t/acme/", HTTP_ACCEPT_LANGUAGE="ru-RU,ru;q=0.9")) == "en"


def test_the_preferences_page_saves_language_and_time_zone(team, alice, russian):
    team.time_zone = "Europe/Moscow"
    team.save()
    client = client_for(alice)
    page = client.get("/me/preferences/").content.decode()
    assert "Team&#x27;s time zone (Europe/Moscow)" in page or "Team's time zone (Europe/Moscow)" in page
    # The common zones come first; every zone is there, grouped by region.
    assert page.index('value="Europe/Moscow"') < page.index('value="America/New_York"')
    assert "Asia/Vladivostok (UTC+10:00)" in page
    response = client.post("/me/preferences/", {"language": "ru", "time_zone": "Asia/Vladivostok"})
    assert response.status_code == 302
    alice.refresh_from_db()
    assert (alice.language, alice.time_zone) == ("ru", "Asia/Vladivostok")
    page = client.get("/me/preferences/")
    assert _lang(page) == "ru" and "Настройки" in page.content.decode()
    assert 'data-time-zone="Asia/Vladivostok"' in page.content.decode()
    # Blank again: the browser's language and the team's zone.
    client.post("/me/preferences/", {"language": "", "time_zone": ""})
    alice.refresh_from_db()
    assert (alice.language, alice.time_zone) == ("", "")


@pytest.mark.parametrize("data", [{"time_zone": "Mars/Olympus"}, {"language": "de"}])
def test_the_preferences_page_refuses_what_it_does_not_offer(team, alice, data):
    response = client_for(alice).post("/me/preferences/", {"language": "", "time_zone": "", **data})
    assert response.status_code == 200 and 'class="error"' in response.content.decode()
    alice.refresh_from_db()
    assert (alice.language, alice.time_zone) == ("", "")


def test_the_preferences_page_needs_a_login():
    response = Client().get("/me/preferences/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_a_password_reset_mail_speaks_the_recipients_language(alice, russian, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    alice.language = "ru"
    alice.save()
    # Asked from an English browser, read by a Russian speaker.
    Client().post("/accounts/password/reset/", {"email": alice.email}, HTTP_ACCEPT_LANGUAGE="en")
    assert [m.subject for m in mail.outbox] == ["Сброс пароля simdesk"]
    alice.language = ""
    alice.save()
    Client().post("/accounts/password/reset/", {"email": alice.email}, HTTP_ACCEPT_LANGUAGE="en")
    assert mail.outbox[-1].subject == "Reset your simdesk password"


def test_an_invite_mail_speaks_the_language_its_recipient_chose(team, alice, russian, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    User.objects.create_user("rita", email="rita@example.com", password="x", language="ru")
    client = client_for(alice)
    client.post("/t/acme/members/invite/", {"role": "operator", "email": "RITA@example.com"})
    client.post("/t/acme/members/invite/", {"role": "operator", "email": "nobody@example.com"})
    assert [m.subject for m in mail.outbox] == [
        "Вас приглашают в Acme на simdesk",
        "You are invited to Acme on simdesk",
    ]
    assert Membership.objects.filter(team=team).count() == 1  # invites only
