"""The providers' rent webhook endpoint (the URL passed with getRentNumber)."""

from providers.webhooks import webhook_endpoint
from rentals.services import rental_webhook_receive

rental_webhook = webhook_endpoint(
    rental_webhook_receive, "An SMS received by one of the key's rented numbers."
)
