"""The pest surveillance app in the administration.

The catalog (crops, organisms, trap classes, thresholds, seasons) and the stations are data the
plant-protection department edits: the province administrator and holders of `pests.manage_pest_catalog`
add and change them here (every edit audited as pests.<model>.create|update|delete). Trap messages,
refused messages, surveys, alerts, bulletins, subscriptions and identifications change only through the
services: read-only here, except the review of a flagged trap message (an action, audited as
pests.message.review) and issuing a trap's secret (an action that shows it once, never stored)."""

from django.contrib import admin, messages
from django.template.response import TemplateResponse

from chinhquyenso.core import audit
from chinhquyenso.core.admin import ReadOnlyAdmin
from chinhquyenso.core.errors import DomainError
from chinhquyenso.pests import access
from chinhquyenso.pests.models import (
    Alert,
    Bulletin,
    Crop,
    Identification,
    IdentificationPhoto,
    IngestProblem,
    Organism,
    Season,
    Station,
    Subscription,
    Survey,
    SurveyObservation,
    Threshold,
    TrapClass,
    TrapCount,
    TrapMessage,
)


def _catalog_manager(request) -> bool:
    return access.can_manage_catalog(request.user)


class CatalogAdmin(admin.ModelAdmin):
    """Editable by the department (pests.manage_pest_catalog) and the province administrator."""

    def has_module_permission(self, request):
        return _catalog_manager(request) or super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return _catalog_manager(request) or super().has_view_permission(request, obj)

    def has_add_permission(self, request):
        return _catalog_manager(request) or super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        return _catalog_manager(request) or super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False  # referenced by counts, surveys and alerts: set "đang dùng"/"đang hoạt động" off instead

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        audit.record(
            actor=request.user,
            action=f"pests.{obj._meta.model_name}.{'update' if change else 'create'}",
            obj=obj,
            after={"fields": sorted(form.changed_data), "via": "admin"},
        )


class ServiceRecordAdmin(ReadOnlyAdmin):
    """Written by the services only; the department reads them here."""

    def has_module_permission(self, request):
        return _catalog_manager(request) or super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return _catalog_manager(request) or super().has_view_permission(request, obj)


@admin.register(Crop)
class CropAdmin(CatalogAdmin):
    list_display = ["code", "name"]
    search_fields = ["code", "name"]


@admin.register(Organism)
class OrganismAdmin(CatalogAdmin):
    list_display = ["name", "scientific_name", "kind", "is_natural_enemy", "active"]
    list_filter = ["kind", "is_natural_enemy", "active"]
    search_fields = ["code", "name", "name_folded", "other_names", "scientific_name"]
    filter_horizontal = ["crops"]


@admin.register(TrapClass)
class TrapClassAdmin(CatalogAdmin):
    list_display = ["code", "name", "organism", "max_per_night"]
    list_filter = ["organism__is_natural_enemy"]
    search_fields = ["code", "name"]
    autocomplete_fields = ["organism"]


@admin.register(Threshold)
class ThresholdAdmin(CatalogAdmin):
    list_display = ["organism", "crop", "stage", "measure", "warn_level", "action_level", "source"]
    list_filter = ["measure", "crop", "organism"]
    search_fields = ["organism__name", "source"]
    autocomplete_fields = ["organism"]


@admin.register(Season)
class SeasonAdmin(CatalogAdmin):
    list_display = ["code", "kind", "year", "starts_on", "ends_on"]
    list_filter = ["kind", "year"]


@admin.action(description="Cấp (lại) mã bí mật cho bẫy đèn thông minh đã chọn — hiện một lần")
def issue_secrets(modeladmin, request, queryset):
    from chinhquyenso.pests.services.stations import issue_credentials

    issued, refused = [], []
    for station in queryset.order_by("code"):
        try:
            issued.append((station, issue_credentials(station, actor=request.user)))
        except DomainError as error:
            refused.append((station, error.message))
    # Shown in this answer only (not through the messages framework, which stores them until shown).
    response = TemplateResponse(
        request,
        "pests/catalog/admin_credentials.html",
        {
            **modeladmin.admin_site.each_context(request),
            "issued": issued,
            "refused": refused,
            "title": "Mã bí mật của bẫy đèn",
        },
    )
    response["Cache-Control"] = "no-store"
    return response


