"""Admin for the sandbox provider: accounts and their faults, numbers, messages, webhooks, the ledger.

Activations and rentals get a "Push an SMS" page (and a bulk action that delivers a generated code).
"""

import random

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from sandbox import services
from sandbox.errors import ApiError
from sandbox.models import (
    Account,
    Activation,
    Country,
    OutgoingCall,
    Price,
    Rental,
    RentMessage,
    Service,
    Transaction,
    WebhookDelivery,
)


class PushSmsForm(forms.Form):
    text = forms.CharField(
        label="SMS text",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="The code is the first run of 4-8 digits (or 123-456) in the text.",
    )


class PushSmsMixin:
    """A per-object page that delivers an SMS typed by hand, and a bulk action with generated codes."""

    actions = ["push_generated_sms"]

    def get_urls(self):
        urls = [
            path(
                "<int:object_id>/push-sms/",
                self.admin_site.admin_view(self.push_sms_view),
                name=f"sandbox_{self.model._meta.model_name}_push_sms",
            )
        ]
        return urls + super().get_urls()

    @admin.display(description="push an SMS")
    def push_sms_link(self, obj) -> str:
        if obj is None or obj.pk is None:  # the add page: nothing to push to yet
            return "—"
        url = reverse(f"admin:sandbox_{self.model._meta.model_name}_push_sms", args=[obj.pk])
        return format_html('<a href="{}">Push an SMS…</a>', url)

    def push_sms_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        obj = get_object_or_404(self.model, pk=object_id)
        form = PushSmsForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                services.sms_push(target_id=obj.pk, text=form.cleaned_data["text"])
            except ApiError as err:
                self.message_user(request, f"Not delivered: {err.code}", messages.ERROR)
            else:
                services.deliver_webhooks()
                self.message_user(request, "SMS delivered.", messages.SUCCESS)
                return HttpResponseRedirect(
                    reverse(f"admin:sandbox_{self.model._meta.model_name}_change", args=[obj.pk])
                )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": obj,
            "form": form,
            "title": f"Push an SMS to {obj}",
        }
        return TemplateResponse(request, "admin/sandbox/push_sms.html", context)

    @admin.action(description="Deliver a generated code now")
    def push_generated_sms(self, request: HttpRequest, queryset) -> None:
        done = 0
        for obj in queryset:
            try:
                services.sms_push(target_id=obj.pk, text=f"Your code is {random.randint(100000, 999999)}")
                done += 1
            except ApiError:
                continue
        services.deliver_webhooks()
        self.message_user(request, f"Delivered {done} SMS.", messages.SUCCESS)


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ["__str__", "key_tail", "balance", "currency", "dialect", "webhook_url", "banned_until"]
    list_filter = ["dialect"]
    search_fields = ["label", "key"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "label",
                    "key",
                    "dialect",
                    "top_countries_by_slug",
                    "currency",
                    "balance",
                    "cashback",
                    "webhook_url",
                ]
            },
        ),
        (
            "Clock",
            {
                "fields": [
                    "cancel_lock_seconds",
                    "lifetime_seconds",
                    "sms_delay_min",
                    "sms_delay_max",
                    "no_code_share",
                    "rent_cancel_seconds",
                ]
            },
        ),
        (
            "Faults",
            {
                "fields": [
                    "latency_ms",
                    "timeout_rate",
                    "http5xx_rate",
                    "html_rate",
                    "error_sql_rate",
                    "truncated_json_rate",
                    "rate_limit_rate",
                    "fault_after_commit_rate",
                    "damaged_row_rate",
                    "fault_actions",
                    "banned_until",
                    "no_active_list",
                ]
            },
        ),
    ]

    @admin.display(description="key")
    def key_tail(self, obj: Account) -> str:
        return f"…{obj.key[-4:]}"


@admin.register(Activation)
class ActivationAdmin(PushSmsMixin, admin.ModelAdmin):
    list_display = [
        "id",
        "account",
        "service",
        "country",
        "phone",
        "status",
        "cost",
        "created_at",
        "push_sms_link",
    ]
    list_filter = ["status", "kind", "service", "country"]
    search_fields = ["=id", "phone"]
    raw_id_fields = ["account", "parent"]
    readonly_fields = ["push_sms_link"]


class RentMessageInline(admin.TabularInline):
    model = RentMessage
    extra = 0


@admin.register(Rental)
class RentalAdmin(PushSmsMixin, admin.ModelAdmin):
    list_display = [
        "id",
        "account",
        "service",
        "country",
        "phone",
        "status",
        "started_at",
        "ends_at",
        "push_sms_link",
    ]
    list_filter = ["status", "service", "country"]
    search_fields = ["=id", "phone"]
    raw_id_fields = ["account", "renewed_from"]
    readonly_fields = ["push_sms_link"]
    inlines = [RentMessageInline]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ["id", "url", "attempts", "next_attempt_at", "delivered_at", "failed_at", "last_error"]
    list_filter = ["delivered_at", "failed_at"]


@admin.register(Transaction)
class TransactionAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "account",
        "kind",
        "amount",
        "balance_after",
        "activation_id",
        "rental_id",
        "created_at",
    ]
    list_filter = ["kind"]


@admin.register(Country)
class CountryAdmin(admin.ModelAdmin):
    list_display = ["id", "eng", "rus", "phone_code", "visible", "retry", "rent", "multi_service"]


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "rent_only"]


@admin.register(Price)
class PriceAdmin(admin.ModelAdmin):
    list_display = ["country", "service", "forward", "verification", "base_cost", "base_count"]
    list_filter = ["forward", "verification", "service"]
    list_editable = ["base_cost", "base_count"]


admin.site.register(OutgoingCall)
