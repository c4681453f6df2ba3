"""Activation pages under /t/<team_slug>/activations/, and the providers' webhook endpoint."""

from django.urls import path

from activations import webhooks

app_name = "activations"

urlpatterns = [
    path("hooks/<str:webhook_token>/sms/", webhooks.activation_webhook, name="webhook"),
]
