"""Django admin for every model. API key secrets are never shown: only the masked last four characters."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.utils.translation import gettext_lazy as _

from accounts.models import ApiKey, AuditEntry, Invite, LedgerEntry, Membership, Team, User
from kit.phrases import phrase_text


@admin.register(User)
class SimdeskUserAdmin(UserAdmin):
    readonly_fields = ("public_id",)
    fieldsets = (*UserAdmin.fieldsets, (_("Preferences"), {"fields": ("language", "time_zone")}))


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    fields = ("user", "role", "daily_spend_limit", "created_at")
    raw_id_fields = ("user",)


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "time_zone", "created_at")
    search_fields = ("name", "slug")
    readonly_fields = ("public_id",)
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "team", "role", "daily_spend_limit", "created_at")
    list_filter = ("role",)
    search_fields = ("user__username", "team__name")
    raw_id_fields = ("user", "team")
    readonly_fields = ("public_id",)


@admin.register(Invite)
class InviteAdmin(admin.ModelAdmin):
    list_display = ("team", "role", "email", "created_by", "created_at", "expires_at", "used_at", "used_by")
    list_filter = ("role",)
    search_fields = ("team__name", "email")
    # Only a hash of the token is stored; the link itself cannot be recovered from it.
    exclude = ("token_hash",)
    readonly_fields = ("public_id", "team", "created_by", "created_at", "used_at", "used_by")

    def has_add_permission(self, request) -> bool:
        return False  # invites are made on the team's members page, which shows the link once


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Keys are added through the team's key page (checked upstream first); here they can be inspected."""

    list_display = ("label", "team", "profile", "masked_secret", "status", "health", "balance", "currency")
    list_filter = ("status", "health", "profile")
    search_fields = ("label", "team__name")
    exclude = ("secret_encrypted", "webhook_token")
    readonly_fields = (
        "public_id",
        "team",
        "profile",
        "base_url",
        "masked_secret",
        "health",
        "health_said",
        "banned_until",
        "health_checked_at",
        "balance",
        "cashback",
        "currency",
        "balance_updated_at",
        "created_at",
    )
    filter_horizontal = ("allowed_members",)

    @admin.display(description="API key")
    def masked_secret(self, obj: ApiKey) -> str:
        return obj.masked

    @admin.display(description=_("Health message"))
    def health_said(self, obj: ApiKey) -> str:
        """The stored health message in the admin's language (`kit.phrases`)."""
        return phrase_text(obj.health_message)

    def has_add_permission(self, request) -> bool:
        return False

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is not None and "allowed_members" in form.base_fields:
            # Grants can only name members of the key's own team.
            form.base_fields["allowed_members"].queryset = Membership.objects.filter(
                team=obj.team
            ).select_related("user", "team")
        return form

    def get_search_results(self, request, queryset, search_term):
        return super().get_search_results(request, queryset.defer("secret_encrypted"), search_term)


class ReadOnlyAdmin(admin.ModelAdmin):
    """History is append-only: visible, never edited by hand."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "team", "actor", "action", "api_key", "amount", "currency", "said")
    list_filter = ("action",)
    search_fields = ("summary", "team__name", "actor__username")
    date_hierarchy = "created_at"
    list_select_related = ("team", "actor", "api_key")

    @admin.display(description=_("Summary"))
    def said(self, entry: AuditEntry) -> str:
        """The summary in the admin's language, as the team's log says it (`kit.phrases`)."""
        return phrase_text(entry.summary_phrase)


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "team", "api_key", "member", "kind", "amount", "currency", "reference")
    list_filter = ("kind", "currency")
    search_fields = ("reference", "team__name", "member__username")
    date_hierarchy = "created_at"
    list_select_related = ("team", "api_key", "member")
