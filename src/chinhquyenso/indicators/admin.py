"""Province administrators edit the registry here: indicators, formulas (each
change adds a version), yearly targets, 766 rules, e-government criteria.
Every save is audited."""

from django import forms
from django.contrib import admin, messages

from chinhquyenso.core import audit
from chinhquyenso.core.admin import ReadOnlyAdmin
from chinhquyenso.core.errors import DomainError
from chinhquyenso.indicators import services
from chinhquyenso.indicators.formulas import measure_names
from chinhquyenso.indicators.models import (
    EGovCriterion,
    FormulaVersion,
    Index766Group,
    Index766Rule,
    Indicator,
    ReportedValue,
    Target,
)


class AuditedAdmin(admin.ModelAdmin):
    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        audit.record(
            actor=request.user,
            action=f"indicators.{obj._meta.model_name}.{'update' if change else 'create'}",
            obj=obj,
            after={name: str(form.cleaned_data[name]) for name in form.changed_data},
        )

    def delete_model(self, request, obj):
        audit.record(actor=request.user, action=f"indicators.{obj._meta.model_name}.delete", obj=obj)
        super().delete_model(request, obj)


class FormulaInline(admin.TabularInline):
    model = FormulaVersion
    extra = 0
    can_delete = False
    fields = ["version", "valid_from", "numerator", "denominator", "missing", "scale", "note", "created_at"]
    readonly_fields = fields
    verbose_name_plural = "công thức các phiên bản (thêm phiên bản mới ở mục «Công thức»)"

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Indicator)
class IndicatorAdmin(AuditedAdmin):
    list_display = ["code", "name", "unit", "source", "group", "is_active"]
    list_filter = ["source", "group", "is_active"]
    search_fields = ["code", "name"]
    inlines = [FormulaInline]


class FormulaForm(forms.ModelForm):
    class Meta:
        model = FormulaVersion
        fields = ["indicator", "valid_from", "numerator", "denominator", "missing", "scale", "note"]
        help_texts = {"numerator": "Đại lượng dùng được: " + ", ".join(sorted(measure_names()))}

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        try:
            self.version = services.add_formula_version(
                data["indicator"],
                actor=self.actor,
                numerator=data["numerator"],
                denominator=data.get("denominator", ""),
                scale=data.get("scale"),
                valid_from=data["valid_from"],
                note=data.get("note", ""),
                missing=data.get("missing", ""),
            )
        except DomainError as error:
            raise forms.ValidationError({error.field or "numerator": error.message}) from None
        return data


@admin.register(FormulaVersion)
class FormulaVersionAdmin(admin.ModelAdmin):
    """Versions are added, never edited: past reports keep theirs."""

    form = FormulaForm
    list_display = ["indicator", "version", "valid_from", "numerator", "denominator", "created_at"]
    list_filter = ["indicator"]

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        form.actor = request.user
        return form

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        obj.pk = form.version.pk  # created (and audited) in the form's clean, through the service
        messages.info(
            request, f"Đã thêm phiên bản {form.version.version}, áp dụng từ {form.version.valid_from:%d/%m/%Y}."
        )


@admin.register(Target)
class TargetAdmin(AuditedAdmin):
    list_display = ["indicator", "year", "comparison", "value", "agency", "source"]
    list_filter = ["year"]
    autocomplete_fields = ["indicator", "agency"]


class RuleInline(admin.TabularInline):
    model = Index766Rule
    extra = 0
    fields = ["order", "code", "name", "indicator", "max_points", "method", "threshold", "steps", "source"]
    autocomplete_fields = ["indicator"]


@admin.register(Index766Group)
class Index766GroupAdmin(AuditedAdmin):
    list_display = ["order", "name", "max_points"]
    inlines = [RuleInline]


@admin.register(EGovCriterion)
class EGovCriterionAdmin(AuditedAdmin):
    list_display = ["order", "name", "indicator", "computed_indicator", "comparison", "threshold", "is_active"]
    autocomplete_fields = ["indicator", "computed_indicator"]


@admin.register(ReportedValue)
class ReportedValueAdmin(ReadOnlyAdmin):
    """Read-only: values arrive through LRIS approval."""

    list_display = ["indicator", "agency", "period_start", "period_end", "value", "numerator", "denominator", "source"]
    list_filter = ["indicator"]
