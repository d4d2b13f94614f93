from django.contrib import admin

from chinhquyenso.procedures import services
from chinhquyenso.procedures.models import Field, Procedure, ProcedureAgency, ProcessStep, RequiredComponent


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


@admin.register(Procedure)
class ProcedureAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "field", "service_level", "processing_days", "is_active"]
    list_filter = ["service_level", "field", "is_active"]
    search_fields = ["code", "name", "name_folded"]
    inlines = [ComponentInline, StepInline, AssignmentInline]

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        services.record_admin_edit(actor=request.user, procedure=form.instance, created=not change)


@admin.register(Field)
class FieldAdmin(admin.ModelAdmin):
    list_display = ["code", "name"]
    search_fields = ["name"]
