from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from chinhquyenso.core.errors import DomainError
from chinhquyenso.procedures import eforms, services
from chinhquyenso.procedures.models import (
    Field,
    Procedure,
    ProcedureAgency,
    ProcedureForm,
    ProcessStep,
    RequiredComponent,
)


class ComponentInline(admin.TabularInline):
    model = RequiredComponent
    extra = 0
    verbose_name = "thành phần hồ sơ"
    verbose_name_plural = "thành phần hồ sơ"


class StepInline(admin.TabularInline):
    model = ProcessStep
    extra = 0
    autocomplete_fields = ["agency"]
    verbose_name = "bước xử lý"
    verbose_name_plural = "quy trình xử lý"


class AssignmentInline(admin.TabularInline):
    model = ProcedureAgency
    extra = 0
    autocomplete_fields = ["agency"]
    verbose_name = "cơ quan giải quyết"
    verbose_name_plural = "cơ quan giải quyết"


class FormVersionInline(admin.TabularInline):
    """The e-form's versions, read only: a change is made on the form's own page and saved as a new version."""

    model = ProcedureForm
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = True
    fields = ["version", "title", "note", "created_at", "created_by"]
    readonly_fields = fields
    verbose_name = "phiên bản tờ khai điện tử"
    verbose_name_plural = "tờ khai điện tử (các phiên bản)"


@admin.register(Procedure)
class ProcedureAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "field", "service_level", "processing_days", "is_active"]
    list_filter = ["service_level", "field", "is_active"]
    search_fields = ["code", "name", "name_folded"]
    inlines = [ComponentInline, StepInline, AssignmentInline, FormVersionInline]

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        services.record_admin_edit(actor=request.user, procedure=form.instance, created=not change)


@admin.register(Field)
class FieldAdmin(admin.ModelAdmin):
    list_display = ["code", "name"]
    search_fields = ["name"]


class ProcedureFormForm(forms.ModelForm):
    """The schema and layout are checked (eforms.check_definition) before anything is saved."""

    class Meta:
        model = ProcedureForm
        fields = ["procedure", "title", "schema", "layout", "note"]

    def clean(self):
        cleaned = super().clean()
        procedure = cleaned.get("procedure") or (self.instance.procedure if self.instance.procedure_id else None)
        schema, layout = cleaned.get("schema"), cleaned.get("layout")
        if procedure is None or schema is None or layout is None:
            return cleaned
        names = list(procedure.components.values_list("name", flat=True))
        try:
            eforms.check_definition(schema, layout, names)
        except DomainError as error:
            target = "schema" if (error.field or "").startswith("schema") else "layout"
            raise ValidationError({target: error.message}) from None
        return cleaned


@admin.register(ProcedureForm)
class ProcedureFormAdmin(admin.ModelAdmin):
    """Catalog maintainers edit a procedure's e-form here. Saving never changes a version: it
    publishes the next one (unchanged content publishes nothing), so dossiers keep theirs."""

    form = ProcedureFormForm
    list_display = ["procedure", "title", "version", "created_at", "created_by"]
    list_select_related = ["procedure", "created_by"]
    search_fields = ["procedure__code", "procedure__name", "title"]
    autocomplete_fields = ["procedure"]
    readonly_fields = ["version", "created_at", "created_by"]

    def get_readonly_fields(self, request, obj=None):
        return [*self.readonly_fields, "procedure"] if obj else self.readonly_fields

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        procedure = obj.procedure
        published = services.publish_form(
            actor=request.user,
            procedure=procedure,
            schema=obj.schema,
            layout=obj.layout,
            title=obj.title,
            note=obj.note,
        )
        previous = obj.version if change else None
        obj.pk, obj.version, obj.created_at = published.pk, published.version, published.created_at
        obj._state.adding = False
        if previous == published.version:
            messages.info(request, "Nội dung không đổi: không ban hành phiên bản mới.")
        else:
            messages.info(
                request, f"Đã ban hành phiên bản {published.version} của tờ khai; các phiên bản cũ giữ nguyên."
            )
