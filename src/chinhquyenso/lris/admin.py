from django import forms
from django.contrib import admin

from chinhquyenso.core.admin import ReadOnlyAdmin
from chinhquyenso.indicators.models import Indicator
from chinhquyenso.lris import services
from chinhquyenso.lris.models import FormAssignment, FormItem, Reminder, ReportForm


class FormItemForm(forms.ModelForm):
    class Meta:
        model = FormItem
        fields = ["order", "indicator", "required", "minimum", "maximum", "instructions"]

    def clean(self):
        data = super().clean()
        low, high = data.get("minimum"), data.get("maximum")
        if low is not None and high is not None and low > high:
            raise forms.ValidationError("Giá trị tối thiểu phải nhỏ hơn hoặc bằng giá trị tối đa.")
        return data


class FormItemInline(admin.TabularInline):
    model = FormItem
    form = FormItemForm
    extra = 0
    verbose_name = "chỉ tiêu"
    verbose_name_plural = "các chỉ tiêu của biểu mẫu (theo thứ tự)"

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # Only figures the agencies report belong on a form; computed ones come from the platform's data.
        if db_field.name == "indicator":
            kwargs["queryset"] = Indicator.objects.filter(source=Indicator.Source.REPORTED).order_by("code")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(ReportForm)
class ReportFormAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "period_kind", "is_active"]
    list_filter = ["period_kind", "is_active"]
    search_fields = ["code", "name"]
    fields = ["code", "name", "description", "period_kind", "agency_kinds", "is_active"]
    inlines = [FormItemInline]

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        services.record_form_edit(actor=request.user, form=form.instance, created=not change)


@admin.register(FormAssignment)
class FormAssignmentAdmin(ReadOnlyAdmin):
    """Read-only: assignments are made on the "Giao báo cáo" page, which checks the period and deadline."""

    list_display = ["form", "agency", "period_start", "period_end", "deadline", "created_at"]
    list_filter = ["form", "period_start"]
    search_fields = ["agency__name", "form__code"]


@admin.register(Reminder)
class ReminderAdmin(ReadOnlyAdmin):
    list_display = ["assignment", "kind", "sent_at", "recipients", "emails"]
    list_filter = ["kind"]
