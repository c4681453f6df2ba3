"""Admin pages for rentals: read-mostly views for support (no secret is ever shown)."""

from django.contrib import admin

from rentals.models import Rental, RentalPollState, RentalRenewal, RentalSms


class RentalSmsInline(admin.TabularInline):
    model = RentalSms
    extra = 0
    fields = ("received_at", "phone_from", "text", "code", "via")
    readonly_fields = fields
    can_delete = False


class RentalRenewalInline(admin.TabularInline):
    model = RentalRenewal
    fk_name = "rental"
    extra = 0
    fields = (
        "created_at",
        "auto",
        "hours",
        "window_end",
        "price",
        "cost",
        "status",
        "new_ends_at",
        "error_code",
    )
    readonly_fields = fields
    can_delete = False


@admin.register(Rental)
class RentalAdmin(admin.ModelAdmin):
    list_display = (
        "phone",
        "service",
        "country",
        "status",
        "ends_at",
        "total_cost",
        "currency",
        "team",
        "auto_renew",
    )
    list_filter = ("status", "auto_renew", "team")
    search_fields = ("phone", "upstream_id", "public_id")
    readonly_fields = (
        "public_id",
        "upstream_id",
        "team",
        "api_key",
        "member",
        "previous",
        "created_at",
        "updated_at",
    )
    inlines = [RentalRenewalInline, RentalSmsInline]


@admin.register(RentalRenewal)
class RentalRenewalAdmin(admin.ModelAdmin):
    list_display = ("rental", "auto", "hours", "window_end", "status", "cost", "created_at")
    list_filter = ("status", "auto")
    raw_id_fields = ("rental", "new_rental")


@admin.register(RentalPollState)
class RentalPollStateAdmin(admin.ModelAdmin):
    list_display = ("api_key", "locked_until", "backoff_until", "failures", "last_polled_at", "last_error")
