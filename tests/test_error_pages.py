"""The 404, 403 and 500 pages with DEBUG off: a member keeps the team's navigation and a way back; an
outsider learns nothing about the team; the 500 page renders without a request context or the database."""

import uuid

import pytest
from django.template import Context
from django.template.loader import get_template
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _production_errors(settings):
    settings.DEBUG = False


def _client(user) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def test_a_missing_activation_is_a_404_that_keeps_the_team_navigation(bob, team):
    client = _client(bob)
    board = reverse("activations:board", args=[team.slug])
    response = client.post(
        reverse("activations:action", args=[team.slug]),
        {"action": "finish", "activation": str(uuid.uuid4())},
        HTTP_REFERER="http://testserver" + board,
    )
    assert response.status_code == 404
    html = response.content.decode()
    assert 'id="teamnav"' in html and 'aria-controls="teamnav"' in html
    assert f'href="{reverse("rentals:board", args=[team.slug])}"' in html
    assert f'href="{reverse("accounts:team_home", args=[team.slug])}"' in html
    assert f'href="http://testserver{board}"' in html  # back to the page the member came from
    assert "Not found" in html


def test_an_unknown_page_under_a_team_keeps_its_navigation(bob, team):
    response = _client(bob).get(f"/t/{team.slug}/no-such-page/")
    assert response.status_code == 404
    assert 'id="teamnav"' in response.content.decode()


def test_a_forbidden_write_is_a_403_that_keeps_the_team_navigation(vera, team):
    response = _client(vera).post(
        reverse("activations:buy", args=[team.slug]), {"service": "tg", "country": "0"}
    )
    assert response.status_code == 403
    html = response.content.decode()
    assert "Not allowed" in html
    assert 'id="teamnav"' in html
    assert f'href="{reverse("accounts:team_home", args=[team.slug])}"' in html


def test_an_outsider_gets_a_plain_404_that_names_no_team(charlie, team):
    response = _client(charlie).get(reverse("activations:board", args=[team.slug]))
    assert response.status_code == 404
    html = response.content.decode()
    assert 'id="teamnav"' not in html and team.name not in html
    assert f'href="{reverse("home")}"' in html


def test_a_back_link_never_leads_off_site(bob, team):
    response = _client(bob).get(f"/t/{team.slug}/no-such-page/", HTTP_REFERER="https://evil.example/")
    assert response.status_code == 404
    assert "evil.example" not in response.content.decode()


def test_the_500_page_renders_from_an_empty_context_without_the_database(django_assert_num_queries):
    with django_assert_num_queries(0):
        html = get_template("500.html").template.render(Context())
    assert "Something went wrong" in html
    assert f'href="{reverse("home")}"' in html


def test_a_server_error_shows_the_500_page(bob, team, monkeypatch):
    from config import views

    def boom(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(views, "home_for", boom)
    board = "http://testserver" + reverse("activations:board", args=[team.slug])
    response = _client(bob).get(reverse("accounts:team_home", args=[team.slug]), HTTP_REFERER=board)
    assert response.status_code == 500
    html = response.content.decode()
    assert "Something went wrong" in html
    assert f'href="{board}"' in html  # back where the member came from
    assert 'id="teamnav"' not in html  # nothing that needs the database


def test_favicon_ico_leads_to_the_svg_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"].endswith("/img/favicon.svg")
    page = client.get(reverse("login")).content.decode()
    assert 'rel="icon" href="/static/img/favicon.svg"' in page
