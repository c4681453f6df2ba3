"""Activation pages under /t/<team_slug>/activations/, and the providers' webhook endpoint.

Object ids (activations, presets) travel in POST data or the query string and are looked up
within the member's team, never by id alone.
"""

from django.urls import path

from activations import views, webhooks

app_name = "activations"

urlpatterns = [
    path("hooks/<str:webhook_token>/sms/", webhooks.activation_webhook, name="webhook"),
    path("t/<slug:team_slug>/activations/", views.board, name="board"),
    path("t/<slug:team_slug>/activations/buy/", views.buy, name="buy"),
    path("t/<slug:team_slug>/activations/buy/offer/", views.buy_offer, name="buy_offer"),
    path("t/<slug:team_slug>/activations/buy/multi/", views.buy_multi, name="buy_multi"),
    path("t/<slug:team_slug>/activations/action/", views.activation_action, name="action"),
    path("t/<slug:team_slug>/activations/bulk/", views.activation_bulk, name="bulk"),
    path("t/<slug:team_slug>/activations/resolve/", views.resolve, name="resolve"),
    path("t/<slug:team_slug>/activations/calls/", views.call_panel, name="calls"),
    path("t/<slug:team_slug>/activations/calls/new/", views.call_create, name="call_create"),
    path("t/<slug:team_slug>/activations/extra/", views.extra_check, name="extra_check"),
    path("t/<slug:team_slug>/activations/extra/buy/", views.extra_buy, name="extra_buy"),
    path("t/<slug:team_slug>/activations/additional/", views.additional_buy, name="additional_buy"),
    path("t/<slug:team_slug>/activations/history/", views.history, name="history"),
    path("t/<slug:team_slug>/activations/history.csv", views.history_csv, name="history_csv"),
    path("t/<slug:team_slug>/ledger.csv", views.ledger_csv, name="ledger_csv"),
    path("t/<slug:team_slug>/activations/presets/save/", views.preset_save, name="preset_save"),
    path("t/<slug:team_slug>/activations/presets/check/", views.preset_check, name="preset_check"),
    path("t/<slug:team_slug>/activations/presets/buy/", views.preset_buy, name="preset_buy"),
    path("t/<slug:team_slug>/activations/buy/balance/", views.key_balance, name="key_balance"),
    path("t/<slug:team_slug>/activations/presets/delete/", views.preset_delete, name="preset_delete"),
]
