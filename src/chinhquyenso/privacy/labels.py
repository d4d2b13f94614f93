"""The Vietnamese names of the audit actions this app records (core.registry.AUDIT_ACTIONS)."""

from chinhquyenso.core.registry import CodeLabels

AUDIT_ACTIONS = CodeLabels(
    exact={
        "privacy.export": "Cung cấp dữ liệu cá nhân cho chủ thể dữ liệu",
        "privacy.rectify": "Chỉnh sửa dữ liệu cá nhân theo yêu cầu",
        "privacy.erase": "Xóa dữ liệu cá nhân theo yêu cầu",
    }
)