@admin.register(Station)
class StationAdmin(CatalogAdmin):
    list_display = ["code", "name", "kind", "commune", "crop", "sown_on", "active", "last_message_at", "silent_since"]
    list_filter = ["kind", "active", "crop", "season"]
    search_fields = ["code", "name", "device_id"]
    readonly_fields = ["device_id", "last_message_at", "silent_since", "created_at"]
    actions = [issue_secrets]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # Plain lists, not the agencies' autocomplete: the department's editors do not administer org.
        from chinhquyenso.org.models import Agency, AgencyKind

        if db_field.name == "commune":
            kwargs["queryset"] = Agency.objects.current().filter(kind=AgencyKind.COMMUNE_COMMITTEE).order_by("name")
        elif db_field.name == "agency":
            kwargs["queryset"] = Agency.objects.current().order_by("name")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.action(description="Chấp nhận tin nhắn nghi ngờ đã chọn (số liệu được tính)")
def accept_messages(modeladmin, request, queryset):
    _review(request, queryset, accept=True)


@admin.action(description="Loại tin nhắn nghi ngờ đã chọn (giữ lại, không tính)")
def reject_messages(modeladmin, request, queryset):
    _review(request, queryset, accept=False)


def _review(request, queryset, *, accept: bool):
    from chinhquyenso.pests.services.ingest import review

    done = 0
    for message in queryset.filter(status=TrapMessage.Status.FLAGGED):
        review(message, accept=accept, actor=request.user)
        done += 1
    messages.info(request, f"Đã xem xét {done} tin nhắn nghi ngờ.")


class TrapCountInline(admin.TabularInline):
    model = TrapCount
    fields = ["trap_class", "count", "night", "accepted"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(TrapMessage)
class TrapMessageAdmin(ServiceRecordAdmin):
    list_display = ["station", "message_id", "window_start", "received_at", "transport", "status"]
    list_filter = ["status", "transport"]
    search_fields = ["message_id", "station__code", "station__device_id"]
    date_hierarchy = "window_start"
    inlines = [TrapCountInline]
    actions = [accept_messages, reject_messages]

    def has_change_permission(self, request, obj=None):
        # The review actions need it; the form itself stays read-only (every field listed below).
        return access.can_survey(request.user) or _catalog_manager(request)

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]


@admin.register(IngestProblem)
class IngestProblemAdmin(ServiceRecordAdmin):
    list_display = ["received_at", "transport", "device_id", "message_id", "reason"]
    list_filter = ["transport"]
    search_fields = ["device_id", "message_id"]


class ObservationInline(admin.TabularInline):
    model = SurveyObservation
    extra = 0
    can_delete = False
    readonly_fields = ["organism", "density_per_m2", "infestation_pct", "stage_of_pest"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Survey)
class SurveyAdmin(ServiceRecordAdmin):
    list_display = ["surveyed_on", "commune", "crop", "stage", "officer"]
    list_filter = ["stage", "crop"]
    date_hierarchy = "surveyed_on"
    inlines = [ObservationInline]


@admin.register(Alert)
class AlertAdmin(ServiceRecordAdmin):
    list_display = ["organism", "commune", "level", "value", "period_start", "period_end", "status", "created_at"]
    list_filter = ["level", "status", "organism"]


@admin.register(Bulletin)
class BulletinAdmin(ServiceRecordAdmin):
    list_display = ["number", "area", "week_start", "week_end", "created_at"]


@admin.register(Subscription)
class SubscriptionAdmin(ServiceRecordAdmin):
    """Without the address (a phone number or messaging id: personal data)."""

    list_display = ["commune", "channel", "active", "created_at", "ended_at"]
    list_filter = ["channel", "active"]
    exclude = ["address", "unsubscribe_token"]


class PhotoInline(admin.TabularInline):
    model = IdentificationPhoto
    extra = 0
    can_delete = False
    fields = ["file", "top", "label", "label_none", "labelled_by", "labelled_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Identification)
class IdentificationAdmin(ServiceRecordAdmin):
    list_display = ["public_id", "status", "answer", "confidence", "model_version", "created_at"]
    list_filter = ["status", "sent_to_expert"]
    exclude = ["farmer"]
    inlines = [PhotoInline]


@admin.register(IdentificationPhoto)
class IdentificationPhotoAdmin(ServiceRecordAdmin):
    list_display = ["identification", "label", "label_none", "labelled_at"]
