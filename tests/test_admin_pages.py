"""Every admin changelist and add page opens for a superuser (the sandbox's models included)."""

import pytest
from django.contrib import admin
from django.urls import reverse


@pytest.mark.parametrize(
    "model", list(admin.site._registry), ids=lambda m: f"{m._meta.app_label}.{m._meta.model_name}"
)
def test_the_admin_pages_of_every_model_open(admin_client, admin_user, rf, model):
    meta = model._meta
    assert (
        admin_client.get(reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")).status_code == 200
    )
    request = rf.get("/")
    request.user = admin_user
    if admin.site._registry[model].has_add_permission(request):
        assert admin_client.get(reverse(f"admin:{meta.app_label}_{meta.model_name}_add")).status_code == 200
