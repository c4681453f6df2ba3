"""Django admin for gateway keys: inspected here, issued on the team's gateway page or with the command
(the key is shown once there); the digest is never shown."""

from django.contrib import admin

from gateway.models import GatewayKey


@admin.register(GatewayKey)
class GatewayKeyAdmin(admin.ModelAdmin):
    list_display = ("label", "prefix", "team", "api_key", "member", "read_only", "last_used_at", "revoked_at")
    list_filter = ("read_only",)
    search_fields = ("label", "prefix", "team__name")
    exclude = ("digest",)
    readonly_fields = (
        "public_id",
        "prefix",
        "team",
        "api_key",
        "member",
        "created_by",
        "created_at",
        "last_used_at",
    )

    def has_add_permission(self, request) -> bool:
        return False  # a key made here could never be shown to anyone
