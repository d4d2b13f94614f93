"""Province administrators edit the reference data of documents — document types, approval flows
and their steps, registers (their abbreviation, the types they number) — audited like other
administration edits ("documents.<model>.create|update|delete"). Documents themselves change only
through documents.services, so they are read-only here, without their excerpts and texts."""

from django.contrib import admin

from chinhquyenso.core import audit
from chinhquyenso.core.admin import ReadOnlyAdmin
from chinhquyenso.documents.models import ApprovalFlow, ApprovalStep, Document, DocumentType, Register


class AuditedAdmin(admin.ModelAdmin):
    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        audit.record(
            actor=request.user,
            action=f"documents.{obj._meta.model_name}.{'update' if change else 'create'}",
            obj=obj,
            after={"fields": sorted(form.changed_data), "via": "admin"},
        )

    def delete_model(self, request, obj):
        audit.record(actor=request.user, action=f"documents.{obj._meta.model_name}.delete", obj=obj)
        super().delete_model(request, obj)


@admin.register(DocumentType)
class DocumentTypeAdmin(AuditedAdmin):
    list_display = ["code", "name", "abbreviation", "order", "active"]
    list_filter = ["active"]
    search_fields = ["code", "name", "abbreviation"]

    def has_delete_permission(self, request, obj=None):
        return False  # documents keep their type; deactivate instead


class ApprovalStepInline(admin.TabularInline):
    model = ApprovalStep
    extra = 1


@admin.register(ApprovalFlow)
class ApprovalFlowAdmin(AuditedAdmin):
    list_display = ["name", "agency", "document_type", "active"]
    list_filter = ["active"]
    search_fields = ["name", "agency__name"]
    autocomplete_fields = ["agency"]
    inlines = [ApprovalStepInline]


@admin.register(Register)
class RegisterAdmin(AuditedAdmin):
    list_display = ["name", "agency", "year", "direction", "agency_abbreviation", "active"]
    list_filter = ["direction", "year", "active"]
    search_fields = ["name", "agency__name"]
    autocomplete_fields = ["agency"]
    filter_horizontal = ["document_types"]

    def has_delete_permission(self, request, obj=None):
        return False  # numbers were given from it


@admin.register(Document)
class DocumentAdmin(ReadOnlyAdmin):
    list_display = ["symbol", "direction", "agency", "status", "issued_on", "arrival_number", "arrival_date"]
    list_filter = ["direction", "status", "urgency"]
    search_fields = ["symbol"]
    exclude = ["excerpt", "content_text", "search_text", "recall_reason", "issue_error"]
