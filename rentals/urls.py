"""Rental pages under /t/<team_slug>/rentals/, and the providers' rent webhook endpoint.

Rentals are named by their public UUID and always looked up within the member's team.
"""

from django.urls import path

from rentals import views, webhooks

app_name = "rentals"

urlpatterns = [
    path("hooks/<str:webhook_token>/rent/", webhooks.rental_webhook, name="webhook"),
    path("t/<slug:team_slug>/rentals/", views.board, name="board"),
    path("t/<slug:team_slug>/rentals/rent/", views.rent, name="rent"),
    path("t/<slug:team_slug>/rentals/action/", views.rental_action, name="action"),
    path("t/<slug:team_slug>/rentals/resolve/", views.resolve, name="resolve"),
    path("t/<slug:team_slug>/rentals/history/", views.history, name="rent_history"),
    path("t/<slug:team_slug>/rentals/export.csv", views.export_rentals, name="export"),
    path("t/<slug:team_slug>/rentals/messages.csv", views.export_messages, name="export_messages"),
    path("t/<slug:team_slug>/rentals/<uuid:rental_id>/extend/", views.extend, name="extend"),
    path("t/<slug:team_slug>/rentals/<uuid:rental_id>/auto-renew/", views.auto_renew, name="auto_renew"),
]
