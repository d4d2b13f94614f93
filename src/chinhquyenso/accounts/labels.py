"""The Vietnamese names of the audit actions this app records (core.registry.AUDIT_ACTIONS)."""

from chinhquyenso.core.registry import CodeLabels

AUDIT_ACTIONS = CodeLabels(
    exact={
        "user.create": "Tạo tài khoản",
        "user.update": "Sửa tài khoản",
        "user.login_failed": "Đăng nhập sai",
        "user.login_unlocked": "Mở khóa đăng nhập",
        "membership.grant": "Giao vai trò tại cơ quan",
        "api_token.issue": "Cấp khóa truy cập API",
    }
)
