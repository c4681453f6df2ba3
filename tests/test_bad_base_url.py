"""A custom provider's base URL: only http and https, refused with a clear message (never a 500)."""

import pytest
from django.urls import reverse

from accounts.models import ApiKey, Membership
from tests.test_bad_input import login, make_key


@pytest.mark.parametrize("base_url", ["ftp://example.com", "ftps://example.com", "file:///etc/passwd"])
def test_it_refuses_a_base_url_that_is_not_http(team, alice, base_url):
    response = login(alice).post(
        reverse("providers:key_add", args=[team.slug]),
        {"label": "Custom", "profile": "custom", "base_url": base_url, "secret": "typed-secret-9999"},
    )
    assert response.status_code == 200
    assert "typed-secret-9999" not in response.content.decode()
    assert "base_url" in response.context["form"].errors
    assert not ApiKey.objects.exists()


def test_it_normalises_an_upper_case_scheme():
    from providers.forms import ApiKeyAddForm

    form = ApiKeyAddForm(
        {"label": "Custom", "profile": "custom", "base_url": "HTTP://Example.com/api", "secret": "x" * 20}
    )
    assert form.is_valid(), form.errors
    assert form.cleaned_data["base_url"].startswith("http://")


def test_it_refuses_a_stored_base_url_that_is_not_http_when_rotating(team, alice):
    from accounts.services import ActionRefused
    from providers.services import api_key_rotate_secret

    key = make_key(team)
    ApiKey.objects.filter(pk=key.pk).update(profile="custom", base_url="ftp://example.com")
    key.refresh_from_db()
    with pytest.raises(ActionRefused, match="http"):
        api_key_rotate_secret(
            membership=Membership.objects.get(team=team, user=alice), api_key=key, secret="new-secret-1111"
        )
    key.refresh_from_db()
    assert key.secret_last4 == "1234"


@pytest.mark.parametrize("view", ["key_add", "key_rotate"])
def test_an_error_report_never_shows_the_typed_secret(team, alice, settings, monkeypatch, view):
    from django.views.debug import ExceptionReporter
    from django.views.decorators.debug import sensitive_variables

    import providers.views

    @sensitive_variables()  # as the real services are
    def crash(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(providers.views.services, "api_key_create", crash)
    monkeypatch.setattr(providers.views.services, "api_key_rotate_secret", crash)
    settings.DEBUG = False  # reports (mails, logs) are filtered in production
    client = login(alice)
    secret = "typed-secret-777777"
    if view == "key_add":
        url = reverse("providers:key_add", args=[team.slug])
        data = {"label": "Custom", "profile": "custom", "base_url": "http://example.com", "secret": secret}
    else:
        url = reverse("providers:key_rotate", args=[team.slug, make_key(team).public_id])
        data = {"secret": secret}
    with pytest.raises(RuntimeError) as caught:
        client.post(url, data)
    tb = caught.tb
    while tb is not None and tb.tb_frame.f_code.co_name != view:  # from the view down, as a report shows it
        tb = tb.tb_next
    assert tb is not None
    frames = ExceptionReporter(None, RuntimeError, caught.value, tb).get_traceback_frames()
    assert view in [frame["function"] for frame in frames]
    assert secret not in repr([frame["vars"] for frame in frames])
