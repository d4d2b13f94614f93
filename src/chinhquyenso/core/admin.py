from django.apps import apps
from django.contrib import admin
from django_tasks_db.admin import DBTaskResultAdmin
from django_tasks_db.models import DBTaskResult

from chinhquyenso.core.models import AuditRecord, CalendarDay, object_kind
from chinhquyenso.core.registry import AUDIT_ACTIONS


class ReadOnlyAdmin(admin.ModelAdmin):
    """For records written only by the platform's services (audit, approved values, reminders)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    list_display = ["date", "kind", "note"]
    list_filter = ["kind"]


class ObjectKindFilter(admin.SimpleListFilter):
    title = "loại đối tượng"
    parameter_name = "object_type"

    def lookups(self, request, model_admin):
        labels = model_admin.get_queryset(request).order_by().values_list("object_type", flat=True).distinct()
        return sorted(((label, object_kind(label)) for label in labels), key=lambda choice: str(choice[1]))

    def queryset(self, request, queryset):
        return queryset.filter(object_type=self.value()) if self.value() else queryset


class CodeFilter(admin.SimpleListFilter):
    """A filter on a column of codes (audit actions, message kinds) that offers each code by the
    name its app registered (`labels`, a core.registry.CodeLabelRegistry), the code beside it."""

    labels = None

    def lookups(self, request, model_admin):
        codes = model_admin.get_queryset(request).order_by().values_list(self.parameter_name, flat=True).distinct()
        return sorted(((code, self.labels.display(code)) for code in codes), key=lambda choice: choice[1])

    def queryset(self, request, queryset):
        return queryset.filter(**{self.parameter_name: self.value()}) if self.value() else queryset


class ActionFilter(CodeFilter):
    title = "thao tác"
    parameter_name = "action"
    labels = AUDIT_ACTIONS


@admin.register(AuditRecord)
class AuditRecordAdmin(ReadOnlyAdmin):
    list_display = ["seq", "created_at", "actor_label", "action_name", "object_type_name", "object_id"]
    list_filter = [ActionFilter, ObjectKindFilter]
    fields = [
        "seq",
        "created_at",
        "actor",
        "actor_label",
        "agency_id",
        "action_name",
        "object_type_name",
        "object_id",
        "before",
        "after",
        "prev_hash",
        "hash",
    ]
    readonly_fields = ["action_name", "object_type_name"]

    @admin.display(description="thao tác", ordering="action")
    def action_name(self, record):
        return AUDIT_ACTIONS.display(record.action)

    @admin.display(description="loại đối tượng", ordering="object_type")
    def object_type_name(self, record):
        return object_kind(record.object_type)


# The task queue's page (django-tasks-db): its field names come from the
# project's catalog (src/chinhquyenso/locale), but the app's name and three
# column labels are plain English strings in the package, out of gettext's reach.
apps.get_app_config(DBTaskResult._meta.app_label).verbose_name = "Hàng đợi tác vụ nền"
# Its rows have no name of their own: the page's title, breadcrumbs and history would read
# "DBTaskResult object (<id>)". Set on the class here, the installed package left as it is.


def _task_result_name(task: DBTaskResult) -> str:
    return f"Tác vụ {task.id}"


DBTaskResult.__str__ = _task_result_name
admin.site.unregister(DBTaskResult)


@admin.register(DBTaskResult)
class TaskResultAdmin(DBTaskResultAdmin):
    def get_list_display(self, request):
        return ["task_id", *[f for f in super().get_list_display(request) if f != "id"]]

    @admin.display(description="mã tác vụ", ordering="id")
    def task_id(self, obj):
        return obj.id

    @admin.display(description="tác vụ")
    def task_name(self, obj):
        return obj.task_name

    @admin.display(description="chi tiết lỗi")
    def formatted_traceback(self, obj):
        return super().formatted_traceback(obj)

    @admin.display(description="chạy sau thời điểm")
    def display_run_after(self, obj):
        return super().display_run_after(obj)
