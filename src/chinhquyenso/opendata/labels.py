"""The Vietnamese names of the audit actions the open-data app records (core.registry.AUDIT_ACTIONS):
a dataset's step is "opendata.<action>"; an edit in the administration "opendata.<model>.<create|update|delete>"."""

from django.apps import apps

from chinhquyenso.core.registry import CodeLabels, admin_edit_labels

# A dataset's steps (opendata.services; DatasetVersion.action is the part after "opendata.").
DATASET_ACTIONS: dict[str, str] = {
    "opendata.create": "Tạo bộ dữ liệu mở",
    "opendata.update": "Sửa thông tin bộ dữ liệu mở",
    "opendata.submit": "Trình lãnh đạo duyệt công bố bộ dữ liệu",
    "opendata.approve": "Duyệt công bố bộ dữ liệu mở",
    "opendata.return": "Trả lại bộ dữ liệu để sửa",
    "opendata.withdraw": "Rút bộ dữ liệu khỏi cổng dữ liệu mở",
    "opendata.add_resource": "Thêm tài nguyên vào bộ dữ liệu",
    "opendata.update_resource": "Sửa tài nguyên của bộ dữ liệu",
    # Written before update_resource took its place; versions recorded then keep this action.
    "opendata.replace_resource": "Thay tệp của tài nguyên dữ liệu",
    "opendata.delete_resource": "Xóa tài nguyên khỏi bộ dữ liệu",
    "opendata.generate": "Cập nhật dữ liệu sinh tự động từ hệ thống",
    "opendata.publish_generated": "Công bố bộ dữ liệu sinh tự động",
}


def version_label(action: str) -> str:
    """The Vietnamese name of a version's action (DatasetVersion.action), for the history pages."""
    return DATASET_ACTIONS.get(f"opendata.{action}", action)


# The administration's edits of the vocabularies and keywords (opendata.admin).
ADMIN_EDITS: dict[str, str] = admin_edit_labels("opendata", apps.get_app_config("opendata").get_models())

AUDIT_ACTIONS = CodeLabels(exact={**DATASET_ACTIONS, **ADMIN_EDITS})
