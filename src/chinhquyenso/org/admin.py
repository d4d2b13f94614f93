from django.contrib import admin

from chinhquyenso.org.models import Agency, Reorganization, Succession


@admin.register(Agency)
class AgencyAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "electronic_code", "parent", "valid_from", "valid_to"]
    list_filter = ["kind", "valid_to"]
    search_fields = ["name", "name_folded", "electronic_code"]
    readonly_fields = ["valid_to"]


class SuccessionInline(admin.TabularInline):
    model = Succession
    extra = 0
    readonly_fields = ["source", "successor", "takes_open_work"]


@admin.register(Reorganization)
class ReorganizationAdmin(admin.ModelAdmin):
    list_display = ["kind", "effective_date", "subject", "legal_basis"]
    inlines = [SuccessionInline]
