"""The key's webhook URL on the key page (admins only), and a code posted to it reaching the board."""

import json

from django.core.management import call_command
from django.urls import reverse

from activations.models import Sms
from activations.services import BuyRequest, activation_buy

from .test_views import htmx, login, url


def key_page(client, team, api_key) -> str:
    return client.get(reverse("providers:key_detail", args=[team.slug, api_key.public_id])).content.decode()


def test_admins_see_the_webhook_url_others_do_not(team, alice, dave, bob, vera, make_key, settings):
    api_key, _ = make_key()
    hook = settings.SITE_URL.rstrip("/") + reverse("activations:webhook", args=[api_key.webhook_token])
    for admin in (alice, dave):
        page = key_page(login(admin), team, api_key)
        assert hook in page and "Paste this address" in page
    for other in (bob, vera):
        assert str(api_key.webhook_token) not in key_page(login(other), team, api_key)


def test_a_code_posted_by_the_provider_reaches_the_board_with_code_arrived(
    team, bob, make_key, owner, settings
):
    api_key, secret = make_key("--sms-delay", "3600")
    hook = settings.SITE_URL.rstrip("/") + reverse("activations:webhook", args=[api_key.webhook_token])
    call_command("sandbox_account", "set", secret, "--webhook-url", hook)
    activation = activation_buy(
        membership=owner, api_key=api_key, request=BuyRequest(service="tg", country=0)
    )
    client = login(bob)
    first = client.get(url("board", team), **htmx(HTTP_HX_TARGET="board"))
    token = first.content.decode().split("?v=")[1].split('"')[0]

    call_command("sandbox_account", "sms", activation.upstream_id, "Your code: 424242")

    sms = Sms.objects.get(activation=activation)
    assert sms.code and sms.via == "webhook"
    response = client.get(url("board", team), {"v": token}, **htmx(HTTP_HX_TARGET="board"))
    assert response.status_code == 200
    event = json.loads(response["HX-Trigger"])["codeArrived"]
    assert event["service"] in ("Telegram", "tg")  # its name when the catalogue is at hand
    assert event == {
        "phone": activation.phone,
        "code": sms.code,
        "service": event["service"],
        "codes": [{"phone": activation.phone, "code": sms.code, "service": event["service"]}],
    }
    assert "Your code: 424242" in response.content.decode()
