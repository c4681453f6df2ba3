"""The providers' SMS webhook endpoint for activations."""

from activations.services import webhook_receive
from providers.webhooks import webhook_endpoint

activation_webhook = webhook_endpoint(webhook_receive, "A code for one of the key's activations.")
