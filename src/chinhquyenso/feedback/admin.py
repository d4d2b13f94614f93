"""Province administrators edit the categories (who handles what, in how many
working days) and the communes' reference points; reports and escalations
are read-only here (they change only through the services). The messages
sent about reports are in the outbox's admin (exchange.Message)."""

from django import forms
from django.contrib import admin

from chinhquyenso.core import audit
from chinhquyenso.core.admin import ReadOnlyAdmin
from chinhquyenso.feedback.models import ApiClient, AreaPoint, Category, Escalation, Feedback


class CategoryForm(forms.ModelForm):
    class Meta:
        model = Category
        fields = "__all__"

    def clean_attributes(self):
        value = self.cleaned_data.get("attributes") or []
        if not isinstance(value, list) or any(not isinstance(a, dict) or not a.get("code") for a in value):
            raise forms.ValidationError("Thông tin bổ sung phải là danh sách JSON, mỗi mục có “code”.")
        return value


class AuditedAdmin(admin.ModelAdmin):
    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        audit.record(
            actor=request.user,
            action=f"feedback.{obj._meta.model_name}.{'update' if change else 'create'}",
            obj=obj,
            after={"fields": sorted(form.changed_data), "via": "admin"},
        )

    def delete_model(self, request, obj):
        audit.record(actor=request.user, action=f"feedback.{obj._meta.model_name}.delete", obj=obj)
        super().delete_model(request, obj)


@admin.register(Category)
class CategoryAdmin(AuditedAdmin):
    form = CategoryForm
    list_display = [
        "code",
        "name",
        "handling_level",
        "handling_kind",
        "handling_agency",
        "handling_days",
        "refusal_days",
        "info_request_days",
        "is_active",
        "order",
    ]
    list_filter = ["is_active", "handling_level"]
    search_fields = ["code", "name", "keywords"]
    autocomplete_fields = ["handling_agency"]

    def has_delete_permission(self, request, obj=None):
        return False  # reports keep their category; deactivate instead


@admin.register(AreaPoint)
class AreaPointAdmin(AuditedAdmin):
    list_display = ["agency", "latitude", "longitude"]
    search_fields = ["agency__name", "agency__code"]
    autocomplete_fields = ["agency"]


@admin.register(Feedback)
class FeedbackAdmin(ReadOnlyAdmin):
    """Reports without their reporters' contact details (only the handling
    agency and IOC operators see those, on their own pages)."""

    list_display = ["code", "category", "status", "agency", "received_at", "due_at", "on_time", "escalation_level"]
    list_filter = ["status", "category", "escalation_level", "channel"]
    search_fields = ["code"]
    exclude = [
        "reporter",
        "reporter_name",
        "reporter_phone",
        "reporter_email",
        "address",
        "latitude",
        "longitude",
        "token",
        "content_hash",
        "client_hash",
    ]


@admin.register(Escalation)
class EscalationAdmin(ReadOnlyAdmin):
    list_display = ["feedback", "level", "reason", "to_agency", "cycle", "at"]
    list_filter = ["level", "reason"]
    search_fields = ["feedback__code"]


@admin.register(ApiClient)
class ApiClientAdmin(ReadOnlyAdmin):
    """Open311 client apps. Keys are issued and revoked with `cqs open311-client`
    (the key is shown once; only its hash is kept)."""

    list_display = ["name", "contact", "key_prefix", "created_at", "revoked_at"]
    search_fields = ["name"]
