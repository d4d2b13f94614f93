"""What the province administration sees of the master person index (/quan-tri/): the model versions
and their thresholds, the runs, the import batches, the persons (code and counts only), the decisions
and the cluster changes — all read-only: they change only through persons.services and the linking run,
which audit every change. Source records, golden records and import problems hold health data (Decree
13/2023) and are shown only by the index's own pages, which audit each view.

The two grants are given here, through a group: Quản trị → Nhóm → thêm quyền “Xem dữ liệu sức khỏe
(dữ liệu cá nhân nhạy cảm)” and, for reviewers, “Đối soát, gộp và tách bản ghi cá nhân”."""

from django.contrib import admin

from chinhquyenso.core.admin import ReadOnlyAdmin
from chinhquyenso.persons.models import ClusterChange, ImportBatch, LinkModel, LinkRun, PairDecision, Person


@admin.register(LinkModel)
class LinkModelAdmin(ReadOnlyAdmin):
    list_display = ["version", "engine", "review_weight", "link_weight", "created_by", "created_at"]
    list_filter = ["engine"]
    fields = ["version", "engine", "review_weight", "link_weight", "training", "parameters", "created_by", "created_at"]
    readonly_fields = fields


@admin.register(LinkRun)
class LinkRunAdmin(ReadOnlyAdmin):
    list_display = [
        "pk",
        "model",
        "engine",
        "status",
        "records",
        "linked_pairs",
        "review_pairs",
        "persons",
        "started_at",
    ]
    list_filter = ["status", "engine"]
    fields = [
        "model",
        "engine",
        "status",
        "records",
        "pairs",
        "linked_pairs",
        "review_pairs",
        "persons",
        "seconds",
        "message",
        "created_by",
        "started_at",
        "finished_at",
    ]
    readonly_fields = fields


@admin.register(ImportBatch)
class ImportBatchAdmin(ReadOnlyAdmin):
    list_display = ["file_name", "status", "imported", "rejected", "skipped_existing", "created_by", "created_at"]
    list_filter = ["status"]
    fields = [
        "file_name",
        "status",
        "message",
        "rows_read",
        "imported",
        "rejected",
        "skipped_existing",
        "created_by",
        "actor_label",
        "created_at",
        "finished_at",
    ]
    readonly_fields = fields


@admin.register(Person)
class PersonAdmin(ReadOnlyAdmin):
    list_display = ["code", "record_count", "active", "updated_at"]
    list_filter = ["active"]
    search_fields = ["code"]
    fields = ["code", "record_count", "active", "created_at", "updated_at"]  # not the golden record
    readonly_fields = fields


@admin.register(PairDecision)
class PairDecisionAdmin(ReadOnlyAdmin):
    # Records by their ids: a record's name in the index can be an applicant's ID number.
    list_display = ["left_record", "right_record", "decision", "match_weight", "actor", "at"]
    list_filter = ["decision"]
    fields = ["left_record", "right_record", "decision", "match_weight", "note", "actor", "at"]
    readonly_fields = fields

    @admin.display(description="mã bản ghi thứ nhất")
    def left_record(self, obj):
        return obj.left_id

    @admin.display(description="mã bản ghi thứ hai")
    def right_record(self, obj):
        return obj.right_id


@admin.register(ClusterChange)
class ClusterChangeAdmin(ReadOnlyAdmin):
    list_display = ["pk", "kind", "run", "actor", "at", "undone_by"]
    list_filter = ["kind"]
    fields = ["kind", "run", "before", "after", "note", "undone_by", "actor", "at"]
    readonly_fields = fields
