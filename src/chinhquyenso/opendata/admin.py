"""Province administrators edit the open-data vocabularies — licences, themes (lĩnh vực), keywords —
audited like other administration edits ("opendata.<model>.create|update|delete"). Datasets and
their resources change only through opendata.services (versions, approval), so they are read-only
here."""

from django import forms
from django.contrib import admin

from chinhquyenso.core import audit
from chinhquyenso.core.admin import ReadOnlyAdmin
from chinhquyenso.opendata.models import Dataset, DatasetVersion, Licence, Resource, Tag, Theme


class AuditedAdmin(admin.ModelAdmin):
    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        audit.record(
            actor=request.user,
            action=f"opendata.{obj._meta.model_name}.{'update' if change else 'create'}",
            obj=obj,
            after={"fields": sorted(form.changed_data), "via": "admin"},
        )

    def delete_model(self, request, obj):
        audit.record(actor=request.user, action=f"opendata.{obj._meta.model_name}.delete", obj=obj)
        super().delete_model(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False  # datasets keep their licence, themes and keywords; edit the name instead


class LicenceForm(forms.ModelForm):
    class Meta:
        model = Licence
        fields = "__all__"

    def _get_validation_exclusions(self):
        # Ticking "mặc định" on another licence is how the province changes its default: the admin clears
        # the previous one when saving (LicenceAdmin.save_model), so the one-default index is not a form
        # error here; the database still refuses two defaults written any other way.
        return super()._get_validation_exclusions() | {"is_default"}


@admin.register(Licence)
class LicenceAdmin(AuditedAdmin):
    """The province's licences; exactly one is the default new datasets take."""

    form = LicenceForm
    list_display = ["code", "title", "is_default", "open"]
    list_filter = ["is_default", "open"]
    search_fields = ["code", "title"]

    def save_model(self, request, obj, form, change):
        # The admin's change view runs in one transaction: the previous default is cleared (and audited)
        # together with this save, or not at all.
        if obj.is_default:
            previous = Licence.objects.select_for_update().filter(is_default=True).exclude(pk=obj.pk)
            for licence in previous:
                Licence.objects.filter(pk=licence.pk).update(is_default=False)
                audit.record(
                    actor=request.user,
                    action="opendata.licence.update",
                    obj=licence,
                    after={"fields": ["is_default"], "via": "admin", "default": obj.code},
                )
        super().save_model(request, obj, form, change)


@admin.register(Theme)
class ThemeAdmin(AuditedAdmin):
    list_display = ["code", "name", "eu_theme", "order"]
    search_fields = ["code", "name"]


@admin.register(Tag)
class TagAdmin(AuditedAdmin):
    list_display = ["name", "folded"]
    search_fields = ["name", "folded"]
    readonly_fields = ["folded"]

    def save_model(self, request, obj, form, change):
        from chinhquyenso.core.text import fold

        obj.folded = fold(obj.name)
        super().save_model(request, obj, form, change)


class ResourceInline(admin.TabularInline):
    model = Resource
    fields = ["name", "format", "file", "generated_key", "row_count", "modified_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Dataset)
class DatasetAdmin(ReadOnlyAdmin):
    list_display = ["name", "title", "agency", "status", "published_at", "data_updated_at", "revision"]
    list_filter = ["status", "frequency", "licence", "themes"]
    search_fields = ["name", "title"]
    exclude = ["search_text", "contact_email", "contact_name"]
    inlines = [ResourceInline]


@admin.register(DatasetVersion)
class DatasetVersionAdmin(ReadOnlyAdmin):
    list_display = ["dataset", "number", "action", "status", "at"]
    list_filter = ["action", "status"]
    search_fields = ["dataset__name"]
