"""Prices, catalog, balance and spend pages and their data, under /t/<team_slug>/prices/."""

from django.urls import path

from prices import views

app_name = "prices"

urlpatterns = [
    path("t/<slug:team_slug>/prices/", views.overview, name="overview"),
    path("t/<slug:team_slug>/prices/history/", views.history, name="over_time"),
    path("t/<slug:team_slug>/prices/compare/", views.compare, name="compare"),
    path("t/<slug:team_slug>/prices/money/", views.money, name="money"),
    path("t/<slug:team_slug>/prices/catalog/", views.catalog, name="catalog"),
    path("t/<slug:team_slug>/prices/catalog/refresh/", views.catalog_refresh, name="catalog_refresh"),
    path("t/<slug:team_slug>/prices/snapshot/", views.snapshot_now, name="snapshot_now"),
    path("t/<slug:team_slug>/prices/settings/", views.settings_update, name="settings"),
    path("t/<slug:team_slug>/prices/alerts/", views.alert_add, name="alert_add"),
    path("t/<slug:team_slug>/prices/alerts/remove/", views.alert_remove, name="alert_remove"),
    # Chart data: JSON for the charts, CSV of the same tables.
    path("t/<slug:team_slug>/prices/data/history.json", views.history_json, name="history_json"),
    path("t/<slug:team_slug>/prices/data/history.csv", views.history_csv, name="history_csv"),
    path("t/<slug:team_slug>/prices/data/cheapest.json", views.cheapest_json, name="cheapest_json"),
    path("t/<slug:team_slug>/prices/data/cheapest.csv", views.cheapest_csv, name="cheapest_csv"),
    path("t/<slug:team_slug>/prices/data/compare.json", views.compare_json, name="compare_json"),
    path("t/<slug:team_slug>/prices/data/compare.csv", views.compare_csv, name="compare_csv"),
    path("t/<slug:team_slug>/prices/data/balance.json", views.balance_json, name="balance_json"),
    path("t/<slug:team_slug>/prices/data/balance.csv", views.balance_csv, name="balance_csv"),
    path("t/<slug:team_slug>/prices/data/spend.json", views.spend_json, name="spend_json"),
    path("t/<slug:team_slug>/prices/data/spend.csv", views.spend_csv, name="spend_csv"),
]
