"""The Vietnamese names of the audit actions this app records (core.registry.AUDIT_ACTIONS):
an edit in the administration is recorded as "indicators.<model>.<create|update|delete>"."""

from django.apps import apps

from chinhquyenso.core.registry import CodeLabels, admin_edit_labels

AUDIT_ACTIONS = CodeLabels(
    exact={
        "indicators.registry.load": "Nạp danh mục chỉ tiêu",
        "indicators.formula.add": "Thêm phiên bản công thức chỉ tiêu",
        "indicators.reported_value.create": "Nhập số liệu báo cáo của chỉ tiêu",
        "indicators.reported_value.update": "Sửa số liệu báo cáo của chỉ tiêu",
        **admin_edit_labels("indicators", apps.get_app_config("indicators").get_models()),
    }
)
